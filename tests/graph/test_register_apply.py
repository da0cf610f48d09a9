from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from graph import from_document, register
from graph.database import Database
from schema.validation import load_document, parse_document

pytestmark = pytest.mark.neo4j

SMALL = Path(__file__).resolve().parents[1] / "fixtures" / "small-register.yaml"


async def _rows(db: Database, query: str, **params: Any) -> list[dict[str, Any]]:
    async with db.driver.session(database=db.name) as session:
        result = await session.run(query, **params)
        return [r.data() async for r in result]


async def _apply(db: Database, text: str | None = None) -> register.Plan:
    doc = parse_document(text) if text is not None else load_document(SMALL)
    return await register.apply(db, doc.register_info.id, from_document.entities(doc), "tester")


async def test_apply_creates_nodes_and_relationships(db: Database) -> None:
    plan = await _apply(db)
    assert len(plan.by_op("CREATED")) == 1 + 4 + 1 + 3 + 3 + 1 + 2 + 2 + 1
    rows = await _rows(
        db,
        """
        MATCH (a:ProcessingActivity {id: 'transfer'})-[:CONTROLLED_BY]->(c:Organisation)
        MATCH (a)-[p:PROCESSOR]->(proc:Organisation)
        MATCH (d:Disclosure {id: 'to-portal'})-[:IN_ACTIVITY]->(a)
        MATCH (d)-[:FROM]->(c), (d)-[:TO]->(proc), (d)-[:VIA]->(s:System)
        MATCH (e:Engagement)-[:ENGAGED_BY]->(proc), (e)-[:SUB_PROCESSOR]->(sub)
        RETURN c.id AS controller, proc.id AS processor, p.noticePeriodDays AS notice,
               d.condition AS condition, s.id AS system, sub.id AS sub,
               toString(a.validUntil) AS until, e.status AS status
    """,
    )
    assert rows == [
        {
            "controller": "test-school",
            "processor": "portal-co",
            "notice": 30,
            "condition": "once enrolment is confirmed",
            "system": "portal",
            "sub": "hosting-co",
            "until": "2023-02-13",
            "status": "active",
        }
    ]
    hierarchy = await _rows(
        db,
        """
        MATCH (c:DataCategory)-[:PART_OF]->(p:DataCategory)
        RETURN c.id AS c, p.id AS p, c.special AS s ORDER BY c
    """,
    )
    assert hierarchy == [
        {"c": "attendance", "p": "pupil-data", "s": False},
        {"c": "medical", "p": "pupil-data", "s": True},
    ]
    # Read as ropa/v1: the basis's rests_on becomes the law of the use that cites it.
    rests = await _rows(
        db,
        "MATCH (:ProcessingActivity)-[u:LAWFUL_BASIS]->(:LegalBasis {id: 'art6-1-c'}) "
        "RETURN u.restsOn AS s",
    )
    assert rests
    assert all(row == {"s": ["education-act-1996"]} for row in rests)


async def test_apply_records_one_event_per_change_with_gap_free_sequence(db: Database) -> None:
    plan = await _apply(db)
    events = await _rows(
        db,
        """
        MATCH (c:ChangeEvent) RETURN c.sequence AS seq, c.actor AS actor, c.op AS op,
        c.entityType AS type, c.entityId AS id ORDER BY seq
    """,
    )
    assert [e["seq"] for e in events] == list(range(1, len(plan.changes) + 1))
    assert {e["actor"] for e in events} == {"tester"}
    assert {e["op"] for e in events} == {"CREATED"}
    assert {"type": "Engagement", "id": "portal-hosting"} in [
        {"type": e["type"], "id": e["id"]} for e in events
    ]


async def test_apply_twice_changes_nothing_and_records_nothing(db: Database) -> None:
    await _apply(db)
    before = await _rows(
        db, "MATCH (n) OPTIONAL MATCH (n)-[r]->() RETURN count(DISTINCT n) AS n, count(r) AS r"
    )
    second = await _apply(db)
    after = await _rows(
        db, "MATCH (n) OPTIONAL MATCH (n)-[r]->() RETURN count(DISTINCT n) AS n, count(r) AS r"
    )
    assert second.empty
    assert before == after


