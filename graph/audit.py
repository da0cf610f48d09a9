"""The audit trail as it is read: the whole chain checked, and one register's log paged.

`verify` walks every event up to the counter read at its start, in pages of separate read
transactions (the log is append-only, so later writes do not disturb the part walked), and
checks the chain with schema.audit.ChainCheck. `register_log_in` pages one register's events
for the export and the GraphQL `auditLog`: every event that belongs to it (`registers`; events
written before that property existed name only `register`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from neo4j import AsyncManagedTransaction

from graph import changes
from graph.database import Database
from schema.audit import ChainBreak, ChainCheck

_COUNTER = "MATCH (s:ChangeSequence {name: 'change'}) RETURN s.value AS value, s.head AS head"

_WALK = """
MATCH (c:ChangeEvent)
WHERE c.sequence > $after AND c.sequence <= $upto
RETURN properties(c) AS props
ORDER BY c.sequence
LIMIT $limit
"""

_REGISTER_PAGE = """
MATCH (c:ChangeEvent)
WHERE c.sequence > $after AND ($since IS NULL OR c.occurredAt >= $since)
  AND (c.register = $register OR $register IN coalesce(c.registers, []))
RETURN properties(c) AS props
ORDER BY c.sequence
LIMIT $limit
"""

_REGISTER_COUNT = """
MATCH (c:ChangeEvent)
WHERE ($since IS NULL OR c.occurredAt >= $since)
  AND (c.register = $register OR $register IN coalesce(c.registers, []))
RETURN count(c) AS total
"""

_REGISTER_EXISTS = "MATCH (r:Register {id: $register}) RETURN r.id AS id"

_PAGE = 2000


@dataclass(frozen=True)
class Verification:
    """What `verify` found: how many events hold, up to which sequence, and the first break."""

    checked: int
    last: int
    head: str | None
    broken: ChainBreak | None

    @property
    def intact(self) -> bool:
        """True when every event up to `last` is where and what it was written."""
        return self.broken is None


@dataclass(frozen=True)
class LogPage:
    """One page of a register's log, and how many events the whole log holds."""

    events: list[changes.ChangeEvent]
    total: int
    has_next: bool


async def _counter(tx: AsyncManagedTransaction) -> tuple[int, str | None]:
    record = await (await tx.run(_COUNTER)).single()
    if record is None:
        raise changes.MissingSequence("the change sequence is missing; run `ropa migrate` first")
    return int(record["value"]), record["head"]


async def _walk(
    tx: AsyncManagedTransaction, after: int, upto: int, limit: int
) -> list[dict[str, Any]]:
    result = await tx.run(_WALK, after=after, upto=upto, limit=limit)
    return [dict(record["props"]) async for record in result]


async def verify(db: Database, page: int = _PAGE) -> Verification:
    """Check the whole chain; stops at the first break, which it names."""
    last, head = await db.read(_counter)
    check = ChainCheck()
    after = 0
    while after < last:
        events = await db.read(_walk, after, last, page)
        if not events:
            break
        for props in events:
            if not check.feed(props):
                return Verification(check.checked, last, head, check.broken)
        after = int(events[-1]["sequence"])
    return Verification(check.checked, last, head, check.finish(last, head))


async def seal(db: Database) -> int:
    """Chain the events recorded before the chain existed (one write transaction); how many."""
    return await db.write(changes.seal_in)


async def register_exists(tx: AsyncManagedTransaction, register: str) -> bool:
    """Whether a register with this id is in the graph (read tx)."""
    return await (await tx.run(_REGISTER_EXISTS, register=register)).single() is not None


async def register_log_in(
    tx: AsyncManagedTransaction,
    register: str,
    after: int,
    first: int,
    since: dt.datetime | None = None,
) -> LogPage:
    """Up to `first` events of the register after sequence `after` (and from `since`), oldest
    first, with the count of all its events (from `since`). Read tx."""
    result = await tx.run(
        _REGISTER_PAGE, register=register, after=after, since=since, limit=first + 1
    )
    found = [changes.ChangeEvent.from_record(record["props"]) async for record in result]
    total = await (await tx.run(_REGISTER_COUNT, register=register, since=since)).single()
    return LogPage(found[:first], int(total["total"]) if total else 0, len(found) > first)


async def audit_log_in(
    tx: AsyncManagedTransaction, register: str, after: int, first: int
) -> LogPage | None:
    """A page of the register's log (`register_log_in`), or None when there is no such
    register and no event names it (read tx)."""
    page = await register_log_in(tx, register, after, first)
    if not page.total and not await register_exists(tx, register):
        return None
    return page
