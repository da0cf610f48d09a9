"""The sub-processor changes as the API reads them: a page after a cursor, the newest ones for a
feed, and the organisations they name, including those since taken out of the register."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from neo4j import AsyncManagedTransaction

from graph import changes
from graph import model as m
from graph import subprocessor_changes as spc
from graph.database import Database
from graph.read import snapshots
from graph.read.organisations import organisation
from schema.change_requests import UnknownChangeEvent
from schema.graphql.records import ChangeEntryRecord, OrganisationRecord

_SEQUENCE_OF = "MATCH (c:ChangeEvent {id: $id}) RETURN c.sequence AS sequence"

# Engagement events before $before, newest first, by the (entityType, sequence) index; as
# graph.subprocessor_changes reads them oldest first (see there for `$needle` and `last`).
_NEWEST = (
    """
MATCH (c:ChangeEvent)
USING INDEX SEEK c:ChangeEvent(entityType, sequence)
WHERE c.entityType = $entityType AND c.sequence < $before
WITH c ORDER BY c.entityType DESC, c.sequence DESC LIMIT $scan
"""
    + spc.PAGE_RETURN
)

_ORGANISATIONS = """
UNWIND $ids AS id
MATCH (n:Organisation {id: id})
RETURN n {.*} AS props
"""

# The last recorded state of organisations no longer in the graph.
_RECORDED = """
UNWIND $ids AS id
MATCH (c:ChangeEvent {entityType: 'Organisation', entityId: id})
WITH id, c ORDER BY c.sequence DESC
WITH id, [s IN collect(coalesce(c.after, c.before)) WHERE s IS NOT NULL][0] AS snapshot
RETURN id, snapshot
"""

_MIN_SCAN = 500

# The first change recorded on or after a moment.
_FIRST_SINCE = """
MATCH (c:ChangeEvent) WHERE c.occurredAt >= $since
RETURN min(c.sequence) AS sequence
"""


@dataclass(frozen=True)
class FeedChanges:
    """A processor's newest changes, and every organisation they name (by id)."""

    changes: list[spc.SubProcessorChange]
    organisations: dict[str, OrganisationRecord]


async def sequence_of(tx: AsyncManagedTransaction, event_id: str) -> int | None:
    """The sequence of the change event with this id; None when there is none."""
    record = await (await tx.run(_SEQUENCE_OF, id=event_id)).single()
    return None if record is None else int(record["sequence"])


async def history_in(
    tx: AsyncManagedTransaction,
    processor_id: str | None,
    after: str | None,
    first: int,
    since: dt.date | None = None,
    registers: frozenset[str] | None = None,
) -> list[spc.SubProcessorChange]:
    """Up to `first` changes (of the processor, if given) after the event `after`, oldest first.

    `after` is any change event's id (None: from the beginning, or from the first change
    recorded on or after the day `since`, UTC); UnknownChangeEvent if none has it. Read
    transaction.
    """
    position = 0
    if after is None and since is not None:
        moment = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC)
        record = await (await tx.run(_FIRST_SINCE, since=moment)).single()
        if record is None or record["sequence"] is None:
            return []
        position = int(record["sequence"]) - 1
    if after is not None:
        found = await sequence_of(tx, after)
        if found is None:
            raise UnknownChangeEvent("after", after)
        position = found
    return await spc.changes_after(tx, position, processor_id, first, registers)


async def history(
    db: Database,
    processor_id: str | None,
    after: str | None,
    first: int,
    since: dt.date | None = None,
    registers: frozenset[str] | None = None,
) -> list[spc.SubProcessorChange]:
    """`history_in` in one read transaction (changes of `registers` only, if given)."""
    return await db.read(history_in, processor_id, after, first, since, registers)


async def newest_in(
    tx: AsyncManagedTransaction, processor_id: str, limit: int, before: dt.datetime | None = None
) -> list[spc.SubProcessorChange]:
    """The processor's latest `limit` changes (recorded before `before`, if given), newest
    first (read transaction)."""
    needle = json.dumps(m.entity_key(m.ORGANISATION, processor_id))
    scan = max(limit, _MIN_SCAN)
    # As recorded before a moment: the part of the log a reader could have been served then.
    last = (
        await changes.last_sequence(tx)
        if before is None
        else (await snapshots.covered(tx, before)).sequence
    )
    position = last + 1
    found: list[spc.SubProcessorChange] = []
    while len(found) < limit:
        result = await tx.run(
            _NEWEST, entityType=m.ENGAGEMENT, before=position, scan=scan, needle=needle
        )
        record = await result.single()
        if record is None or record["last"] is None:
            break
        for data in record["events"]:
            change = spc.from_event(changes.ChangeEvent.from_record(data))
            if change is not None and change.concerns(processor_id):
                found.append(change)
        position = int(record["last"])
        if record["scanned"] < scan:
            break
    return found[:limit]


