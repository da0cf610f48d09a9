from __future__ import annotations

import pytest

from graph import migrate
from graph.database import Database

pytestmark = pytest.mark.neo4j


async def _count(db: Database, query: str) -> int:
    async with db.driver.session(database=db.name) as session:
        record = await (await session.run(query)).single()
        assert record is not None
        return int(record[0])


async def test_migrations_are_recorded_and_rerun_applies_nothing(db: Database) -> None:
    assert await migrate.pending(db) == []
    assert await migrate.migrate(db) == []
    recorded = await _count(db, "MATCH (m:Migration) RETURN count(m)")
    assert recorded == len(migrate.available())


async def test_migrations_recreate_a_dropped_constraint_idempotently(db: Database) -> None:
    async with db.driver.session(database=db.name) as session:
        await (await session.run("DROP CONSTRAINT organisation_id")).consume()
        await (await session.run("MATCH (m:Migration {id: '0001_constraints'}) DELETE m")).consume()
    assert await migrate.migrate(db) == ["0001_constraints"]
    assert await migrate.migrate(db) == []
    names = await _count(
        db, "SHOW CONSTRAINTS YIELD name WHERE name = 'organisation_id' RETURN count(*)"
    )
    assert names == 1


async def test_every_register_kind_has_a_unique_id_constraint(db: Database) -> None:
    async with db.driver.session(database=db.name) as session:
        result = await session.run(
            "SHOW CONSTRAINTS YIELD labelsOrTypes, properties, type "
            "WHERE type = 'UNIQUENESS' RETURN labelsOrTypes[0] AS label, properties AS props"
        )
        unique = {(r["label"], tuple(r["props"])) async for r in result}
    for label in (
        "Organisation",
        "DataSubjectCategory",
        "DataCategory",
        "LegalBasis",
        "System",
        "ProcessingActivity",
        "Disclosure",
        "Engagement",
        "Register",
    ):
        assert (label, ("id",)) in unique, label
    assert ("Entity", ("key",)) in unique
    assert ("ChangeEvent", ("sequence",)) in unique


async def test_a_migration_changed_after_it_was_applied_is_reported(db: Database) -> None:
    first = migrate.available()[0]
    async with db.driver.session(database=db.name) as session:
        query = "MATCH (m:Migration {id: $id}) SET m.checksum = 'edited'"
        await (await session.run(query, id=first.id)).consume()
    try:
        assert first.id in await migrate.changed(db)
        lines: list[str] = []
        assert await migrate.migrate(db, report=lines.append) == []
        assert any(f"migration {first.id} was changed after it was applied" in x for x in lines)
    finally:
        async with db.driver.session(database=db.name) as session:
            query = "MATCH (m:Migration {id: $id}) SET m.checksum = $checksum"
            await (await session.run(query, id=first.id, checksum=first.checksum)).consume()
    assert first.id not in await migrate.changed(db)
