"""The registers the graph holds."""

from __future__ import annotations

from neo4j import AsyncManagedTransaction

from graph.database import Database

_IDS = "MATCH (reg:Register) RETURN reg.id AS id"


async def _ids(tx: AsyncManagedTransaction) -> frozenset[str]:
    return frozenset([record["id"] async for record in await tx.run(_IDS)])


async def register_ids(db: Database) -> frozenset[str]:
    """The ids of every register in the graph (one read transaction)."""
    return await db.read(_ids)
