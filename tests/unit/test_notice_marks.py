"""The † marks of a notice: each on the statement an assumption stands behind, and only there."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from schema.document import RopaDocument
from schema.notice.assumptions import MARK, assumptions, mark
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


def _marked(lines: list[str], start: str) -> bool:
    (line,) = [line for line in lines if line.removeprefix("- ").startswith(start)]
    return line.endswith(f" {MARK}")


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
    assert not _marked(lines, "Article 6(1)(c) (Legal obligation), because")
    # In the pupils' notice the basis is named only in the legal details, and marked there.
    pupils = _lines(RopaDocument.model_validate(data), Audience.PUPILS)
    assert _marked(pupils, "Article 6(1)(e) (Public task), because")
