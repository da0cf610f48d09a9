"""The † marks of a notice: each on the statement an assumption stands behind, and only there."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from schema.document import RopaDocument
from schema.notice.assumptions import MARK, assumptions, mark, to_markdown
from schema.notice.compose import compose
from schema.notice.model import Audience
from schema.notice.render import NoticeFormat, render
from tests.support.examples import school_record

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "allestree-woodlands.yaml"
DAY = dt.date(2026, 12, 1)


@pytest.fixture(scope="module")
def example() -> RopaDocument:
    # The school's record: its register with the one School Transition Limited keeps.
    return school_record()


def _lines(doc: RopaDocument, audience: Audience = Audience.PARENTS) -> list[str]:
    notice = mark(compose(doc, None, audience, DAY), assumptions(doc, None, audience, DAY))
    return render(notice, NoticeFormat.MARKDOWN).splitlines()


def _line(lines: list[str], start: str) -> str:
    (line,) = [line for line in lines if line.removeprefix("- ").startswith(start)]
    return line


def _marked(lines: list[str], start: str) -> bool:
    return MARK in _line(lines, start)


def test_a_flows_assumption_marks_that_flows_statement_not_its_recipient(
    example: RopaDocument,
) -> None:
    lines = _lines(example)
    # census-to-dfe and assessment-to-dfe hold assumptions; the DfE itself holds none.
    assert _marked(lines, "School census - statutory data collection")
    assert _marked(lines, "Statutory assessment data collections")
    assert not _marked(lines, "### Department for Education")


def test_an_organisations_assumption_marks_what_says_who_it_is_not_every_line_naming_it(
    example: RopaDocument,
) -> None:
    lines = _lines(example)
    # "the police" is assumed to be Derbyshire Constabulary: its heading rests on that, the
    # safeguarding disclosure to it (which holds no assumption of its own) does not.
    assert _marked(lines, "### Derbyshire Constabulary")
    assert not _marked(lines, "Protect children at risk of harm")
    # School Transition Limited's list of sub-processors is assumed to be whole.
    assert _marked(lines, "School Transition Limited uses these sub-processors")


def test_a_line_gets_no_mark_for_merely_naming_an_assumed_organisation(
    example: RopaDocument,
) -> None:
    data: dict[str, Any] = copy.deepcopy(example.model_dump(mode="json", by_alias=True))
    police = next(f for f in data["flows"] if f["id"] == "safeguarding-to-police")
    police["purpose"] = "Shared as Derby City Council's safeguarding partners ask"
    doc = RopaDocument.model_validate(data)
    lines = _lines(doc)
    # Derby City Council holds assumptions; a statement about the police that names it does
    # not rest on them.
    assert "Derby City Council" in next(line for line in lines if "safeguarding partners" in line)
    assert not _marked(lines, "Shared as Derby City Council's safeguarding partners ask")
    assert _marked(lines, "### Derby City Council")


def test_a_basis_assumption_marks_its_line_of_the_lawful_reasons(example: RopaDocument) -> None:
    data: dict[str, Any] = copy.deepcopy(example.model_dump(mode="json", by_alias=True))
    basis = next(b for b in data["legal_bases"] if b["id"] == "art6-1-e")
    basis["assumptions"] = ["Public task is assumed for the school's own processing"]
    lines = _lines(RopaDocument.model_validate(data))
    assert _marked(lines, "Article 6(1)(e) (Public task), because")
    # The other bases' lines are as they were (their uses' own marks only).
    other = "Article 6(1)(c) (Legal obligation), because"
    assert _line(lines, other) == _line(_lines(example), other)
    # In the pupils' notice the basis is named only in the legal details, and marked there.
    pupils = _lines(RopaDocument.model_validate(data), Audience.PUPILS)
    assert _marked(pupils, "Article 6(1)(e) (Public task), because")


def _edited(example: RopaDocument, kind: str, entity: str, **fields: Any) -> RopaDocument:
    data: dict[str, Any] = copy.deepcopy(example.model_dump(mode="json", by_alias=True))
    next(e for e in data[kind] if e["id"] == entity).update(fields)
    return RopaDocument.model_validate(data)


def test_an_assumption_about_a_field_marks_where_that_field_is_printed_only(
    example: RopaDocument,
) -> None:
    lines = _lines(example)
    # post16-to-provider assumes its retention (and, as a whole, who the controller is).
    portal = _line(lines, "Give the post-16 institution all relevant student information")
    assert f"once enrolment is confirmed {MARK}. Lawful basis:" in portal
    assert portal.endswith(f" {MARK}")
    # Each engagement assumes its location: the mark follows the location, in the line.
    link = _line(lines, "Link ICT Services Limited: Further processing")
    assert f"location: United Kingdom {MARK};" in link
    # census-to-dfe's assumption is about its legal bases: a mark follows each of them (the
    # last ends the line), none its categories or its system.
    census = _line(lines, "School census - statutory data collection")
    assert f"Regulations 2013 {MARK}; Article 9(2)(g)" in census
    assert census.endswith(f" {MARK}")
    assert census.count(MARK) == 2


def test_an_activity_assumption_about_its_retention_marks_its_retention_not_its_purpose(
    example: RopaDocument,
) -> None:
    doc = _edited(
        example,
        "activities",
        "cctv-photos",
        assumptions=[{"about": "retention", "text": "The 30-day CCTV retention is assumed"}],
        systems=[],
    )
    lines = _lines(doc)
    assert not _marked(lines, "CCTV, photographs and video recordings: CCTV for the safety")
    assert _line(lines, "CCTV, photographs and video recordings: CCTV overwritten").endswith(
        f" {MARK}"
    )
    # The same assumption about the whole activity marks what it does instead.
    whole = _edited(
        example,
        "activities",
        "cctv-photos",
        assumptions=["The 30-day CCTV retention is assumed"],
        systems=[],
    )
    lines = _lines(whole)
    assert _marked(lines, "CCTV, photographs and video recordings: CCTV for the safety")
    assert not _marked(lines, "CCTV, photographs and video recordings: CCTV overwritten")


def test_the_dpo_list_names_the_field_and_says_when_the_notice_does_not_print_it(
    example: RopaDocument,
) -> None:
    found = assumptions(example, None, Audience.PARENTS, DAY)
    listed = to_markdown(found, "Notice", DAY)
    assert (
        "- CCTV, photographs and video recordings (retention): The 30-day CCTV retention" in listed
    )
    # The notice says nothing of the DPIA: the assumption about it marks nothing.
    assert "(dpia) (not printed in the notice): DPIA status not stated" in listed
    dpia = next(a for a in found if a.about == "dpia" and "CCTV" in a.assumption)
    assert not dpia.marks()