def _record(org_id: str, props: Mapping[str, Any]) -> OrganisationRecord:
    return organisation({**props, "id": org_id, "name": props.get("name") or org_id})


async def organisations_in(
    tx: AsyncManagedTransaction, ids: list[str]
) -> dict[str, OrganisationRecord]:
    """The organisations with these ids as they are, or as last recorded if since removed."""
    found: dict[str, OrganisationRecord] = {}
    async for record in await tx.run(_ORGANISATIONS, ids=sorted(set(ids))):
        found[record["props"]["id"]] = organisation(record["props"])
    missing = sorted(set(ids) - set(found))
    if missing:
        async for record in await tx.run(_RECORDED, ids=missing):
            snapshot = json.loads(record["snapshot"]) if record["snapshot"] else {}
            found[record["id"]] = _record(record["id"], snapshot.get("props", {}))
    return found


async def recorded_organisations(db: Database, ids: list[str]) -> dict[str, OrganisationRecord]:
    """`organisations_in` in one read transaction."""
    return await db.read(organisations_in, ids)


async def feed_in(
    tx: AsyncManagedTransaction, processor_id: str, limit: int, before: dt.datetime | None = None
) -> FeedChanges:
    """What a processor's feed shows: its newest changes (recorded before `before`, if given)
    and the organisations they name."""
    found = await spc.with_activity_registers(tx, await newest_in(tx, processor_id, limit, before))
    ids = {processor_id}
    for change in found:
        ids |= {change.processor, change.sub_processor}
    return FeedChanges(found, await organisations_in(tx, sorted(ids)))


async def feed(
    db: Database, processor_id: str, limit: int, before: dt.datetime | None = None
) -> FeedChanges:
    """`feed_in` in one read transaction."""
    return await db.read(feed_in, processor_id, limit, before)


# Changes recorded per calendar month (UTC) in the registers a controller owns (all: null),
# before the moment $before (null: every one so far).
_MONTHLY = """
OPTIONAL MATCH (reg:Register)-[:OWNED_BY]->(:Organisation {id: $controller})
WITH collect(reg.id) AS owned
MATCH (c:ChangeEvent)
WHERE c.occurredAt IS NOT NULL
  AND ($before IS NULL OR c.occurredAt < datetime($before))
  AND ($controller IS NULL
       OR any(r IN coalesce(c.registers, [c.register]) WHERE r IN owned))
RETURN substring(toString(c.occurredAt), 0, 7) AS month, count(*) AS changes
ORDER BY month
"""


def _moment(before: dt.datetime | None) -> str | None:
    return None if before is None else before.isoformat()


async def _monthly(
    tx: AsyncManagedTransaction, /, controller: str | None, before: dt.datetime | None
) -> list[tuple[str, int]]:
    result = await tx.run(_MONTHLY, controller=controller, before=_moment(before))
    return [(record["month"], record["changes"]) async for record in result]


async def changes_per_month(
    db: Database, controller: str | None, before: dt.datetime | None = None
) -> list[tuple[str, int]]:
    """(YYYY-MM, how many changes) for the controller's registers (or all), oldest first;
    with `before`, those recorded before that moment only."""
    return await db.read(_monthly, controller, before)


# The newest changes recorded in the registers a controller owns (all: null), newest first,
# before the moment $before (null: the newest so far).
_LATEST = """
OPTIONAL MATCH (reg:Register)-[:OWNED_BY]->(:Organisation {id: $controller})
WITH collect(reg.id) AS owned
MATCH (c:ChangeEvent)
WHERE ($controller IS NULL OR any(r IN coalesce(c.registers, [c.register]) WHERE r IN owned))
  AND ($before IS NULL OR c.occurredAt < datetime($before))
WITH c ORDER BY c.sequence DESC LIMIT $limit
RETURN c.sequence AS sequence, toString(c.occurredAt) AS occurredAt, c.actor AS actor,
       c.op AS op, c.entityType AS entityType, c.entityId AS entityId
"""


async def _latest(
    tx: AsyncManagedTransaction, /, controller: str | None, limit: int, before: dt.datetime | None
) -> list[ChangeEntryRecord]:
    result = await tx.run(_LATEST, controller=controller, limit=limit, before=_moment(before))
    return [
        ChangeEntryRecord(
            sequence=record["sequence"],
            occurred_at=record["occurredAt"],
            actor=record["actor"],
            op=record["op"],
            entity_type=record["entityType"],
            entity_id=record["entityId"],
        )
        async for record in result
    ]


async def latest_changes(
    db: Database, controller: str | None, limit: int, before: dt.datetime | None = None
) -> list[ChangeEntryRecord]:
    """The newest `limit` changes in the controller's registers (or all), newest first; with
    `before`, the newest recorded before that moment."""
    return await db.read(_latest, controller, limit, before)
