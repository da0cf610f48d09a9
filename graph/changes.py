"""The change-event log: the audit trail and the outbox every follower reads.

Each event gets its sequence number from one `ChangeSequence` node. A writer first takes that
node's write lock (`lock`), which it holds until its transaction ends, so writers commit one at
a time, in sequence order, and a rolled-back transaction gives its numbers back: the sequence
is gap-free and a follower that has read up to N never later sees an event below N appear.

The log is hash-chained (schema.audit): each event stores the hash of its predecessor and of
its own content, computed here, in the writing transaction, from the head hash the counter
keeps (`s.head`). The change lock serialises writers, so two of them can never chain from the
same head: the chain cannot fork. Events recorded before the chain existed are sealed (chained
from the genesis, in sequence order) by `seal_in`, which `ropa audit seal` runs, and which the
first write after an upgrade runs itself if no one did.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any

from neo4j import AsyncManagedTransaction, AsyncSession

from schema import audit
from schema.audit import Author, actor_properties

# Writing a property takes the node's write lock before anything reads the counter; a plain
# `SET s.value = s.value + 1` reads first and can lose updates under concurrency.
_LOCK = """
MATCH (s:ChangeSequence {name: 'change'})
SET s._lock = true
REMOVE s._lock
RETURN s.value AS value, s.head AS head
"""

# The events come with their sequence numbers and hashes, computed after `_LOCK` in this
# transaction; the counter moves to the last of them and keeps its hash as the new head.
_APPEND = """
MATCH (s:ChangeSequence {name: 'change'})
SET s.value = $last, s.head = $head
WITH s
UNWIND $events AS e
MERGE (c:ChangeEvent {id: e.id})
ON CREATE SET c += e
RETURN c.sequence AS sequence
"""

_UNSEALED = """
MATCH (c:ChangeEvent)
WHERE c.sequence > $after AND c.sequence <= $upto
RETURN properties(c) AS props
ORDER BY c.sequence
LIMIT $limit
"""

_SEAL = """
UNWIND $events AS e
MATCH (c:ChangeEvent {id: e.id})
SET c.prevHash = e.prevHash, c.hash = e.hash
"""

_SET_HEAD = """
MATCH (s:ChangeSequence {name: 'change'})
WHERE s.head IS NULL
SET s.head = $head
"""

_SEAL_PAGE = 2000

_AFTER = """
MATCH (c:ChangeEvent)
WHERE c.sequence > $after
RETURN c {.*} AS event
ORDER BY c.sequence
LIMIT $limit
"""

_LAST = "MATCH (s:ChangeSequence {name: 'change'}) RETURN s.value AS value"


_HEAD = "MATCH (s:ChangeSequence {name: 'change'}) RETURN s.value AS value, s.head AS head"


async def head(tx: AsyncManagedTransaction | AsyncSession) -> str:
    """The log's head as one token: the last sequence number and its hash, which chains every
    event before it, so any change recorded anywhere gives another (a read transaction, or an
    auto-commit read: one query)."""
    record = await (await tx.run(_HEAD)).single()
    return "none" if record is None else f"{record['value']}:{record['head']}"


class MissingSequence(RuntimeError):
    """The ChangeSequence node is absent: migrations have not been applied."""


# A register starts declaring an entity that another register declares already: `before` is
# the entity as it was, `after` as it is now (the same, unless this register's document changed
# it). It is this register's creation of the entity, and nobody else's.
DECLARED = "DECLARED"
# A register stops declaring an entity that another register still declares: the entity stays,
# unchanged (`before` and `after` alike). It is this register's deletion of it, and nobody else's.
RELEASED = "RELEASED"
# The ops that change only which registers declare an entity (with DECLARED, perhaps its values).
MEMBERSHIP_OPS = frozenset({DECLARED, RELEASED})


@dataclass(frozen=True)
class PendingEvent:
    """A change about to be recorded; `before`/`after` are None for creations/deletions
    (CREATED, UPDATED, DELETED; DECLARED and RELEASED, which carry both)."""

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
    actor_via: str | None = None
    actor_subject: str | None = None
    actor_display_name: str | None = None
    hash: str | None = None
    prev_hash: str | None = None

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
            actor_via=data.get("actorVia"),
            actor_subject=data.get("actorSubject"),
            actor_display_name=data.get("actorDisplayName"),
            hash=data.get(audit.HASH_PROPERTY),
            prev_hash=data.get(audit.PREV_PROPERTY),
        )

    def as_json(self) -> dict[str, Any]:
        """The audit record's JSON form (camelCase), as `ropa audit export` writes it."""
        return {
            "id": self.id,
            "sequence": self.sequence,
            "occurredAt": self.occurred_at.isoformat(),
            "register": self.register,
            "registers": list(self.registers),
            "entityType": self.entity_type,
            "entityId": self.entity_id,
            "op": self.op,
            "actor": {
                "name": self.actor,
                "via": self.actor_via,
                "subject": self.actor_subject,
                "displayName": self.actor_display_name,
            },
            "before": self.before,
            "after": self.after,
            "prevHash": self.prev_hash,
            "hash": self.hash,
        }