async def test_plan_shows_the_difference_after_an_edit(db: Database) -> None:
    await _apply(db)
    text = SMALL.read_text()
    edited = text.replace("retention: Until the pupil is 25", "retention: Until the pupil is 30")
    edited = edited.replace(
        "  - id: hosting-co\n    name: Hosting Co Ltd\n    kind: company\n",
        "  - id: hosting-co\n    name: Hosting Co Ltd\n    kind: company\n"
        "  - id: new-co\n    name: New Co\n",
    )
    edited = edited.replace("    sub_processor: hosting-co", "    sub_processor: new-co")
    doc = parse_document(edited)
    plan = await register.plan(db, doc.register_info.id, from_document.entities(doc))
    summary = {(c.op, c.entity.kind, c.entity.id): c.fields_changed() for c in plan.changes}
    assert summary == {
        ("UPDATED", "ProcessingActivity", "census"): ["retention"],
        ("CREATED", "Organisation", "new-co"): [],
        ("UPDATED", "Engagement", "portal-hosting"): ["SUB_PROCESSOR"],
    }
    applied = await register.apply(db, doc.register_info.id, from_document.entities(doc), "t")
    assert len(applied.changes) == 3
    subs = await _rows(
        db, "MATCH (:Engagement {id: 'portal-hosting'})-[:SUB_PROCESSOR]->(o) RETURN o.id AS id"
    )
    assert subs == [{"id": "new-co"}]
    event = await _rows(
        db,
        """
        MATCH (c:ChangeEvent {entityId: 'portal-hosting', op: 'UPDATED'})
        RETURN c.before AS before, c.after AS after
    """,
    )
    assert '"to": "Organisation:hosting-co"' in event[0]["before"]
    assert '"to": "Organisation:new-co"' in event[0]["after"]


async def test_removing_an_entity_deletes_it_and_records_the_deletion(db: Database) -> None:
    await _apply(db)
    text = SMALL.read_text()
    start = text.index("engagements:")
    plan = await _apply(db, text[:start])
    assert [(c.op, c.entity.id) for c in plan.changes] == [("DELETED", "portal-hosting")]
    assert await _rows(db, "MATCH (e:Engagement) RETURN e.id") == []
    deleted = await _rows(
        db, "MATCH (c:ChangeEvent {op: 'DELETED'}) RETURN c.entityId AS id, c.after AS after"
    )
    assert deleted == [{"id": "portal-hosting", "after": None}]


async def test_entities_shared_by_two_registers_survive_removal_from_one(db: Database) -> None:
    await _apply(db)
    other = """
version: ropa/v1
register: {id: other-school, name: Other, owner: other}
organisations:
  - {id: other, name: Other School, kind: school}
  - {id: dfe, name: Department for Education, kind: government}
"""
    await _apply(db, other)
    await _apply(
        db, other.replace("  - {id: dfe, name: Department for Education, kind: government}\n", "")
    )
    assert await _rows(db, "MATCH (o:Organisation {id: 'dfe'}) RETURN o.id AS id") == [
        {"id": "dfe"}
    ]


async def test_a_failure_midway_through_apply_writes_nothing(db: Database) -> None:
    doc = load_document(SMALL)

    class Interrupted(Exception):
        pass

    def interrupt(message: str) -> None:
        # Called after the entities are written and before links and events: a crash here
        # must roll the whole transaction back.
        if message.startswith("wrote"):
            raise Interrupted(message)

    with pytest.raises(Interrupted):
        await register.apply(
            db, doc.register_info.id, from_document.entities(doc), "t", progress=interrupt
        )
    assert await _rows(db, "MATCH (n:Entity) RETURN count(n) AS n") == [{"n": 0}]
    assert await _rows(db, "MATCH (c:ChangeEvent) RETURN count(c) AS n") == [{"n": 0}]
    sequence = await _rows(db, "MATCH (s:ChangeSequence) RETURN s.value AS v")
    assert sequence == [{"v": 0}]
