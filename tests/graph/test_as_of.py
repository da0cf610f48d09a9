"""The register as recorded at the end of a past day: the change history rolled back."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from graph import from_document, register, to_document
from graph.database import Database
from schema.document import RopaDocument
from schema.recorded_at import end_of_day
from schema.validation import parse_document

pytestmark = pytest.mark.neo4j

SMALL = Path(__file__).resolve().parents[1] / "fixtures" / "small-register.yaml"


def _at(day: str, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=dt.UTC)


def normalised(doc: RopaDocument) -> Any:
    def sort(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: sort(v) for k, v in value.items()}
        if isinstance(value, list):
            return sorted((sort(v) for v in value), key=repr)
        return value

    return sort(doc.model_dump(mode="json", by_alias=True))


async def _apply(db: Database, doc: RopaDocument, when: dt.datetime) -> None:
    await register.apply(
        db, doc.register_info.id, from_document.entities(doc), "tester", occurred_at=when
    )


V1 = SMALL.read_text(encoding="utf-8")
# v2: a changed value, a new organisation, a changed link, and a removed disclosure.
V2 = (
    V1.replace("retention: Until the pupil is 25", "retention: Until the pupil is 30")
    .replace(
        "  - id: hosting-co\n    name: Hosting Co Ltd\n    kind: company\n",
        "  - id: hosting-co\n    name: Hosting Co Ltd\n    kind: company\n"
        "  - id: new-co\n    name: New Co\n",
    )
    .replace("    sub_processor: hosting-co", "    sub_processor: new-co")
)
_CENSUS_FLOW = V2[V2.index("  - id: census-to-dfe") : V2.index("  - id: to-portal")]
V2 = V2.replace(_CENSUS_FLOW, "")
# v3: the engagement is gone and the portal company renamed.
V3 = V2[: V2.index("engagements:")].replace("name: Portal Co Ltd", "name: Portal Company Ltd")


@pytest.fixture
async def history(db: Database) -> dict[str, RopaDocument]:
    docs = {"v1": parse_document(V1), "v2": parse_document(V2), "v3": parse_document(V3)}
    await _apply(db, docs["v1"], _at("2022-01-10"))
    await _apply(db, docs["v2"], _at("2022-06-01"))
    await _apply(db, docs["v3"], _at("2023-01-01", hour=0))
    return docs


async def test_each_day_gives_the_version_that_stood_at_its_end(
    db: Database, history: dict[str, RopaDocument]
) -> None:
    cases = {
        "2022-01-10": "v1",  # applied at noon: the end of the day sees it
        "2022-03-01": "v1",
        "2022-05-31": "v1",
        "2022-06-01": "v2",
        "2022-12-31": "v2",  # v3 came at midnight after: not yet
        "2023-01-01": "v3",
        "2030-01-01": "v3",
    }
    for day, version in cases.items():
        doc = await to_document.register_document(
            db, "test-school", end_of_day(dt.date.fromisoformat(day))
        )
        assert normalised(doc) == normalised(history[version]), day
    now = await to_document.register_document(db, "test-school")
    assert normalised(now) == normalised(history["v3"])


async def test_values_links_and_removed_entities_come_back(
    db: Database, history: dict[str, RopaDocument]
) -> None:
    doc = await to_document.register_document(db, "test-school", end_of_day(dt.date(2022, 3, 1)))
    census = next(a for a in doc.activities if a.id == "census")
    assert census.retention == "Until the pupil is 25"
    assert [e.sub_processor for e in doc.engagements] == ["hosting-co"]
    assert "census-to-dfe" in {f.id for f in doc.flows}
    assert "new-co" not in {o.id for o in doc.organisations}
    portal = next(o for o in doc.organisations if o.id == "portal-co")
    assert portal.name == "Portal Co Ltd"


async def test_before_the_first_apply_the_first_state_stands(
    db: Database, history: dict[str, RopaDocument]
) -> None:
    # The registry knows nothing older than the first apply: that is the record of 2021 too.
    for as_of in (dt.date(2022, 1, 9), dt.date(2021, 6, 1)):
        doc = await to_document.register_document(db, "test-school", end_of_day(as_of))
        assert normalised(doc) == normalised(history["v1"]), as_of
    doc = await to_document.controller_document(db, "test-school", end_of_day(dt.date(2021, 6, 1)))
    assert normalised(doc) == normalised(history["v1"])


async def test_a_controller_document_as_of_a_day(
    db: Database, history: dict[str, RopaDocument]
) -> None:
    db.round_trips = 0
    doc = await to_document.controller_document(db, "test-school", end_of_day(dt.date(2022, 3, 1)))
    assert db.round_trips == 1
    assert normalised(doc) == normalised(history["v1"])


async def test_changes_made_through_another_register_roll_back_too(db: Database) -> None:
    # Two registers declare the DfE; the second changes its name, then its description.
    first = parse_document(
        "version: ropa/v1\nregister: {id: a, name: A, owner: a-school}\n"
        "organisations:\n  - {id: a-school, name: A School}\n"
        "  - {id: dfe, name: Department for Education}\n"
    )
    await _apply(db, first, _at("2022-01-01"))
    second = (
        "version: ropa/v1\nregister: {id: b, name: B, owner: b-school}\n"
        "organisations:\n  - {id: b-school, name: B School}\n"
        "  - {id: dfe, name: DfE, description: DESCRIPTION}\n"
    )
    await _apply(
        db, parse_document(second.replace(", description: DESCRIPTION", "")), _at("2022-02-01")
    )
    await _apply(
        db, parse_document(second.replace("DESCRIPTION", "The department")), _at("2022-03-01")
    )

    def dfe(doc: RopaDocument) -> tuple[str, str | None]:
        org = next(o for o in doc.organisations if o.id == "dfe")
        return org.name, org.description

    expected = {
        "2022-01-15": ("Department for Education", None),
        "2022-02-15": ("DfE", None),
        "2022-03-15": ("DfE", "The department"),
    }
    for day, value in expected.items():
        doc = await to_document.register_document(db, "a", end_of_day(dt.date.fromisoformat(day)))
        assert dfe(doc) == value, day
