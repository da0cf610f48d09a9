"""The hash-chained change log against real Neo4j: written chained, verified, tampered with."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest
from neo4j import AsyncManagedTransaction

from graph import audit, changes, from_document, register
from graph.database import Database
from schema.access.principal import Principal, Role, Via
from schema.audit import GENESIS, Author, ChainBreak
from schema.validation import parse_document

pytestmark = pytest.mark.neo4j


def _doc(n: int) -> str:
    return f"""
version: ropa/v1
register: {{id: school-{n}, name: School {n}, owner: school-{n}}}
organisations:
  - {{id: school-{n}, name: School {n}, kind: school}}
data_categories:
  - {{id: category-{n}, name: Category {n}}}
"""


async def _apply(db: Database, n: int, actor: Author = "cli-user") -> None:
    doc = parse_document(_doc(n))
    await register.apply(db, doc.register_info.id, from_document.entities(doc), actor)


async def _cypher(db: Database, query: str, **params: Any) -> list[dict[str, Any]]:
    # Tampering goes round the product on purpose: straight through the driver.
    async with db.driver.session(database=db.name) as session:
        result = await session.run(query, **params)
        return [record.data() async for record in result]


async def _events(db: Database) -> list[dict[str, Any]]:
    return await _cypher(db, "MATCH (c:ChangeEvent) RETURN properties(c) AS p ORDER BY c.sequence")


async def test_concurrent_writers_build_one_unbroken_chain(db: Database) -> None:
    await asyncio.gather(*(_apply(db, n) for n in range(8)))
    result = await audit.verify(db, page=5)
    assert result.intact, result.broken
    assert result.checked == result.last == 8 * 3
    rows = [r["p"] for r in await _events(db)]
    assert rows[0]["prevHash"] == GENESIS
    assert all(b["prevHash"] == a["hash"] for a, b in itertools.pairwise(rows))
    assert result.head == rows[-1]["hash"]


async def test_events_record_the_principal_and_how_it_acted(db: Database) -> None:
    await _apply(
        db,
        1,
        Principal(
            "a1b2",
            Role.DPO,
            frozenset({"school-1"}),
            Via.SESSION,
            subject="a1b2",
            display_name="Ann Smith",
        ),
    )
    await _apply(db, 2)
    rows = [r["p"] for r in await _events(db)]
    assert {
        (r["actor"], r["actorVia"], r["actorSubject"], r["actorDisplayName"]) for r in rows[:3]
    } == {("a1b2", "session", "a1b2", "Ann Smith")}
    assert {(r["actor"], r["actorVia"]) for r in rows[3:]} == {("cli-user", "cli")}
    assert "actorSubject" not in rows[3]
    assert (await audit.verify(db)).intact


async def test_an_edited_event_is_named_by_its_sequence(db: Database) -> None:
    await _apply(db, 1)
    await _apply(db, 2)
    await _cypher(db, "MATCH (c:ChangeEvent {sequence: 4}) SET c.after = '{\"forged\": true}'")
    result = await audit.verify(db)
    assert result.broken is not None
    assert result.broken.sequence == 4
    assert "edited" in result.broken.reason
    assert result.checked == 3


async def test_an_edited_actor_or_time_breaks_the_chain_too(db: Database) -> None:
    await _apply(db, 1)
    await _cypher(db, "MATCH (c:ChangeEvent {sequence: 2}) SET c.actor = 'someone-else'")
    assert (await audit.verify(db)).broken == ChainBreak(
        2, "was edited: its content does not match its hash"
    )
    await _cypher(db, "MATCH (c:ChangeEvent {sequence: 2}) SET c.actor = 'cli-user'")
    assert (await audit.verify(db)).intact
    await _cypher(
        db,
        "MATCH (c:ChangeEvent {sequence: 3}) SET c.occurredAt = c.occurredAt + duration('PT1S')",
    )
    broken = (await audit.verify(db)).broken
    assert broken is not None
    assert broken.sequence == 3


async def test_a_deleted_event_is_named(db: Database) -> None:
    await _apply(db, 1)
    await _apply(db, 2)
    await _cypher(db, "MATCH (c:ChangeEvent {sequence: 2}) DETACH DELETE c")
    broken = (await audit.verify(db)).broken
    assert broken is not None
    assert broken.sequence == 2
    assert "missing" in broken.reason


async def test_a_deleted_last_event_is_named(db: Database) -> None:
    await _apply(db, 1)
    await _cypher(db, "MATCH (c:ChangeEvent {sequence: 3}) DETACH DELETE c")
    broken = (await audit.verify(db)).broken
    assert broken is not None
    assert broken.sequence == 3


async def test_reordered_events_are_named_at_the_first_moved(db: Database) -> None:
    await _apply(db, 1)
    await _apply(db, 2)
    # The sequence is unique, hence the detour through -1.
    await _cypher(db, "MATCH (c:ChangeEvent {sequence: 2}) SET c.sequence = -1")
    await _cypher(db, "MATCH (c:ChangeEvent {sequence: 3}) SET c.sequence = 2")
    await _cypher(db, "MATCH (c:ChangeEvent {sequence: -1}) SET c.sequence = 3")
    broken = (await audit.verify(db)).broken
    assert broken is not None
    assert broken.sequence == 2
    assert "does not follow" in broken.reason


async def test_a_rehashed_edit_still_breaks_the_link_to_the_next_event(db: Database) -> None:
    await _apply(db, 1)
    rows = [r["p"] for r in await _events(db)]
    from schema.audit import chained

    forged = chained({**rows[1], "actor": "mallory"}, rows[1]["prevHash"])
    await _cypher(
        db,
        "MATCH (c:ChangeEvent {sequence: 2}) SET c.actor = $actor, c.hash = $hash",
        actor="mallory",
        hash=forged["hash"],
    )
    broken = (await audit.verify(db)).broken
    assert broken is not None
    assert broken.sequence == 3


async def test_seal_chains_events_written_before_the_chain(db: Database) -> None:
    await _apply(db, 1)
    await _apply(db, 2)
    # What a database written by an earlier version holds: no hashes, no head.
    await _cypher(db, "MATCH (c:ChangeEvent) REMOVE c.hash, c.prevHash")
    await _cypher(db, "MATCH (s:ChangeSequence) REMOVE s.head")
    broken = (await audit.verify(db)).broken
    assert broken is not None
    assert broken.sequence == 1
    assert "not sealed" in broken.reason
    assert await audit.seal(db) == 6
    assert await audit.seal(db) == 0
    assert (await audit.verify(db)).intact
    await _apply(db, 3)
    result = await audit.verify(db)
    assert result.intact
    assert result.checked == 9


async def test_the_first_write_after_an_upgrade_seals_the_old_events(db: Database) -> None:
    await _apply(db, 1)
    await _cypher(db, "MATCH (c:ChangeEvent) REMOVE c.hash, c.prevHash")
    await _cypher(db, "MATCH (s:ChangeSequence) REMOVE s.head")

    async def write(tx: AsyncManagedTransaction) -> list[int]:
        await changes.lock(tx)
        return await changes.append(
            tx, [changes.PendingEvent("Test", "x", "CREATED", None, {"x": 1})], actor="t"
        )

    assert await db.write(write) == [4]
    result = await audit.verify(db)
    assert result.intact
    assert result.checked == 4


async def test_a_register_log_pages_in_sequence_order_with_its_total(db: Database) -> None:
    await _apply(db, 1)
    await _apply(db, 2)
    await _apply(db, 1, "other")  # nothing to change: no events
    page = await db.read(audit.register_log_in, "school-2", 0, 2)
    assert [e.sequence for e in page.events] == [4, 5]
    assert page.total == 3
    assert page.has_next
    rest = await db.read(audit.register_log_in, "school-2", 5, 2)
    assert [e.sequence for e in rest.events] == [6]
    assert not rest.has_next
    assert all(e.register == "school-2" and e.hash for e in page.events + rest.events)
