"""Plan and apply a register document: make the graph match it, with a change event per change.

A register declares its entities (`(:Register)-[:DECLARES]->(n)`). Entities are shared by id
across registers, so that a local authority's DPO can keep several schools' registers in one
graph: removing an entity from one document deletes it only when no other register declares it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from neo4j import AsyncManagedTransaction

from graph import changes
from graph import model as m
from graph.database import Database
from schema.audit import Author

_CURRENT = """
MATCH (reg:Register {id: $register})
OPTIONAL MATCH (reg)-[:DECLARES]->(n:Entity)
WITH reg, collect(n) AS declared
UNWIND [reg] + declared AS n
OPTIONAL MATCH (n)-[r]->(t:Entity)
WHERE type(r) IN $types
WITH n, collect(CASE WHEN r IS NULL THEN null
                ELSE {type: type(r), target: t.key, props: properties(r)} END) AS links
RETURN n.key AS key, properties(n) AS props, links
"""

_UPSERT = """
UNWIND $rows AS row
MERGE (n:Entity {key: row.key})
SET n = row.props, n.id = row.id, n.key = row.key
SET n:$(row.kind)
WITH n, row
MATCH (reg:Register {id: $register})
WHERE row.kind <> 'Register'
MERGE (reg)-[:DECLARES]->(n)
"""

_ENSURE_REGISTER = """
MERGE (reg:Entity {key: $key})
ON CREATE SET reg:Register, reg.id = $register
"""

_UNLINK = """
UNWIND $keys AS key
MATCH (n:Entity {key: key})-[r]->(:Entity)
WHERE type(r) IN $types
DELETE r
"""

_LINK = """
UNWIND $links AS l
MATCH (a:Entity {key: l.source})
MATCH (b:Entity {key: l.target})
CREATE (a)-[r:$(l.type)]->(b)
SET r = l.props
"""

# An entity that another register still declares keeps its node; only this register lets go.
_REMOVE = """
UNWIND $keys AS key
MATCH (reg:Register {id: $register})-[d:DECLARES]->(n:Entity {key: key})
DELETE d
WITH n
WHERE NOT EXISTS { (:Register)-[:DECLARES]->(n) }
DETACH DELETE n
"""

# The given entities as they are now, whichever register declares them (a subset of `_CURRENT`).
_ENTITIES = """
UNWIND $keys AS key
MATCH (n:Entity {key: key})
OPTIONAL MATCH (n)-[r]->(t:Entity)
WHERE type(r) IN $types
WITH n, collect(CASE WHEN r IS NULL THEN null
                ELSE {type: type(r), target: t.key, props: properties(r)} END) AS links
RETURN n.key AS key, properties(n) AS props, links
"""

_REGISTERS = """
MATCH (reg:Register)
RETURN reg.id AS id
ORDER BY id
"""

_DECLARING = """
MATCH (reg:Register)-[:DECLARES]->(:Entity {key: $key})
RETURN reg.id AS register
ORDER BY register
"""

_DECLARED_BY = """
UNWIND $keys AS key
MATCH (reg:Register)-[:DECLARES]->(:Entity {key: key})
RETURN key, collect(reg.id) AS registers
"""

_DECLARE = """
UNWIND $keys AS key
MATCH (n:Entity {key: key})
UNWIND $registers AS register
MATCH (reg:Register {id: register})
MERGE (reg)-[:DECLARES]->(n)
"""

_BATCH = 2000


@dataclass(frozen=True)
class Change:
    """One entity to create, update or delete."""

    op: str  # CREATED, UPDATED, DELETED
    before: m.Entity | None
    after: m.Entity | None
    # Another register declares it too: before this one does (CREATED, written as DECLARED) or
    # after this one lets go (DELETED, written as RELEASED); graph.register_set plans it.
    shared: bool = False

    @property
    def entity(self) -> m.Entity:
        """The entity concerned (its new state, or its old one when deleted)."""
        entity = self.after or self.before
        if entity is None:
            raise ValueError("a change needs a before or an after state")
        return entity

    def fields_changed(self) -> list[str]:
        """Names of the properties and link types that differ."""
        if self.before is None or self.after is None:
            return []
        names = {
            k
            for k in self.before.props.keys() | self.after.props.keys()
            if self.before.props.get(k) != self.after.props.get(k)
        }
        names |= {link.type for link in self.before.links ^ self.after.links}
        return sorted(names)


@dataclass
class Plan:
    """What applying a document would do."""

    register: str
    changes: list[Change] = field(default_factory=list)

    def by_op(self, op: str) -> list[Change]:
        """Changes of one kind."""
        return [c for c in self.changes if c.op == op]

    @property
    def empty(self) -> bool:
        """True when the graph already matches the document."""
        return not self.changes


def _from_graph(key: str, props: dict[str, Any], links: list[dict[str, Any]]) -> m.Entity:
    kind, _, entity_id = key.partition(":")
    clean = {
        k: v.to_native() if hasattr(v, "to_native") else v
        for k, v in props.items()
        if k not in ("id", "key")
    }
    return m.Entity(
        kind,
        entity_id,
        clean,
        frozenset(
            m.Link(
                link["type"],
                link["target"].partition(":")[0],
                link["target"].partition(":")[2],
                # Lists come back from Neo4j as lists; a Link holds tuples, to stay hashable.
                tuple(
                    sorted(
                        (k, tuple(v) if isinstance(v, list) else v)
                        for k, v in link["props"].items()
                    )
                ),
            )
            for link in links
        ),
    )


async def current_state(tx: AsyncManagedTransaction, register: str) -> dict[str, m.Entity]:
    """The entities a register declares (and the register node), keyed by entity key."""
    result = await tx.run(_CURRENT, register=register, types=list(m.RELATIONSHIP_TYPES))
    state: dict[str, m.Entity] = {}
    async for record in result:
        entity = _from_graph(record["key"], record["props"], record["links"])
        state[entity.key] = entity
    return state


def diff(register: str, current: dict[str, m.Entity], desired: list[m.Entity]) -> Plan:
    """The changes that turn `current` into `desired` (pure; no I/O)."""
    plan = Plan(register)
    wanted = {e.key: e for e in desired}
    for key, entity in wanted.items():
        old = current.get(key)
        if old is None:
            plan.changes.append(Change("CREATED", None, entity))
        elif old.props != entity.props or old.links != entity.links:
            plan.changes.append(Change("UPDATED", old, entity))
    plan.changes.extend(
        Change("DELETED", entity, None) for key, entity in current.items() if key not in wanted
    )
    return plan


async def plan_in(tx: AsyncManagedTransaction, register: str, desired: list[m.Entity]) -> Plan:
    """Diff the document's entities against the graph inside `tx`."""
    return diff(register, await current_state(tx, register), desired)


