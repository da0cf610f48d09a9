"""Wiping a database, for tests and `ropa dev --fresh` against a server we started."""

from __future__ import annotations

from neo4j import AsyncManagedTransaction

from graph.database import Database

# Migration records and the change counter survive, so the schema need not be rebuilt.
_WIPE_BATCH = """
MATCH (n)
WHERE NOT (n:Migration OR n:ChangeSequence)
WITH n LIMIT 10000
DETACH DELETE n
RETURN count(*) AS deleted
"""

# What a wipe would delete, by kind, so that it can be shown before anything goes.
_CONTENTS = """
MATCH (n)
WHERE NOT (n:Migration OR n:ChangeSequence)
RETURN coalesce(head([l IN labels(n) WHERE l <> 'Entity']), head(labels(n)), 'node') AS kind,
       count(*) AS held
ORDER BY kind
"""

_RESET_SEQUENCE = "MATCH (s:ChangeSequence {name: 'change'}) SET s.value = 0, s.head = null"


async def _wipe_batch(tx: AsyncManagedTransaction) -> int:
    record = await (await tx.run(_WIPE_BATCH)).single()
    return int(record["deleted"]) if record else 0


async def _reset(tx: AsyncManagedTransaction) -> None:
    await tx.run(_RESET_SEQUENCE)


async def _contents(tx: AsyncManagedTransaction) -> dict[str, int]:
    return {r["kind"]: int(r["held"]) async for r in await tx.run(_CONTENTS)}


async def contents(db: Database) -> dict[str, int]:
    """How many nodes of each kind a wipe would delete (empty: nothing to delete)."""
    return await db.read(_contents)


async def wipe(db: Database) -> None:
    """Delete every register node and change event; reset the sequence (batched writes)."""
    while await db.write(_wipe_batch):
        pass
    await db.write(_reset)
