from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from graph import from_document, register
from graph import subprocessor_changes as spc
from graph.database import Database
from schema.validation import parse_document

pytestmark = pytest.mark.neo4j


def _document(engagements: list[dict[str, Any]], extra_orgs: tuple[str, ...] = ()) -> str:
    orgs = ["school", "portal-co", "portal-co-2", "hosting-co", "mail-co", *extra_orgs]
    return json.dumps(
        {
            "version": "ropa/v1",
            "register": {"id": "school", "name": "School", "owner": "school"},
            "organisations": [{"id": o, "name": o.title(), "kind": "company"} for o in orgs],
            "data_categories": [{"id": "pupil-data", "name": "Pupil data"}],
            "engagements": engagements,
        }
    )


def _engagement(eng_id: str, processor: str, sub: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": eng_id,
        "processor": processor,
        "sub_processor": sub,
        "purpose": "Hosting",
        "data_categories": ["pupil-data"],
        "since": "2022-02-14",
        **extra,
    }


async def _apply(db: Database, text: str, actor: str = "dpo@school") -> register.Plan:
    doc = parse_document(text)
    return await register.apply(db, doc.register_info.id, from_document.entities(doc), actor)


async def _all(db: Database, after: int = 0, processor: str | None = None, limit: int = 100) -> Any:
    return await db.read(spc.changes_after, after, processor, limit)


async def test_an_engagement_added_changed_withdrawn_and_removed(db: Database) -> None:
    hosting = _engagement("portal-hosting", "portal-co", "hosting-co", location="UK")
    await _apply(db, _document([hosting]))
    await _apply(db, _document([{**hosting, "purpose": "Hosting and backups"}]), "dpo@la")
    withdrawn = {**hosting, "purpose": "Hosting and backups", "status": "withdrawn"}
    await _apply(db, _document([{**withdrawn, "until": "2024-07-31"}]))
    await _apply(db, _document([]))

    changes = await _all(db)
    # The withdrawal takes it off the list: REMOVED, though it stays in the register.
    assert [c.type for c in changes] == ["ADDED", "CHANGED", "REMOVED", "REMOVED"]
    added, changed, withdrawal, removed = changes
    assert all((c.processor, c.sub_processor) == ("portal-co", "hosting-co") for c in changes)
    assert [c.sequence for c in changes] == sorted(c.sequence for c in changes)
    assert len({c.id for c in changes}) == 4

    assert added.before is None
    assert added.after == {
        "id": "portal-hosting",
        "processor": "portal-co",
        "subProcessor": "hosting-co",
        "purpose": "Hosting",
        "dataCategories": ["pupil-data"],
        "activity": None,
        "location": "UK",
        "since": "2022-02-14",
        "until": None,
        "status": "active",
        "noticeDate": None,
        "contract": None,
    }
    assert added.effective_from == dt.date(2022, 2, 14)
    assert added.actor == "dpo@school"

    assert changed.before is not None
    assert changed.after is not None
    assert (changed.before["purpose"], changed.after["purpose"]) == (
        "Hosting",
        "Hosting and backups",
    )
    assert changed.actor == "dpo@la"
    assert changed.effective_from == dt.date(2022, 2, 14)

    # Withdrawal keeps the engagement in the register: a CHANGED, effective from its `until`.
    assert withdrawal.after is not None
    assert withdrawal.after["status"] == "withdrawn"
    assert withdrawal.effective_from == dt.date(2024, 8, 1)

    assert removed.after is None
    assert removed.before is not None
    assert removed.effective_from == dt.date(2024, 8, 1)
    as_json = removed.as_json()
    assert as_json["type"] == "REMOVED"
    assert as_json["subProcessor"] == "hosting-co"
    assert as_json["effectiveFrom"] == "2024-08-01"
    assert dt.datetime.fromisoformat(as_json["occurredAt"]).tzinfo is not None


async def test_removal_without_an_end_date_is_effective_the_day_it_was_recorded(
    db: Database,
) -> None:
    await _apply(db, _document([_engagement("e1", "portal-co", "hosting-co")]))
    await _apply(db, _document([]))
    removed = (await _all(db))[-1]
    assert removed.type == "REMOVED"
    assert removed.effective_from == removed.occurred_at.date()


async def test_only_engagement_events_are_sub_processor_changes(db: Database) -> None:
    plan = await _apply(db, _document([_engagement("e1", "portal-co", "hosting-co")]))
    # The register, five organisations, a category and the engagement: eight events, one ours.
    assert len(plan.changes) == 8
    changes = await _all(db)
    assert [(c.type, c.after["id"] if c.after else None) for c in changes] == [("ADDED", "e1")]
    assert await db.read(spc.head_sequence) == changes[0].sequence


