"""The notice is written from the graph: change the register and the notice changes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from graph import from_document, register, to_document
from graph.database import Database
from schema.notice.compose import compose
from schema.notice.model import Audience
from schema.notice.render import NoticeFormat, render
from schema.recorded_at import end_of_day
from schema.validation import parse_document

pytestmark = pytest.mark.neo4j

SMALL = Path(__file__).resolve().parents[1] / "fixtures" / "small-register.yaml"

NEW_FLOW = """
  - id: census-to-la
    activity: census
    from: test-school
    to: test-la
    data_categories: [attendance]
    legal_bases: [art6-1-c]
    purpose: Attendance returns to the local authority
    valid_from: 2020-01-01
"""


async def _apply(db: Database, text: str, when: dt.datetime | None = None) -> None:
    doc = parse_document(text)
    entities = from_document.entities(doc)
    await register.apply(db, doc.register_info.id, entities, "tester", occurred_at=when)


async def _notice(db: Database, as_of: dt.date | None = None) -> str:
    recorded_at = end_of_day(as_of) if as_of else None
    doc = await to_document.controller_document(db, "test-school", recorded_at)
    day = as_of or dt.datetime.now(dt.UTC).date()
    return render(compose(doc, "test-school", Audience.PUPILS, day), NoticeFormat.MARKDOWN)


async def test_changing_the_register_changes_the_notice(db: Database) -> None:
    v1 = SMALL.read_text(encoding="utf-8")
    await _apply(db, v1, dt.datetime.now(dt.UTC) - dt.timedelta(days=7))
    before = await _notice(db)
    assert "### Department for Education" in before
    assert "Test Local Authority" not in before

    v2 = v1.replace("name: Department for Education", "name: DfE (England)")
    v2 = v2.replace(
        "  - id: portal-co\n",
        "  - id: test-la\n    name: Test Local Authority\n    kind: local-authority\n"
        "  - id: portal-co\n",
    )
    v2 = v2.replace("  - id: to-portal\n", NEW_FLOW.lstrip("\n") + "  - id: to-portal\n")
    await _apply(db, v2)
    after = await _notice(db)
    assert "### DfE (England)" in after
    assert "Department for Education" not in after
    assert "### Test Local Authority" in after
    assert "Attendance returns to the local authority: Attendance information." in after

    # As of yesterday, the graph's history gives the notice as it was.
    yesterday = await _notice(db, dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1))
    assert "### Department for Education" in yesterday
    assert "Test Local Authority" not in yesterday
