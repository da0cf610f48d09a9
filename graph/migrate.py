"""Numbered `.cypher` migrations, applied in order, each recorded as a `Migration` node."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

from neo4j import AsyncManagedTransaction

from graph.database import Database
from schema.errors import DatabaseUnavailable

_APPLIED = "MATCH (m:Migration) RETURN m.id AS id, m.checksum AS checksum"
_RECORD = """
MERGE (m:Migration {id: $id})
ON CREATE SET m.appliedAt = datetime(), m.checksum = $checksum
"""


@dataclass(frozen=True)
class Migration:
    """One numbered file of schema statements (constraints and indexes, IF NOT EXISTS)."""

    id: str
    statements: tuple[str, ...]
    checksum: str


def available() -> list[Migration]:
    """The migrations shipped with the package, in order."""
    folder = resources.files("graph") / "migrations"
    out = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".cypher"):
            continue
        text = entry.read_text(encoding="utf-8")
        body = "\n".join(line for line in text.splitlines() if not line.strip().startswith("//"))
        statements = tuple(s.strip() for s in body.split(";") if s.strip())
        checksum = hashlib.sha256(text.encode()).hexdigest()[:16]
        out.append(Migration(entry.name.removesuffix(".cypher"), statements, checksum))
    return out


async def _applied(tx: AsyncManagedTransaction) -> dict[str, str | None]:
    result = await tx.run(_APPLIED)
    return {record["id"]: record["checksum"] async for record in result}


async def _record(tx: AsyncManagedTransaction, migration: Migration) -> None:
    await tx.run(_RECORD, id=migration.id, checksum=migration.checksum)


async def pending(db: Database) -> list[Migration]:
    """Migrations not yet recorded in the graph (read transaction)."""
    done = await db.read(_applied)
    return [m for m in available() if m.id not in done]


async def changed(db: Database) -> list[str]:
    """Applied migrations whose shipped file differs from the one that was applied: the graph
    never got the difference (a change belongs in a new migration)."""
    done = await db.read(_applied)
    return [m.id for m in available() if done.get(m.id) not in (None, m.checksum)]


async def migrate(db: Database, report: Callable[[str], None] = lambda _: None) -> list[str]:
    """Apply every pending migration; return the ids applied. Idempotent: rerunning does nothing.

    Schema statements run in auto-commit transactions (Neo4j does not mix schema and data
    writes in one transaction); each is IF NOT EXISTS, so a crash between a statement and the
    record is repaired by the next run.
    """
    for migration_id in await changed(db):
        report(
            f"migration {migration_id} was changed after it was applied; its changes are not "
            "in this database: put them in a new migration"
        )
    applied = []
    for migration in await pending(db):
        report(f"applying migration {migration.id} ({len(migration.statements)} statements)")
        try:
            async with db.driver.session(database=db.name) as session:
                for statement in migration.statements:
                    # Statements come from the package's own .cypher files, never from input.
                    result = await session.run(statement)
                    await result.consume()
        except OSError as exc:
            raise DatabaseUnavailable(f"Neo4j is unavailable: {exc}") from exc
        await db.write(_record, migration)
        applied.append(migration.id)
    return applied
