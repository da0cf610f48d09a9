"""Write an exported record as an XLSX workbook laid out like the ICO's template, to print.

Each sheet has a title, the template's section header row above its headings, the headings,
then one row per record. Columns are as wide as their content needs (within bounds), text
wraps, and each row is as tall as its most wrapped cell. On paper: landscape, A3, fitted to one
page wide, with the section and heading rows repeated on every page; on screen: an autofilter
on the headings and frozen panes below them.
"""

from __future__ import annotations

import io
import math

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from schema.ropa_export.columns import (
    CONTROLLER_SECTIONS,
    DETAILS_COLUMNS,
    PROCESSOR_SECTIONS,
)
from schema.ropa_export.records import RopaExport

CONTROLLER_SHEET = "Controller record"
PROCESSOR_SHEET = "Processor record (Art 30(2))"

_BOLD = Font(bold=True)
_SECTION_FONT = Font(bold=True, color="FFFFFF")
_SECTION_FILL = PatternFill("solid", fgColor="1F4E79")
_HEADING_FILL = PatternFill("solid", fgColor="C6E0B4")
_WRAP = Alignment(wrap_text=True, vertical="top")
_CENTRE = Alignment(wrap_text=True, vertical="center", horizontal="center")
_THIN = Side(style="thin", color="A6A6A6")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)

# Column widths (in characters of the default font) and the height of one line of 11 pt text.
_MIN_WIDTH, _MAX_WIDTH = 14.0, 48.0
_LINE_POINTS = 13.5
# Wrapped text fits fewer characters per line than the width: proportional glyphs, and words
# that do not split. The estimate errs towards taller rows (the print test checks it).
_FILL = 1.0
A3 = 8


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


def _width(heading: str, values: list[str]) -> float:
    """A column as wide as its longest line needs, between the bounds; a long text wraps."""
    longest = max([len(heading) / 2, *(len(line) for v in values for line in v.split("\n"))])
    return max(_MIN_WIDTH, min(_MAX_WIDTH, longest / 2.5 + 8))


def lines(text: str, width: float) -> int:
    """How many lines `text` wraps to in a column `width` characters wide."""
    per_line = max(1, math.floor(width * _FILL))
    total = 0
    for paragraph in text.split("\n"):
        count, used = 1, 0
        for word in paragraph.split():
            size = len(word)
            if used and used + 1 + size > per_line:
                count, used = count + 1, 0
            used = (used + 1 + size) if used else size
            while used > per_line:
                count, used = count + 1, used - per_line
        total += count
    return max(1, total)


def _fit_row(sheet: Worksheet, row: int, widths: list[float], bold: bool = False) -> None:
    texts = [str(c.value or "") for c in sheet[row]]
    needed = max(
        (lines(t, w * (0.9 if bold else 1.0)) for t, w in zip(texts, widths, strict=False)),
        default=1,
    )
    sheet.row_dimensions[row].height = needed * _LINE_POINTS + 4


def _sections(sheet: Worksheet, sections: tuple[tuple[str, int], ...]) -> int:
    """The section header row, each section merged over its columns; its row number."""
    _append(sheet, [])
    row = sheet.max_row + 1
    column = 1
    for title, span in sections:
        cell = sheet.cell(row, column, title)
        cell.data_type = "s"
        cell.font, cell.fill, cell.alignment = _SECTION_FONT, _SECTION_FILL, _CENTRE
        if span > 1:
            sheet.merge_cells(
                start_row=row, start_column=column, end_row=row, end_column=column + span - 1
            )
        column += span
    return row


def _table(
    sheet: Worksheet,
    sections: tuple[tuple[str, int], ...],
    columns: tuple[str, ...],
    rows: list[list[str]],
) -> tuple[int, int]:
    """Section row, heading row and the rows, laid out to print; (section row, heading row)."""
    section = _sections(sheet, sections)
    _append(sheet, list(columns))
    heading = sheet.max_row
    widths = [_width(name, [r[i] for r in rows if i < len(r)]) for i, name in enumerate(columns)]
    for number, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(number)].width = width
    for cell in sheet[heading]:
        cell.font, cell.fill, cell.alignment, cell.border = _BOLD, _HEADING_FILL, _WRAP, _BORDER
    _fit_row(sheet, heading, widths, bold=True)
    sheet.row_dimensions[section].height = 2 * _LINE_POINTS + 4
    for values in rows:
        _append(sheet, values)
        for cell in sheet[sheet.max_row]:
            cell.alignment, cell.border = _WRAP, _BORDER
        _fit_row(sheet, sheet.max_row, widths)
    last = get_column_letter(len(columns))
    sheet.auto_filter.ref = f"A{heading}:{last}{max(heading, sheet.max_row)}"
    sheet.freeze_panes = f"B{heading + 1}"
    sheet.print_title_rows = f"{section}:{heading}"
    _print_setup(sheet)
    return section, heading


def _print_setup(sheet: Worksheet) -> None:
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = A3
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_options.gridLines = False
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.page_margins.top = sheet.page_margins.bottom = 0.5
    footer = sheet.oddFooter
    if footer is not None:
        footer.center.text = "&A: page &P of &N"


def _title(sheet: Worksheet, text: str) -> None:
    _append(sheet, [text])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.row_dimensions[1].height = 22


def to_xlsx(export: RopaExport) -> bytes:
    """Sheet 1: title, details block, activities; sheet 2: the processor record."""
    book = Workbook()
    controller = book.active
    if controller is None:  # a new workbook always has one sheet; satisfy the type
        controller = book.create_sheet()
    controller.title = CONTROLLER_SHEET
    _title(controller, export.title)
    _append(controller, list(DETAILS_COLUMNS))
    for cell in controller[controller.max_row]:
        cell.font = _BOLD
    for row in export.details:
        _append(controller, row)
        controller.cell(controller.max_row, 1).font = _BOLD
        for cell in controller[controller.max_row]:
            cell.alignment = _WRAP
    _table(controller, CONTROLLER_SECTIONS, export.controller_columns, export.controller_rows)
    for number in range(2, 3 + len(export.details)):
        widths = [
            controller.column_dimensions[get_column_letter(i)].width or _MIN_WIDTH
            for i in range(1, len(DETAILS_COLUMNS) + 1)
        ]
        _fit_row(controller, number, widths)

    processors = book.create_sheet(PROCESSOR_SHEET)
    _title(processors, f"Processor record (UK GDPR Article 30(2)), as at {export.as_of}")
    _table(processors, PROCESSOR_SECTIONS, export.processor_columns, export.processor_rows)

    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