def _chunks(rows: list[Any]) -> list[list[Any]]:
    return [rows[i : i + _BATCH] for i in range(0, len(rows), _BATCH)]


def _order(changes_: list[Change]) -> list[Change]:
    # Creations before the links that point at them; the register node first of all.
    return sorted(changes_, key=lambda c: (c.entity.kind != m.REGISTER, c.op == "DELETED"))


async def apply_in(
    tx: AsyncManagedTransaction,
    register: str,
    desired: list[m.Entity],
    actor: Author,
    progress: Callable[[str], None] = lambda _: None,
    occurred_at: dt.datetime | None = None,
) -> Plan:
    """Make the graph match `desired` in `tx`, recording one event per change.

    `occurred_at` stamps the events (default: now); importing history uses it.

    Takes the change lock first, so concurrent appliers serialise and each diffs against the
    state the previous one committed; a retried transaction recomputes its plan, so a retry
    after an unseen commit finds nothing to do (idempotent).
    """
    await changes.lock(tx)
    plan = await plan_in(tx, register, desired)
    if plan.empty:
        return plan
    await write_changes(tx, register, plan.changes, actor, progress, occurred_at)
    return plan


def _event(
    change: Change, existing: dict[str, m.Entity], kept: dict[str, m.Entity]
) -> changes.PendingEvent:
    """The event recording `change`: DECLARED / RELEASED where the entity was there before
    (`existing`) or stays after (`kept`) through another register."""
    entity = change.entity
    op, before, after = change.op, change.before, change.after
    if op == "CREATED" and entity.key in existing:
        op, before = changes.DECLARED, existing[entity.key]
    elif op == "DELETED" and entity.key in kept:
        op, after = changes.RELEASED, kept[entity.key]
    return changes.PendingEvent(
        entity.kind,
        entity.id,
        op,
        before.snapshot() if before else None,
        after.snapshot() if after else None,
    )