async def _head(tx: AsyncManagedTransaction) -> tuple[int, str | None]:
    record = await (await tx.run(_LOCK)).single()
    if record is None:
        raise MissingSequence("the change sequence is missing; run `ropa migrate` first")
    return int(record["value"]), record["head"]


async def lock(tx: AsyncManagedTransaction) -> int:
    """Take the change lock for the rest of `tx`; return the last sequence number."""
    value, _ = await _head(tx)
    return value


def _utc(when: dt.datetime) -> dt.datetime:
    aware = when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)
    return aware.astimezone(dt.UTC)


async def append(
    tx: AsyncManagedTransaction,
    events: list[PendingEvent],
    actor: Author,
    register: str | None = None,
    occurred_at: dt.datetime | None = None,
    registers: list[str] | None = None,
) -> list[int]:
    """Record `events` in `tx` (after `lock`), chained to the log; return their sequences.

    `registers`: every register the changes belong to (default: just `register`), so that
    a change to an entity several registers declare is seen by principals of each of them.
    `actor` is the principal the events name (a bare string: the CLI's user).

    Idempotent per event id (MERGE), so a retried transaction cannot record an event twice.
    """
    if not events:
        return []
    last, head = await _head(tx)
    if head is None:
        head = await _seal(tx, last)
    when = _utc(occurred_at or dt.datetime.now(dt.UTC))
    who = actor_properties(actor)
    belongs = registers if registers is not None else ([register] if register else [])
    rows = []
    for i, e in enumerate(events):
        props: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "sequence": last + i + 1,
            "occurredAt": when,
            "register": register,
            "registers": belongs,
            "entityType": e.entity_type,
            "entityId": e.entity_id,
            "op": e.op,
            "before": json.dumps(e.before, sort_keys=True) if e.before is not None else None,
            "after": json.dumps(e.after, sort_keys=True) if e.after is not None else None,
            **who,
        }
        row = audit.chained({k: v for k, v in props.items() if v is not None}, head)
        head = row[audit.HASH_PROPERTY]
        rows.append(row)
    result = await tx.run(_APPEND, events=rows, last=last + len(rows), head=head)
    return [record["sequence"] async for record in result]


async def _seal(tx: AsyncManagedTransaction, last: int) -> str:
    """Chain the events up to `last` from the genesis (they predate the chain), after the
    lock; return the head hash (the genesis when there are none)."""
    head, after = audit.GENESIS, 0
    while after < last:
        result = await tx.run(_UNSEALED, after=after, upto=last, limit=_SEAL_PAGE)
        page = [record["props"] async for record in result]
        if not page:
            break
        sealed = []
        for props in page:
            row = audit.chained(props, head)
            head = row[audit.HASH_PROPERTY]
            sealed.append({"id": row["id"], "prevHash": row["prevHash"], "hash": head})
        await tx.run(_SEAL, events=sealed)
        after = int(page[-1]["sequence"])
    await tx.run(_SET_HEAD, head=head)
    return head


async def seal_in(tx: AsyncManagedTransaction) -> int:
    """Chain the events recorded before the chain existed (write tx; idempotent: once the
    counter keeps a head, there is nothing to seal). Returns how many were sealed."""
    last, head = await _head(tx)
    if head is not None:
        return 0
    await _seal(tx, last)
    return last


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


_BY_ID = """
UNWIND $ids AS id
MATCH (c:ChangeEvent {id: id})
RETURN c {.*} AS event
"""


async def events_by_id(tx: AsyncManagedTransaction, ids: list[str]) -> dict[str, ChangeEvent]:
    """The recorded events with these ids (read transaction)."""
    result = await tx.run(_BY_ID, ids=ids)
    found = [ChangeEvent.from_record(record["event"]) async for record in result]
    return {event.id: event for event in found}
