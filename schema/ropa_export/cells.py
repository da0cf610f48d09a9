"""Spreadsheet cells that stay text: no value in an export is ever run as a formula.

A register's names and descriptions come from its authors (and, through the API, from
whoever may change it), and a spreadsheet program runs a CSV cell that begins with `=`, `+`,
`-` or `@` as a formula (`=HYPERLINK(...)`, DDE). OWASP's CSV injection guidance: prefix such
cells, and those beginning with a tab or carriage return, with a single quote, which the
program shows as text and does not display. XLSX cells carry their type, so there each value
is written as a string cell instead (schema.ropa_export.xlsx), and keeps its exact text.
"""

from __future__ import annotations

from collections.abc import Iterable

# OWASP's list, with line feed and the full-width forms that some programs also accept.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def csv_cell(value: str) -> str:
    """`value`, prefixed with a single quote if a spreadsheet could read it as a formula."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def csv_row(values: Iterable[str]) -> list[str]:
    """A row of cells, each made safe with `csv_cell`."""
    return [csv_cell(value) for value in values]
