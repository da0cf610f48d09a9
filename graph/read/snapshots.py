"""A register's entities as the graph held them at the end of a day: its change history undone.

"Recorded at T" means the values the register held at moment T (a day D given as recordedAt is
the end of D, UTC: schema.recorded_at). We take the current state and roll back, newest first,
every change event that occurred at or after that instant, putting back each event's
`before` snapshot. Rolling back (rather than rebuilding from the first event) needs only the
events since D, and stays right if older history is ever archived.

Entities are handled in their change-event snapshot form (`Entity.snapshot()`: camelCase props,
dates as ISO text, links as `{type, to, props}`), the form the events record.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from neo4j import AsyncManagedTransaction

from graph import changes
from graph import model as m
from graph.register import current_state

Snapshot = dict[str, Any]

_EVENTS_OF_REGISTER = """
MATCH (c:ChangeEvent)
WHERE c.occurredAt >= datetime($cutoff) AND c.register = $register
RETURN c {.*} AS event
"""

# Shared entities can be changed through another register; those changes roll back too.
_EVENTS_OF_ENTITIES = """
MATCH (c:ChangeEvent)
WHERE c.occurredAt >= datetime($cutoff)
  AND (c.register IS NULL OR c.register <> $register)
  AND c.entityType + ':' + c.entityId IN $keys
RETURN c {.*} AS event
"""

# The state an entity had just before event `$sequence`, when that event recorded no `before`
# (another register "created" an entity that already existed through this one).
_STATE_BEFORE = """
MATCH (c:ChangeEvent {entityType: $kind, entityId: $id})
WHERE c.sequence < $sequence AND c.after IS NOT NULL
RETURN c.after AS after
ORDER BY c.sequence DESC
LIMIT 1
"""


async def _events(
    tx: AsyncManagedTransaction, register: str, keys: Iterable[str], cutoff: dt.datetime
) -> list[changes.ChangeEvent]:
    own = await tx.run(_EVENTS_OF_REGISTER, register=register, cutoff=cutoff.isoformat())
    events = [changes.ChangeEvent.from_record(r["event"]) async for r in own]
    wanted = set(keys) | {m.entity_key(e.entity_type, e.entity_id) for e in events}
    others = await tx.run(
        _EVENTS_OF_ENTITIES, register=register, keys=sorted(wanted), cutoff=cutoff.isoformat()
    )
    events.extend([changes.ChangeEvent.from_record(r["event"]) async for r in others])
    return sorted(events, key=lambda e: e.sequence, reverse=True)


async def _state_before(tx: AsyncManagedTransaction, event: changes.ChangeEvent) -> Snapshot | None:
    result = await tx.run(
        _STATE_BEFORE, kind=event.entity_type, id=event.entity_id, sequence=event.sequence
    )
    record = await result.single()
    return json.loads(record["after"]) if record is not None else None


def _first_apply(register: str, events: list[changes.ChangeEvent]) -> int:
    """The last sequence number of the register's first apply, if among `events`; else 0.

    Its events share one `occurredAt` (one transaction) with the register's own creation.
    """
    created = next(
        (
            e
            for e in events
            if e.register == register
            and e.entity_type == m.REGISTER
            and e.entity_id == register
            and e.op == "CREATED"
        ),
        None,
    )
    if created is None:
        return 0
    return max(
        e.sequence
        for e in events
        if e.register == register and e.occurred_at == created.occurred_at
    )


async def register_snapshots(
    tx: AsyncManagedTransaction, register: str, recorded_at: dt.datetime | None = None
) -> dict[str, Snapshot]:
    """The register's entities (and its own node) by key, as recorded now or at `recorded_at`.

    Before the register was first applied the registry knows nothing newer than that first
    state, so a day before it gives the first state (the record describes earlier processing
    through its validity dates). Read-only; run it in a read transaction.
    """
    state = {key: e.snapshot() for key, e in (await current_state(tx, register)).items()}
    if recorded_at is None:
        return state
    events = await _events(tx, register, state, recorded_at)
    floor = _first_apply(register, events)
    for event in events:
        if event.sequence <= floor:
            break
        key = m.entity_key(event.entity_type, event.entity_id)
        if event.register == register:
            # This register's own events decide what it declared, and their values.
            if event.op == "CREATED":
                state.pop(key, None)
            elif event.before is not None:
                state[key] = event.before
        elif key in state:
            before = event.before if event.before is not None else await _state_before(tx, event)
            if before is not None:
                state[key] = before
    return state
