"""The change-event log: the audit trail and the outbox every follower reads.

Each event gets its sequence number from one `ChangeSequence` node. A writer first takes that
node's write lock (`lock`), which it holds until its transaction ends, so writers commit one at
a time, in sequence order, and a rolled-back transaction gives its numbers back: the sequence
is gap-free and a follower that has read up to N never later sees an event below N appear.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any

from neo4j import AsyncManagedTransaction

# Writing a property takes the node's write lock before anything reads the counter; a plain
# `SET s.value = s.value + 1` reads first and can lose updates under concurrency.
_LOCK = """
MATCH (s:ChangeSequence {name: 'change'})
SET s._lock = true
REMOVE s._lock
RETURN s.value AS value
"""

_APPEND = """
MATCH (s:ChangeSequence {name: 'change'})
WITH s, s.value AS base
SET s.value = base + size($events)
WITH base
UNWIND range(0, size($events) - 1) AS i
WITH base, i, $events[i] AS e
MERGE (c:ChangeEvent {id: e.id})
ON CREATE SET c.sequence = base + i + 1,
              c.occurredAt = datetime($occurredAt),
              c.actor = $actor,
              c.register = $register,
              c.registers = $registers,
              c.entityType = e.entityType,
              c.entityId = e.entityId,
              c.op = e.op,
              c.before = e.before,
              c.after = e.after
RETURN c.sequence AS sequence
"""

_AFTER = """
MATCH (c:ChangeEvent)
WHERE c.sequence > $after
RETURN c {.*} AS event
ORDER BY c.sequence
LIMIT $limit
"""

_LAST = "MATCH (s:ChangeSequence {name: 'change'}) RETURN s.value AS value"


class MissingSequence(RuntimeError):
    """The ChangeSequence node is absent: migrations have not been applied."""


@dataclass(frozen=True)
class PendingEvent:
    """A change about to be recorded; `before`/`after` are None for creations/deletions."""

    entity_type: str
    entity_id: str
    op: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True)
class ChangeEvent:
    """A recorded change."""

    id: str
    sequence: int
    occurred_at: dt.datetime
    actor: str
    register: str | None
    entity_type: str
    entity_id: str
    op: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    # Every register the change belongs to (the first is `register`); access is decided by them.
    registers: tuple[str, ...] = ()

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> ChangeEvent:
        """Build from the properties of a ChangeEvent node."""
        occurred = data["occurredAt"]
        return cls(
            id=data["id"],
            sequence=data["sequence"],
            occurred_at=occurred.to_native() if hasattr(occurred, "to_native") else occurred,
            actor=data["actor"],
            register=data.get("register"),
            entity_type=data["entityType"],
            entity_id=data["entityId"],
            op=data["op"],
            before=json.loads(data["before"]) if data.get("before") else None,
            after=json.loads(data["after"]) if data.get("after") else None,
            registers=tuple(
                data.get("registers") or ([data["register"]] if data.get("register") else [])
            ),
        )


async def lock(tx: AsyncManagedTransaction) -> int:
    """Take the change lock for the rest of `tx`; return the last sequence number."""
    record = await (await tx.run(_LOCK)).single()
    if record is None:
        raise MissingSequence("the change sequence is missing; run `ropa migrate` first")
    return int(record["value"])


async def append(
    tx: AsyncManagedTransaction,
    events: list[PendingEvent],
    actor: str,
    register: str | None = None,
    occurred_at: dt.datetime | None = None,
    registers: list[str] | None = None,
) -> list[int]:
    """Record `events` in `tx` (after `lock`); return their sequence numbers.

    `registers`: every register the changes belong to (default: just `register`), so that
    a change to an entity several registers declare is seen by principals of each of them.

    Idempotent per event id (MERGE), so a retried transaction cannot record an event twice.
    """
    if not events:
        return []
    when = occurred_at or dt.datetime.now(dt.UTC)
    rows = [
        {
            "id": str(uuid.uuid4()),
            "entityType": e.entity_type,
            "entityId": e.entity_id,
            "op": e.op,
            "before": json.dumps(e.before, sort_keys=True) if e.before is not None else None,
            "after": json.dumps(e.after, sort_keys=True) if e.after is not None else None,
        }
        for e in events
    ]
    belongs = registers if registers is not None else ([register] if register else [])
    result = await tx.run(
        _APPEND,
        events=rows,
        actor=actor,
        register=register,
        registers=belongs,
        occurredAt=when.isoformat(),
    )
    return [record["sequence"] async for record in result]


async def read_after(
    tx: AsyncManagedTransaction, after: int, limit: int = 500
) -> list[ChangeEvent]:
    """Events with sequence > `after`, in order, at most `limit` (read transaction)."""
    result = await tx.run(_AFTER, after=after, limit=limit)
    return [ChangeEvent.from_record(record["event"]) async for record in result]


async def last_sequence(tx: AsyncManagedTransaction) -> int:
    """The highest sequence number recorded so far (0 when none)."""
    record = await (await tx.run(_LAST)).single()
    return int(record["value"]) if record is not None else 0
