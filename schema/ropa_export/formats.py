"""Write an exported record as CSV or JSON, and pick a writer by format name."""

from __future__ import annotations

import csv
import io
import json
from enum import StrEnum
from typing import Any

from schema.ropa_export.cells import csv_row
from schema.ropa_export.columns import DETAILS_COLUMNS
from schema.ropa_export.records import RopaExport

CONTROLLER_SECTION = "Controller record (UK GDPR Article 30(1))"
PROCESSOR_SECTION = "Processor record (UK GDPR Article 30(2))"


class ExportFormat(StrEnum):
    """The formats of `ropa export --format` and of `/export/ropa.{csv,xlsx,json}`."""

    ICO_CSV = "ico-csv"
    ICO_XLSX = "ico-xlsx"
    JSON = "json"

    @property
    def extension(self) -> str:
        """The file extension: csv, xlsx or json."""
        return {"ico-csv": "csv", "ico-xlsx": "xlsx", "json": "json"}[self.value]

    @property
    def media_type(self) -> str:
        """The MIME type of the written bytes."""
        return {
            "ico-csv": "text/csv; charset=utf-8",
            "ico-xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "json": "application/json",
        }[self.value]

    @classmethod
    def from_extension(cls, extension: str) -> ExportFormat:
        """csv, xlsx or json to the format; ValueError otherwise."""
        for fmt in cls:
            if fmt.extension == extension:
                return fmt
        raise ValueError(f"unknown export format '{extension}' (expected csv, xlsx or json)")


def to_csv(export: RopaExport) -> bytes:
    """The record laid out as the ICO template is: details block, then each table.

    Sections are separated by an empty row; each table starts with its heading row. A cell
    a spreadsheet could run as a formula is prefixed with a quote (schema.ropa_export.cells).
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")

    def rows(values: list[list[str]]) -> None:
        writer.writerows(csv_row(row) for row in values)

    writer.writerow(csv_row([export.title]))
    writer.writerow(DETAILS_COLUMNS)
    rows(export.details)
    writer.writerow([])
    writer.writerow([CONTROLLER_SECTION])
    writer.writerow(export.controller_columns)
    rows(export.controller_rows)
    writer.writerow([])
    writer.writerow([PROCESSOR_SECTION])
    writer.writerow(export.processor_columns)
    rows(export.processor_rows)
    # A byte order mark lets spreadsheet programs read the UTF-8 text as such.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _table(columns: tuple[str, ...], rows: list[list[str]]) -> dict[str, Any]:
    return {
        "columns": list(columns),
        "rows": [dict(zip(columns, row, strict=True)) for row in rows],
    }


def to_json(export: RopaExport) -> bytes:
    """The record as JSON: details by role, and each table as rows keyed by column heading."""
    details = {
        row[0]: dict(zip(DETAILS_COLUMNS[1:], row[1:], strict=True)) for row in export.details
    }
    body = {
        "title": export.title,
        "controller": export.controller_id,
        "asOf": export.as_of.isoformat(),
        "details": details,
        "controllerRecord": _table(export.controller_columns, export.controller_rows),
        "processorRecord": _table(export.processor_columns, export.processor_rows),
    }
    return json.dumps(body, indent=2, ensure_ascii=False).encode("utf-8")


def render(export: RopaExport, fmt: ExportFormat) -> bytes:
    """The record in `fmt`."""
    if fmt is ExportFormat.ICO_CSV:
        return to_csv(export)
    if fmt is ExportFormat.JSON:
        return to_json(export)
    from schema.ropa_export.xlsx import to_xlsx

    return to_xlsx(export)
