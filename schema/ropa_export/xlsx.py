"""Write an exported record as an XLSX workbook laid out like the ICO's template."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from schema.ropa_export.columns import DETAILS_COLUMNS
from schema.ropa_export.records import RopaExport

CONTROLLER_SHEET = "Controller record"
PROCESSOR_SHEET = "Processor record (Art 30(2))"

_BOLD = Font(bold=True)
_HEADING_FILL = PatternFill("solid", fgColor="C6E0B4")
_WRAP = Alignment(wrap_text=True, vertical="top")


def _append(sheet: Worksheet, values: list[str]) -> None:
    """Append a row whose cells are text, always.

    openpyxl types a value that begins with `=` as a formula; a register's text is never one
    (a sub-processor named `=HYPERLINK(...)` must not become a live link): see
    schema.ropa_export.cells.
    """
    sheet.append(values)
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def _table(sheet: Worksheet, columns: tuple[str, ...], rows: list[list[str]]) -> int:
    """Append a heading row and the rows; return the heading's row number."""
    _append(sheet, list(columns))
    heading = sheet.max_row
    for cell in sheet[heading]:
        cell.font = _BOLD
        cell.fill = _HEADING_FILL
        cell.alignment = _WRAP
    for row in rows:
        _append(sheet, row)
        for cell in sheet[sheet.max_row]:
            cell.alignment = _WRAP
    for number in range(1, len(columns) + 1):
        sheet.column_dimensions[get_column_letter(number)].width = 32
    return heading


def to_xlsx(export: RopaExport) -> bytes:
    """Sheet 1: title, details block, activities; sheet 2: the processor record."""
    book = Workbook()
    controller = book.active
    if controller is None:  # a new workbook always has one sheet; satisfy the type
        controller = book.create_sheet()
    controller.title = CONTROLLER_SHEET
    _append(controller, [export.title])
    controller["A1"].font = Font(bold=True, size=14)
    _append(controller, list(DETAILS_COLUMNS))
    for cell in controller[controller.max_row]:
        cell.font = _BOLD
    for row in export.details:
        _append(controller, row)
        controller.cell(controller.max_row, 1).font = _BOLD
    controller.append([])
    heading = _table(controller, export.controller_columns, export.controller_rows)
    controller.freeze_panes = controller.cell(heading + 1, 2)

    processors = book.create_sheet(PROCESSOR_SHEET)
    _append(processors, [f"Processor record (UK GDPR Article 30(2)), as at {export.as_of}"])
    processors["A1"].font = Font(bold=True, size=14)
    heading = _table(processors, export.processor_columns, export.processor_rows)
    processors.freeze_panes = processors.cell(heading + 1, 2)

    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
