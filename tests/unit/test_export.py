"""The exported record of the example: ICO headings, one row per activity, Article 30 filled."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from schema.document import RopaDocument
from schema.errors import NotFound
from schema.ropa_export.columns import (
    ARTICLE_30_REQUIRED,
    CONTROLLER_COLUMNS,
    DETAILS_COLUMNS,
    PROCESSOR_COLUMNS,
)
from schema.ropa_export.formats import ExportFormat, render
from schema.ropa_export.records import RopaExport, build_export
from schema.ropa_export.xlsx import CONTROLLER_SHEET, PROCESSOR_SHEET
from tests.support.examples import school_record

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "allestree-woodlands.yaml"
DURING_POST16 = dt.date(2022, 3, 1)
AFTER_POST16 = dt.date(2024, 6, 1)
BEFORE_POST16 = dt.date(2022, 1, 1)
SUB_PROCESSORS = {"Link ICT Services Limited", "School Development Support Agency"}


@pytest.fixture(scope="module")
def doc() -> RopaDocument:
    """The school's record: its register with the one School Transition Limited keeps."""
    return school_record()


@pytest.fixture(scope="module")
def export(doc: RopaDocument) -> RopaExport:
    return build_export(doc, DURING_POST16)


def _activity_count(doc: RopaDocument, day: dt.date) -> int:
    return sum(
        1
        for a in doc.activities
        if (a.valid_from is None or a.valid_from <= day)
        and (a.valid_until is None or day <= a.valid_until)
    )


def _table_after(rows: list[list[str]], heading: tuple[str, ...]) -> list[list[str]]:
    """The rows under `heading`, up to the next empty row."""
    start = rows.index(list(heading)) + 1
    out = []
    for row in rows[start:]:
        if not any(row):
            break
        out.append(row)
    return out


def _assert_article_30_filled(table: list[dict[str, str]]) -> None:
    missing = [
        (row["Business function"], column)
        for row in table
        for column in ARTICLE_30_REQUIRED
        if not (row[column] or "").strip()
    ]
    assert missing == []


def test_the_controller_columns_are_the_ico_templates() -> None:
    assert len(CONTROLLER_COLUMNS) == 31
    assert CONTROLLER_COLUMNS[-1] == PROCESSOR_COLUMNS[-1] == "Assumptions"
    assert CONTROLLER_COLUMNS[0] == "Business function"
    assert CONTROLLER_COLUMNS[12] == "Article 9 condition for processing special category data"
    assert CONTROLLER_COLUMNS[-2] == "Reasons for not adhering to policy document (if applicable)"
    assert set(ARTICLE_30_REQUIRED) <= set(CONTROLLER_COLUMNS)


def test_csv_has_the_details_block_and_one_row_per_activity(
    doc: RopaDocument, export: RopaExport
) -> None:
    text = render(export, ExportFormat.ICO_CSV).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert "Allestree Woodlands School" in rows[0][0]
    assert "2022-03-01" in rows[0][0]
    details = _table_after(rows, DETAILS_COLUMNS)
    assert [r[0] for r in details] == ["Controller", "Data Protection Officer", "Representative"]
    assert "a.greaves@woodlands.derby.sch.uk" in details[0]
    table = _table_after(rows, CONTROLLER_COLUMNS)
    assert len(table) == _activity_count(doc, DURING_POST16) == 14
    assert all(len(row) == len(CONTROLLER_COLUMNS) for row in table)
    _assert_article_30_filled([dict(zip(CONTROLLER_COLUMNS, r, strict=True)) for r in table])
    processors = _table_after(rows, PROCESSOR_COLUMNS)
    assert len(processors) == len(export.processor_rows)


def test_xlsx_opens_with_both_records(doc: RopaDocument, export: RopaExport) -> None:
    book = load_workbook(io.BytesIO(render(export, ExportFormat.ICO_XLSX)))
    assert book.sheetnames == [CONTROLLER_SHEET, PROCESSOR_SHEET]
    sheet = book[CONTROLLER_SHEET]
    rows = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    assert rows[2][:4] == [
        "Controller",
        export.details[0][1],
        "Allestree, Derby",
        export.details[0][3],
    ]
    table = _table_after(rows, CONTROLLER_COLUMNS)
    assert len(table) == 14
    as_dicts = [dict(zip(CONTROLLER_COLUMNS, r, strict=True)) for r in table]
    _assert_article_30_filled(as_dicts)
    post16 = next(r for r in as_dicts if r["Business function"].startswith("Post-16"))
    assert (
        "urn:allestree-woodlands:contract:school-transition-limited:2022"
        in (post16["Link to contract with processor"])
    )
    assert post16["Data Protection Impact Assessment required?"] == "Yes"
    assert "Article 9(2)(g)" in post16["Article 9 condition for processing special category data"]
    assert (
        "Sch 1 Pt 2 para 18"
        in (post16["Data Protection Act 2018 Schedule 1 Condition for processing"])
    )

    processor_rows = [
        ["" if v is None else str(v) for v in row]
        for row in book[PROCESSOR_SHEET].iter_rows(values_only=True)
    ]
    processors = _table_after(processor_rows, PROCESSOR_COLUMNS)
    names = {r[0].split(",")[0] for r in processors}
    assert SUB_PROCESSORS | {"School Transition Limited", "Derby City Council"} <= names
    link_ict = next(r for r in processors if r[0].startswith("Link ICT"))
    assert link_ict[6] == "School Transition Limited"
    assert link_ict[3].startswith("Allestree Woodlands School")