async def write_changes(
    tx: AsyncManagedTransaction,
    register: str,
    changes_: list[Change],
    actor: Author,
    progress: Callable[[str], None],
    occurred_at: dt.datetime | None,
    registers: list[str] | None = None,
) -> None:
    """Carry out `changes_` for `register` and record their events (after the change lock);
    the events belong to `registers` (default: `register` alone)."""
    ordered = _order(changes_)
    # An entity this register starts declaring that another register holds already is not
    # created: the event says so (DECLARED, with the state it had), as a letting go that leaves
    # it to another register says it is not deleted (RELEASED), so that a move between
    # registers is not told as a removal and an addition (graph.subprocessor_changes).
    existing = await entities_in(
        tx, [c.entity.key for c in ordered if c.op == "CREATED" and c.entity.kind != m.REGISTER]
    )
    await tx.run(_ENSURE_REGISTER, key=m.entity_key(m.REGISTER, register), register=register)
    upserts = [c.entity for c in ordered if c.op != "DELETED"]
    for i, rows in enumerate(_chunks(upserts)):
        await tx.run(
            _UPSERT,
            register=register,
            rows=[{"key": e.key, "id": e.id, "kind": e.kind, "props": e.props} for e in rows],
        )
        progress(f"wrote {min((i + 1) * _BATCH, len(upserts))}/{len(upserts)} entities")
    # Links are replaced wholesale for every created or updated entity.
    for rows in _chunks([e.key for e in upserts]):
        await tx.run(_UNLINK, keys=rows, types=list(m.RELATIONSHIP_TYPES))
    links = [
        {"source": e.key, "target": link.target_key, "type": link.type, "props": dict(link.props)}
        for e in upserts
        for link in sorted(e.links)
    ]
    for i, rows in enumerate(_chunks(links)):
        await tx.run(_LINK, links=rows)
        progress(f"linked {min((i + 1) * _BATCH, len(links))}/{len(links)} relationships")
    deleted = [c.entity.key for c in ordered if c.op == "DELETED"]
    for rows in _chunks(deleted):
        await tx.run(_REMOVE, register=register, keys=rows)
    kept = await entities_in(tx, deleted) if deleted else {}
    events = [_event(c, existing, kept) for c in ordered]
    when = occurred_at or dt.datetime.now(dt.UTC)
    for rows in _chunks(events):
        await changes.append(
            tx, rows, actor=actor, register=register, occurred_at=when, registers=registers
        )
    progress(f"recorded {len(events)} change events")


async def entities_in(tx: AsyncManagedTransaction, keys: list[str]) -> dict[str, m.Entity]:
    """The entities with these keys as the graph holds them now, keyed by entity key."""
    result = await tx.run(_ENTITIES, keys=keys, types=list(m.RELATIONSHIP_TYPES))
    found: dict[str, m.Entity] = {}
    async for record in result:
        entity = _from_graph(record["key"], record["props"], record["links"])
        found[entity.key] = entity
    return found


async def declared_by(tx: AsyncManagedTransaction, keys: list[str]) -> dict[str, set[str]]:
    """The registers that declare each of the entities `keys` (those none declares: absent)."""
    result = await tx.run(_DECLARED_BY, keys=keys)
    return {record["key"]: set(record["registers"]) async for record in result}


async def declaring_registers(tx: AsyncManagedTransaction, key: str) -> list[str]:
    """The ids of the registers that declare the entity `key`, in order."""
    result = await tx.run(_DECLARING, key=key)
    return [record["register"] async for record in result]


async def upsert_entities_in(
    tx: AsyncManagedTransaction,
    registers: list[str],
    entities: list[m.Entity],
    actor: Author,
    occurred_at: dt.datetime | None = None,
) -> Plan:
    """Create or update just `entities`, declared by `registers`, as `apply_in` would.

    The write path of `apply_in` for a part of the register: the change lock, a diff of each
    entity against its node (whichever register declares it), then the same upsert, link and
    event steps, so that a change made this way records the same event as applying a document
    that makes it. The events name the first register; an entity created here is declared by
    every one of `registers`, and the events belong to all of them. Entities already as desired
    are left alone: a retry after an unseen commit writes nothing.
    """
    if not registers:
        raise ValueError("an entity must be declared by at least one register")
    await changes.lock(tx)
    current = await entities_in(tx, [e.key for e in entities])
    plan = diff(registers[0], current, entities)
    if plan.empty:
        return plan
    await write_changes(
        tx, registers[0], plan.changes, actor, lambda _: None, occurred_at, registers
    )
    created = [c.entity.key for c in plan.by_op("CREATED")]
    if created and len(registers) > 1:
        await tx.run(_DECLARE, keys=created, registers=registers[1:])
    return plan


async def _register_ids(tx: AsyncManagedTransaction) -> list[str]:
    return [record["id"] async for record in await tx.run(_REGISTERS)]


async def register_ids(db: Database) -> list[str]:
    """The ids of the registers the graph holds (none in an empty database)."""
    return await db.read(_register_ids)


async def plan(db: Database, register: str, desired: list[m.Entity]) -> Plan:
    """What applying would change (read transaction)."""
    return await db.read(plan_in, register, desired)


async def apply(
    db: Database,
    register: str,
    desired: list[m.Entity],
    actor: Author,
    progress: Callable[[str], None] = lambda _: None,
    occurred_at: dt.datetime | None = None,
) -> Plan:
    """Apply in one write transaction; nothing is written unless all of it commits."""
    return await db.write(apply_in, register, desired, actor, progress, occurred_at)
