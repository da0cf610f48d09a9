""" "Valid on day D" has two halves, Cypher (graph.read.validity) and Python
(schema.compliance.validity): both must agree, day by day, on the same recurring fixtures."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from graph import from_document, register
from graph.database import Database
from graph.read import activities, engagements, lineage, recorded
from schema.compliance.validity import engagement_in_force, in_force
from schema.document import RopaDocument
from schema.graphql.records import ActivityFilter, DisclosureFilter, RecipientsQuestion
from schema.validation import load_document
from tests.support.examples import apply_school_record

pytestmark = pytest.mark.neo4j

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "allestree-woodlands.yaml"
FIXTURE = (
    Path(__file__).resolve().parents[1] / "fixtures" / "recurrence" / "recurring-register.yaml"
)


def _ids(doc: RopaDocument, day: dt.date) -> tuple[set[str], set[str], set[str]]:
    now = in_force(doc, day)
    return (
        {a.id for a in now.activities},
        {f.id for f in now.flows},
        # subProcessors lists a processor's engagements whatever their activity's dates.
        {e.id for e in doc.engagements if engagement_in_force(e, day)},
    )


def _days(doc: RopaDocument) -> list[dt.date]:
    """Every day on which what Python finds in force changes, the day before it, and the
    15th of every third month: the edges of every occurrence and a sweep between them."""
    day, end = dt.date(2021, 12, 1), dt.date(2027, 3, 31)
    days: set[dt.date] = set()
    before = _ids(doc, day)
    while day <= end:
        now = _ids(doc, day)
        if now != before:
            days.update({day, day - dt.timedelta(days=1)})
        if day.day == 15 and day.month % 3 == 0:
            days.add(day)
        before = now
        day += dt.timedelta(days=1)
    return sorted(days)


async def test_cypher_and_python_agree_on_every_edge_of_every_occurrence(db: Database) -> None:
    doc = load_document(FIXTURE)
    await register.apply(db, doc.register_info.id, from_document.entities(doc), "tester")
    days = _days(doc)
    assert len(days) > 150  # the fixture's occurrences really do start and end

    async def graph(day: dt.date) -> tuple[set[str], set[str], set[str]]:
        found = await asyncio.gather(
            activities.find_activities(db, ActivityFilter(day)),
            activities.find_disclosures(db, DisclosureFilter(day)),
            engagements.in_force(db, "portal-co", day),
        )
        return tuple({x.id for x in xs} for xs in found)  # type: ignore[return-value]

    disagree = []
    for start in range(0, len(days), 20):
        batch = days[start : start + 20]
        for day, found in zip(batch, await asyncio.gather(*map(graph, batch)), strict=True):
            if found != _ids(doc, day):
                disagree.append((day.isoformat(), found, _ids(doc, day)))
    assert disagree == []


def test_the_fixture_recurs_as_described() -> None:
    doc = load_document(FIXTURE)
    yearly = {
        day: "yearly" in _ids(doc, dt.date.fromisoformat(day))[0]
        for day in ("2022-02-13", "2022-02-14", "2022-03-27", "2022-03-28", "2026-02-14")
    }
    # Six weeks from each 14 February: the 28th of March is the first day after.
    assert yearly == {
        "2022-02-13": False,
        "2022-02-14": True,
        "2022-03-27": True,
        "2022-03-28": False,
        "2026-02-14": True,
    }
    # Monthly from 31 January: 29 February (2024 is a leap year), then 31 March; ends in 2024.
    monthly = [d for d in ("2024-02-28", "2024-02-29", "2024-03-09", "2024-03-31", "2025-01-31")]
    assert [("monthly" in _ids(doc, dt.date.fromisoformat(d))[0]) for d in monthly] == [
        False,
        True,
        True,
        True,
        False,
    ]
    # The engagement's series ends on 2026-03-31, in the middle of its 2026 occurrence.
    assert "portal-hosting" in _ids(doc, dt.date(2026, 3, 31))[2]
    assert "portal-hosting" not in _ids(doc, dt.date(2026, 4, 1))[2]


async def test_a_record_read_back_answers_lineage_as_the_statements_do(db: Database) -> None:
    """graph.read.recorded (the record as recorded at a moment) and graph.read.lineage (the
    Cypher statements) give the same recipients, paths and hops on the same record."""
    await apply_school_record(db)
    doc = load_document(FIXTURE)
    await register.apply(db, doc.register_info.id, from_document.entities(doc), "tester")
    record = await recorded.record_at(db, None, dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    days = [dt.date(2022, 1, 1), dt.date(2022, 6, 1), dt.date(2024, 3, 1), dt.date(2026, 12, 1)]
    for category in ("safeguarding", "attendance", "pupil-data", "medical"):
        for day in days:
            for controller in (None, "allestree-woodlands"):
                question = RecipientsQuestion(category, day, controller)
                graph = await lineage.trace(db, question)
                python = recorded.trace(record, question)
                assert python.recipients == graph.recipients, (category, day, controller)
