"""A register's entities as the graph held them at a past moment: its change history undone.

"Recorded at T" means the values the register held at moment T (a day D given as recordedAt is
the end of D, UTC: schema.recorded_at). The log's order is its gap-free sequence, the order the
changes were committed in; `occurredAt` is stamped inside the writing transaction, before it
commits, so it says when a change was at the earliest seen, and does not always rise with the
sequence (a writer on a host whose clock is behind; history imported with its own dates). So
the record at T is a prefix of the log: every change up to the last one before the first
stamped at or after T (`covered`), since nothing after that one can have been seen before T.
We take the current state and roll back, newest first, every change event after that
sequence, putting back each event's `before` snapshot. Rolling back (rather than rebuilding
from the first event) needs only the events since, and stays right if older history is ever
archived. A record at sequence N never changes (the log is append-only): `Horizon` names it.

Entities are handled in their change-event snapshot form (`Entity.snapshot()`: camelCase props,
dates as ISO text, links as `{type, to, props}`), the form the events record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from neo4j import AsyncManagedTransaction

from graph import changes
from graph import model as m
from graph.register import current_state

Snapshot = dict[str, Any]

_EVENTS_OF_REGISTER = """
MATCH (c:ChangeEvent)
WHERE c.sequence > $upto AND c.register = $register
RETURN c {.*} AS event
"""

# Shared entities can be changed through another register; those changes roll back too.
_EVENTS_OF_ENTITIES = """
MATCH (c:ChangeEvent)
WHERE c.sequence > $upto
  AND (c.register IS NULL OR c.register <> $register)
  AND c.entityType + ':' + c.entityId IN $keys
RETURN c {.*} AS event
"""

# The state an entity had just before event `$sequence`, when that event recorded no `before`
# (another register "created" an entity that already existed through this one: events written
# before DECLARED existed).
_STATE_BEFORE = """
MATCH (c:ChangeEvent {entityType: $kind, entityId: $id})
WHERE c.sequence < $sequence AND c.after IS NOT NULL
RETURN c.after AS after
ORDER BY c.sequence DESC
LIMIT 1
"""


# The record at $at covers the log up to the change before the first one stamped at or after
# it (the sequence it covers and that change's hash; none stamped since: the whole log).
_COVERED = """
OPTIONAL MATCH (c:ChangeEvent) WHERE c.occurredAt >= datetime($at)
WITH min(c.sequence) AS first
MATCH (s:ChangeSequence {name: 'change'})
WITH CASE WHEN first IS NULL THEN s.value ELSE first - 1 END AS upto
OPTIONAL MATCH (e:ChangeEvent {sequence: CASE WHEN upto = 0 THEN 1 ELSE upto END})
WITH upto, e.hash AS hash
OPTIONAL MATCH (reg:Register)
RETURN upto, hash, collect(reg.id) AS registers
"""


@dataclass(frozen=True)
class Horizon:
    """What a past record is made of: every change up to `sequence`, whose `hash` (which
    chains all before it; of the first change when it covers none, and None when there is
    none) tells one log's sequence N from another's, and the registers in the graph, each of
    which a moment before its first apply reads in its first state (`register_snapshots`). The
    same horizon always gives the same record."""

    sequence: int
    hash: str | None
    registers: tuple[str, ...]

    @property
    def token(self) -> str:
        """The horizon as one short string, for a cache key (the registers digested: a graph
        may hold a thousand)."""
        registers = hashlib.sha256("\n".join(self.registers).encode()).hexdigest()[:32]
        return f"{self.sequence}:{self.hash}:{registers}"


async def covered(tx: AsyncManagedTransaction, at: dt.datetime) -> Horizon:
    """What the record as recorded at `at` is made of (read tx)."""
    record = await (await tx.run(_COVERED, at=at.isoformat())).single()
    if record is None:
        raise changes.MissingSequence("the change sequence is missing; run `ropa migrate` first")
    return Horizon(int(record["upto"]), record["hash"], tuple(sorted(record["registers"])))


async def covered_each(
    tx: AsyncManagedTransaction, /, moments: list[dt.datetime]
) -> tuple[Horizon, ...]:
    """`covered` for each moment, in one read transaction."""
    return tuple([await covered(tx, moment) for moment in moments])


async def _events(
    tx: AsyncManagedTransaction, register: str, keys: Iterable[str], upto: int
) -> list[changes.ChangeEvent]:
    own = await tx.run(_EVENTS_OF_REGISTER, register=register, upto=upto)
    events = [changes.ChangeEvent.from_record(r["event"]) async for r in own]
    wanted = set(keys) | {m.entity_key(e.entity_type, e.entity_id) for e in events}
    others = await tx.run(_EVENTS_OF_ENTITIES, register=register, keys=sorted(wanted), upto=upto)
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
    tx: AsyncManagedTransaction,
    register: str,
    recorded_at: dt.datetime | None = None,
    *,
    upto: Horizon | None = None,
) -> dict[str, Snapshot]:
    """The register's entities (and its own node) by key, as recorded now or at `recorded_at`
    (or at `upto`, the part of the log `covered` found for it, when the caller has it).

    Before the register was first applied the registry knows nothing newer than that first
    state, so a day before it gives the first state (the record describes earlier processing
    through its validity dates). Read-only; run it in a read transaction.
    """
    state = {key: e.snapshot() for key, e in (await current_state(tx, register)).items()}
    if upto is None:
        if recorded_at is None:
            return state
        upto = await covered(tx, recorded_at)
    events = await _events(tx, register, state, upto.sequence)
    floor = _first_apply(register, events)
    for event in events:
        if event.sequence <= floor:
            break
        key = m.entity_key(event.entity_type, event.entity_id)
        if event.register == register:
            # This register's own events decide what it declared, and their values.
            if event.op in ("CREATED", changes.DECLARED):
                state.pop(key, None)
            elif event.before is not None:
                state[key] = event.before
        elif key in state:
            before = event.before if event.before is not None else await _state_before(tx, event)
            if before is not None:
                state[key] = before
    return state
