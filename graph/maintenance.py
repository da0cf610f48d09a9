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

_RESET_SEQUENCE = "MATCH (s:ChangeSequence {name: 'change'}) SET s.value = 0, s.head = null"


async def _wipe_batch(tx: AsyncManagedTransaction) -> int:
    record = await (await tx.run(_WIPE_BATCH)).single()
    return int(record["deleted"]) if record else 0


async def _reset(tx: AsyncManagedTransaction) -> None:
    await tx.run(_RESET_SEQUENCE)


async def wipe(db: Database) -> None:
    """Delete every register node and change event; reset the sequence (batched writes)."""
    while await db.write(_wipe_batch):
        pass
    await db.write(_reset)