async def test_the_feed_of_one_processor_is_an_ordered_subsequence(db: Database) -> None:
    engagements = [
        _engagement("a1", "portal-co", "hosting-co"),
        _engagement("b1", "portal-co-2", "hosting-co"),
        # portal-co as a sub-processor of another processor is not portal-co's change.
        _engagement("c1", "mail-co", "portal-co"),
        _engagement("a2", "portal-co", "mail-co"),
    ]
    await _apply(db, _document(engagements))
    for round_ in range(3):
        await _apply(db, _document([{**e, "purpose": f"Purpose {round_}"} for e in engagements]))
    everything = await _all(db)
    assert len(everything) == 16
    sequences = [c.sequence for c in everything]
    assert sequences == sorted(sequences)
    assert len(set(sequences)) == 16

    mine = await _all(db, processor="portal-co")
    assert [c.sequence for c in mine] == [
        c.sequence for c in everything if c.processor == "portal-co"
    ]
    assert {c.after["id"] for c in mine if c.after} == {"a1", "a2"}
    assert len(mine) == 8
    other = await _all(db, processor="portal-co-2")
    assert {c.processor for c in other} == {"portal-co-2"}
    assert len(other) == 4
    assert await _all(db, processor="nobody") == []


async def test_paging_by_sequence_and_limit(db: Database) -> None:
    engagements = [_engagement(f"e{i}", "portal-co", "hosting-co") for i in range(7)]
    await _apply(db, _document(engagements))
    everything = await _all(db)
    first = await _all(db, limit=3)
    assert first == everything[:3]
    rest = await _all(db, after=first[-1].sequence, limit=100)
    assert rest == everything[3:]
    assert await _all(db, after=everything[-1].sequence) == []
    page = await db.read(spc.changes_page, everything[-1].sequence, None, 5)
    assert page.changes == []
    assert page.scanned_through is None
    with pytest.raises(ValueError, match="limit"):
        await _all(db, limit=0)


async def test_a_filtered_page_reports_how_far_it_looked(db: Database) -> None:
    # Many changes of another processor, then one of ours: the filtered reader skips the
    # others and says where it stopped, so a follower need not look at them again.
    others = [_engagement(f"o{i}", "portal-co-2", "hosting-co") for i in range(30)]
    await _apply(db, _document(others))
    await _apply(db, _document([*others, _engagement("mine", "portal-co", "hosting-co")]))
    head = await db.read(spc.head_sequence)
    page = await db.read(spc.changes_page, 0, "portal-co", 10)
    assert [c.after["id"] for c in page.changes if c.after] == ["mine"]
    assert page.scanned_through == head
    empty = await db.read(spc.changes_page, 0, "mail-co", 10)
    assert empty.changes == []
    assert empty.scanned_through == head


async def test_moving_an_engagement_to_another_processor_concerns_both(db: Database) -> None:
    await _apply(db, _document([_engagement("e1", "portal-co", "hosting-co")]))
    await _apply(db, _document([_engagement("e1", "portal-co-2", "hosting-co")]))
    moved = (await _all(db))[-1]
    assert moved.type == "CHANGED"
    assert moved.processor == "portal-co-2"
    assert moved.before is not None
    assert moved.before["processor"] == "portal-co"
    assert moved in await _all(db, processor="portal-co")
    assert moved in await _all(db, processor="portal-co-2")


def _operators(plan: dict[str, Any]) -> list[str]:
    return [plan["operatorType"].split("@")[0]] + [
        op for child in plan.get("children", []) for op in _operators(child)
    ]


@pytest.mark.parametrize(
    ("query", "params"),
    [
        (spc._PAGE, {"entityType": "Engagement", "after": 0, "scan": 10, "needle": None}),
        (spc._HEAD, {"entityType": "Engagement"}),
    ],
)
async def test_reads_walk_the_index_in_order_and_stop_at_the_limit(
    db: Database, query: str, params: dict[str, Any]
) -> None:
    async with db.driver.session(database=db.name) as session:
        summary = await (await session.run("EXPLAIN " + query, **params)).consume()
    assert summary.plan is not None
    operators = _operators(summary.plan)
    assert "NodeIndexSeek" in operators
    # No sort of every matching event: the index gives the order and LIMIT ends the walk.
    assert not {"Top", "Sort", "PartialTop"} & set(operators), operators