def test_json_has_both_tables_keyed_by_heading(doc: RopaDocument, export: RopaExport) -> None:
    body = json.loads(render(export, ExportFormat.JSON))
    assert body["asOf"] == "2022-03-01"
    assert body["controller"] == "allestree-woodlands"
    assert body["details"]["Controller"]["Email"] == "a.greaves@woodlands.derby.sch.uk"
    assert body["controllerRecord"]["columns"] == list(CONTROLLER_COLUMNS)
    assert len(body["controllerRecord"]["rows"]) == 14
    _assert_article_30_filled(body["controllerRecord"]["rows"])
    assert body["processorRecord"]["columns"] == list(PROCESSOR_COLUMNS)


def test_as_of_keeps_only_what_applied_that_day(doc: RopaDocument) -> None:
    # The post-16 transfer first ran from 14 February 2022; before that it is not in the record.
    earlier = build_export(doc, BEFORE_POST16)
    assert len(earlier.controller_rows) == _activity_count(doc, BEFORE_POST16) == 13
    assert not any(r[0].startswith("Post-16") for r in earlier.controller_rows)
    assert not {r[0].split(",")[0] for r in earlier.processor_rows} & SUB_PROCESSORS
    # It recurs every year: on 2026-12-01 it is there again, with its sub-processors.
    again = build_export(doc, dt.date(2026, 12, 1))
    (post16,) = [r for r in again.controller_rows if r[0].startswith("Post-16")]
    retention = post16[CONTROLLER_COLUMNS.index("Retention schedule (if possible)")]
    assert "Recurs every year from 2022-02-14, for 1 year each time." in retention
    assert {r[0].split(",")[0] for r in again.processor_rows} >= SUB_PROCESSORS
    before = build_export(doc, dt.date(2018, 1, 1))
    assert before.controller_rows == []


def test_an_unknown_controller_is_not_found(doc: RopaDocument) -> None:
    with pytest.raises(NotFound):
        build_export(doc, DURING_POST16, controller="no-such-school")


def test_formats_by_name_and_extension() -> None:
    assert ExportFormat("ico-xlsx").extension == "xlsx"
    assert ExportFormat.from_extension("csv") is ExportFormat.ICO_CSV
    assert ExportFormat.JSON.media_type == "application/json"
    with pytest.raises(ValueError, match="unknown export format"):
        ExportFormat.from_extension("pdf")


def test_each_row_says_what_it_assumes(export: RopaExport) -> None:
    rows = {r[0]: dict(zip(CONTROLLER_COLUMNS, r, strict=True)) for r in export.controller_rows}
    post16 = rows["Post-16 transition (Transition Portal)"]["Assumptions"]
    # The activity's own assumptions, its placeholders, then its disclosures', each named.
    assert "The contract reference is a placeholder" in post16
    assert "placeholder: school-transition-limited's contract" in post16
    assert "disclosure 'post16-to-provider': The school is the controller disclosing" in post16
    subs = [dict(zip(PROCESSOR_COLUMNS, r, strict=True)) for r in export.processor_rows]
    link = next(r for r in subs if r[PROCESSOR_COLUMNS[0]].startswith("Link ICT"))
    assert "which categories each sub-processor handles" in link["Assumptions"]


def test_each_assumption_in_a_row_says_which_field_it_concerns(export: RopaExport) -> None:
    rows = {r[0]: dict(zip(CONTROLLER_COLUMNS, r, strict=True)) for r in export.controller_rows}
    post16 = rows["Post-16 transition (Transition Portal)"]["Assumptions"]
    # The activity's own, about one field; a disclosure's, named and about its field.
    assert "about legal bases: Public task is assumed as the Article 6 basis" in post16
    assert "disclosure 'post16-to-provider', about retention: Retention in the portal" in post16
    # One about the whole entity names no field.
    assert "; Safeguarding information in the portal is limited" in post16
    subs = [dict(zip(PROCESSOR_COLUMNS, r, strict=True)) for r in export.processor_rows]
    link = next(r for r in subs if r[PROCESSOR_COLUMNS[0]].startswith("Link ICT"))
    assert "about location: Location United Kingdom is assumed" in link["Assumptions"]
