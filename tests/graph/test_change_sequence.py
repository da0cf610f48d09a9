from __future__ import annotations

import asyncio

import pytest
from neo4j import AsyncManagedTransaction

from graph import changes, from_document, register
from graph.database import Database
from schema.validation import parse_document

pytestmark = pytest.mark.neo4j

WRITERS = 60


def _register_doc(n: int) -> str:
    return f"""
version: ropa/v1
register: {{id: school-{n}, name: School {n}, owner: school-{n}}}
organisations:
  - {{id: school-{n}, name: School {n}, kind: school}}
  - {{id: processor-{n}, name: Processor {n}, kind: company}}
data_categories:
  - {{id: category-{n}, name: Category {n}}}
"""


async def _sequences(db: Database) -> list[tuple[int, str | None]]:
    async with db.driver.session(database=db.name) as session:
        result = await session.run(
            "MATCH (c:ChangeEvent) RETURN c.sequence AS s, c.register AS r ORDER BY s"
        )
        return [(r["s"], r["r"]) async for r in result]


async def test_concurrent_appliers_produce_a_gap_free_strictly_ordered_sequence(
    db: Database,
) -> None:
    docs = [parse_document(_register_doc(n)) for n in range(WRITERS)]

    async def apply(doc_index: int) -> register.Plan:
        doc = docs[doc_index]
        return await register.apply(
            db, doc.register_info.id, from_document.entities(doc), f"writer-{doc_index}"
        )

    plans = await asyncio.gather(*(apply(i) for i in range(WRITERS)))
    total = sum(len(p.changes) for p in plans)
    assert total == WRITERS * 4
    rows = await _sequences(db)
    assert [s for s, _ in rows] == list(range(1, total + 1))
    # Each transaction's events are contiguous: no writer interleaved with another.
    runs = [r for i, (_, r) in enumerate(rows) if i == 0 or rows[i - 1][1] != r]
    assert len(runs) == WRITERS


async def test_rolled_back_writers_leave_no_gap(db: Database) -> None:
    class Boom(Exception):
        pass

    async def write(tx: AsyncManagedTransaction, n: int) -> None:
        await changes.lock(tx)
        await changes.append(
            tx, [changes.PendingEvent("Test", str(n), "CREATED", None, {"n": n})], actor="t"
        )
        if n % 3 == 0:
            raise Boom

    async def attempt(n: int) -> bool:
        try:
            await db.write(write, n)
        except Boom:
            return False
        return True

    outcomes = await asyncio.gather(*(attempt(n) for n in range(45)))
    committed = sum(outcomes)
    assert committed == 30
    assert [s for s, _ in await _sequences(db)] == list(range(1, committed + 1))
    async with db.driver.session(database=db.name) as session:
        events = await session.execute_read(changes.read_after, 10, 5)
    assert [e.sequence for e in events] == [11, 12, 13, 14, 15]
    assert all(e.actor == "t" and e.op == "CREATED" for e in events)
