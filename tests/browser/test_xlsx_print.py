"""The ICO record XLSX laid out in a real office suite: LibreOffice Calc, headless.

Calc opens the workbook, prints it to PDF, and says how tall each row must be for its wrapped
text (tests/browser/libreoffice_layout.py, run by Debian's python3 for LibreOffice's `uno`;
`.ci/run` installs libreoffice-calc-nogui and python3-uno when missing).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from graph.neo4j_server import free_port
from schema.ropa_export.columns import CONTROLLER_SECTIONS
from schema.ropa_export.records import build_export
from schema.ropa_export.xlsx import CONTROLLER_SHEET, PROCESSOR_SHEET, to_xlsx
from tests.support.examples import school_record

LAYOUT = Path(__file__).resolve().parent / "libreoffice_layout.py"
SYSTEM_PYTHON = Path("/usr/bin/python3")
DAY = dt.date(2022, 6, 1)
# Calc's heights are in 1/100 mm; allow for rounding of points to it.
TOLERANCE = 5


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example's record on DAY as the export writes it."""
    path = tmp_path_factory.mktemp("xlsx") / "ropa.xlsx"
    path.write_bytes(to_xlsx(build_export(school_record(), DAY)))
    return path


@pytest.fixture(scope="module")
def layout(workbook: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What Calc made of the workbook: its PDF and the row heights it needs."""
    if shutil.which("soffice") is None:
        pytest.fail("LibreOffice is missing: apt-get install -y libreoffice-calc-nogui")
    work = tmp_path_factory.mktemp("libreoffice")
    pdf = work / "ropa.pdf"
    done = subprocess.run(
        [
            str(SYSTEM_PYTHON),
            str(LAYOUT),
            str(workbook),
            str(pdf),
            str(free_port()),
            str(work / "profile"),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def test_it_prints_one_page_per_record(layout: dict[str, Any]) -> None:
    pdf = Path(layout["pdf"]).read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    # Landscape A3, fitted to one page wide: the example's 14 activities and its processor
    # record each fit on one page (it used to print as 22 portrait pages).
    assert pages == 2


def test_every_row_is_as_tall_as_its_wrapped_text_needs(layout: dict[str, Any]) -> None:
    sheets = layout["sheets"]
    assert set(sheets) == {CONTROLLER_SHEET, PROCESSOR_SHEET}
    for name, rows in sheets.items():
        short = [(row, given, needed) for row, given, needed in rows if given + TOLERANCE < needed]
        assert not short, f"{name}: rows too short for their text (row, has, needs): {short}"
        # ... and not absurdly taller than that.
        assert all(given <= 2.5 * max(needed, 1) for _, given, needed in rows), rows


def test_the_layout_is_the_templates(workbook: Path) -> None:
    book = load_workbook(io.BytesIO(workbook.read_bytes()))
    sheet = book[CONTROLLER_SHEET]
    titles = sheet.print_title_rows
    assert titles is not None
    first, last = (int(n) for n in re.findall(r"\d+", titles))
    assert last == first + 1
    assert [sheet.cell(first, 1).value] == [CONTROLLER_SECTIONS[0][0]]
    assert sheet.cell(last, 1).value == "Business function"
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert f"A{first}:K{first}" in merged
    assert sheet.auto_filter.ref is not None
    assert sheet.auto_filter.ref.startswith(f"A{last}:")
    assert sheet.freeze_panes == f"B{last + 1}"
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.fitToWidth == 1
    assert sheet.page_setup.fitToHeight == 0
    widths = {sheet.column_dimensions[c].width for c in "ABCDEFGHIJ"}
    assert len(widths) > 1, "columns are as wide as their content, not all alike"
    assert all(cell.alignment.wrap_text for cell in sheet[last + 1])
