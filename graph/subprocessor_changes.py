"""The sub-processor changes: the change log seen as `SubProcessorChange`s.

Every change event about an `Engagement` is one sub-processor change: CREATED is ADDED, UPDATED
is CHANGED and DELETED is REMOVED. A register that starts (DECLARED) or stops (RELEASED)
declaring an engagement another register declares too changes no list: the engagement moves
between registers, and no one is told, unless the register takes it up with other values
(CHANGED, as an update). An update that ends the engagement (gives it a last day,
`until`, where it had none, as `endEngagement` does, or withdraws it) is REMOVED too, though
the engagement stays in the register with its history: `after` is the ended engagement.

`effectiveFrom` is the first day the change applies: for an addition or a change the
engagement's `since`; for a removal the day after its `until`; else the day it was recorded.

`sequence` is the global, gap-free change sequence; the changes of one processor (or all
sub-processor changes) are a subsequence of it, increasing but with gaps where other entities
changed. A follower keeps the last sequence it saw and asks for the changes after it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, LiteralString, Protocol, TypeVar

from neo4j import AsyncManagedTransaction, AsyncSession

from graph import changes
from graph import model as m

ADDED = "ADDED"
CHANGED = "CHANGED"
REMOVED = "REMOVED"
_TYPES = {"CREATED": ADDED, "UPDATED": CHANGED, "DELETED": REMOVED}

# The end of every page of events (`_PAGE`, graph.read.changes, graph.webhooks): the rows
# scanned, those naming `$needle` (or all), how many and the last sequence looked at.
PAGE_RETURN = """
WITH collect(c) AS scanned
RETURN [x IN scanned
        WHERE $needle IS NULL OR x.after CONTAINS $needle OR x.before CONTAINS $needle
        | x {.*}] AS events,
       size(scanned) AS scanned,
       CASE WHEN size(scanned) = 0 THEN null ELSE scanned[-1].sequence END AS last
"""

# Engagement events after $after, oldest first, by the (entityType, sequence) index (ordering
# by both properties lets the index supply the order, so LIMIT stops the scan early; the hint
# keeps the planner from a label scan while the log is small). The
# processor is inside the JSON snapshots, which Cypher cannot parse: `$needle` (the processor's
# quoted key) narrows the rows, and `from_event` decides exactly. `last` is the highest sequence
# looked at, so a follower can move past a stretch holding nothing for it.
_PAGE = (
    """
MATCH (c:ChangeEvent)
USING INDEX SEEK c:ChangeEvent(entityType, sequence)
WHERE c.entityType = $entityType AND c.sequence > $after
WITH c ORDER BY c.entityType, c.sequence LIMIT $scan
"""
    + PAGE_RETURN
)

_HEAD = """
MATCH (c:ChangeEvent)
USING INDEX SEEK c:ChangeEvent(entityType, sequence)
WHERE c.entityType = $entityType AND c.sequence > 0
RETURN c.sequence AS sequence
ORDER BY c.entityType DESC, c.sequence DESC
LIMIT 1
"""

# How many engagement events one query looks at, at least, when a processor filter is set.
_MIN_SCAN = 500


@dataclass(frozen=True)
class SubProcessorChange:
    """One change to a processor's sub-processors; `before`/`after` are engagement views."""

    id: str
    sequence: int
    type: str
    occurred_at: dt.datetime
    effective_from: dt.date
    processor: str
    sub_processor: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    actor: str
    # The registers the change belongs to: who may read it (schema.access.policy).
    registers: tuple[str, ...] = ()
    # The registers declaring the activity it serves, before or after (its controllers'), as
    # they are: a controller hears of its processors' sub-processing (ReadScope.reads_engagement).
    activity_registers: tuple[str, ...] = ()

    @property
    def readers(self) -> tuple[str, ...]:
        """The registers whose principals hear of it (`registers` and `activity_registers`)."""
        return self.registers + self.activity_registers

    def concerns(self, processor: str | None) -> bool:
        """Whether a reader of `processor`'s changes (None: every processor's) gets this one;
        an engagement moved from one processor to another concerns both."""
        if processor is None:
            return True
        return processor in (
            self.processor,
            (self.before or {}).get("processor"),
            (self.after or {}).get("processor"),
        )

    def as_json(self) -> dict[str, Any]:
        """The JSON form (camelCase), as webhooks, feeds and the API present it."""
        return {
            "id": self.id,
            "sequence": self.sequence,
            "type": self.type,
            "occurredAt": self.occurred_at.isoformat(),
            "effectiveFrom": self.effective_from.isoformat(),
            "processor": self.processor,
            "subProcessor": self.sub_processor,
            "before": self.before,
            "after": self.after,
            "actor": self.actor,
        }


T = TypeVar("T")


@dataclass(frozen=True)
class ChangePage(Generic[T]):
    """Changes after a sequence, and how far the log was read to find them."""

    changes: list[T]
    # Highest sequence examined (matching or not); None when nothing was there.
    scanned_through: int | None


def _link_target(snapshot: dict[str, Any], link_type: str) -> str | None:
    for link in snapshot.get("links", []):
        if link.get("type") == link_type:
            kind, _, target = str(link.get("to", "")).partition(":")
            return target if kind else None
    return None


def _link_targets(snapshot: dict[str, Any], link_type: str) -> list[str]:
    return sorted(
        str(link["to"]).partition(":")[2]
        for link in snapshot.get("links", [])
        if link.get("type") == link_type
    )


def engagement_view(snapshot: dict[str, Any] | None) -> dict[str, Any] | None:
    """An engagement snapshot as receivers see it: flat, camelCase, links by id."""
    if snapshot is None:
        return None
    props = snapshot.get("props", {})
    return {
        "id": snapshot.get("id"),
        "processor": _link_target(snapshot, "ENGAGED_BY"),
        "subProcessor": _link_target(snapshot, "SUB_PROCESSOR"),
        "purpose": props.get("purpose"),
        "dataCategories": _link_targets(snapshot, "COVERS"),
        "activity": _link_target(snapshot, "FOR_ACTIVITY"),
        "location": props.get("location"),
        "since": props.get("since"),
        "until": props.get("until"),
        "status": props.get("status"),
        "noticeDate": props.get("noticeDate"),
        "contract": props.get("contract"),
    }


def _date(value: Any) -> dt.date | None:
    if isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _ends(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Whether an update takes the engagement off the list: a first `until`, or a withdrawal."""
    old, new = before.get("props", {}), after.get("props", {})
    withdrawn = new.get("status") == "withdrawn" and old.get("status") != "withdrawn"
    return withdrawn or (old.get("until") is None and new.get("until") is not None)


def _day_after(value: Any) -> dt.date | None:
    last = _date(value)
    return None if last is None else last + dt.timedelta(days=1)


def _effective_from(
    kind: str, before: dict[str, Any], after: dict[str, Any], day: dt.date
) -> dt.date:
    if kind == REMOVED:
        ended = after or before
        return _day_after(ended.get("props", {}).get("until")) or day
    return _date(after.get("props", {}).get("since")) or day


def _kind(event: changes.ChangeEvent) -> str | None:
    # A register taking up or letting go of an engagement another register declares does not
    # change the processor's list; taking it up with other values changes it as an update does.
    if event.op == changes.RELEASED:
        return None
    if event.op == changes.DECLARED:
        return None if event.before == event.after else CHANGED
    return _TYPES.get(event.op)


def from_event(event: changes.ChangeEvent) -> SubProcessorChange | None:
    """The sub-processor change an event records, or None for events about anything else (and
    for a register starting or stopping to declare an engagement, otherwise unchanged)."""
    kind = _kind(event)
    if event.entity_type != m.ENGAGEMENT or kind is None:
        return None
    if kind == CHANGED and _ends(event.before or {}, event.after or {}):
        kind = REMOVED
    current = event.after or event.before
    if current is None:
        return None
    processor = _link_target(current, "ENGAGED_BY")
    sub_processor = _link_target(current, "SUB_PROCESSOR")
    if processor is None or sub_processor is None:
        return None
    return SubProcessorChange(
        id=event.id,
        sequence=event.sequence,
        type=kind,
        occurred_at=event.occurred_at,
        effective_from=_effective_from(
            kind, event.before or {}, event.after or {}, event.occurred_at.date()
        ),
        processor=processor,
        sub_processor=sub_processor,
        before=engagement_view(event.before),
        after=engagement_view(event.after),
        actor=event.actor,
        registers=event.registers,
    )


class Notice(Protocol):
    """What a page is made of: an event seen as a change to tell someone about."""

    @property
    def sequence(self) -> int: ...

    @property
    def registers(self) -> tuple[str, ...]: ...

    @property
    def readers(self) -> tuple[str, ...]: ...

    def concerns(self, processor: str | None) -> bool: ...


N = TypeVar("N", bound=Notice)


def _belongs(change: Notice, registers: frozenset[str] | None) -> bool:
    return registers is None or not registers.isdisjoint(change.readers)


# The registers declaring each of these activities (ids), as they are now.
_ACTIVITY_REGISTERS = """
UNWIND $ids AS id
MATCH (:ProcessingActivity {id: id})<-[:DECLARES]-(reg:Register)
RETURN id, collect(DISTINCT reg.id) AS registers
"""


async def with_activity_registers(
    tx: AsyncManagedTransaction, found: list[SubProcessorChange]
) -> list[SubProcessorChange]:
    """These changes with `activity_registers` read (one query; none when nothing to read)."""
    served = {
        change.id: {v["activity"] for v in (change.before, change.after) if v and v.get("activity")}
        for change in found
    }
    wanted = sorted(set().union(*served.values()))
    if not wanted:
        return found
    declaring: dict[str, list[str]] = {}
    async for record in await tx.run(_ACTIVITY_REGISTERS, ids=wanted):
        declaring[record["id"]] = list(record["registers"])
    return [
        dataclasses.replace(
            change,
            activity_registers=tuple(
                sorted({r for a in served[change.id] for r in declaring.get(a, ())})
            ),
        )
        for change in found
    ]


async def scan_page(
    tx: AsyncManagedTransaction,
    query: LiteralString,
    params: dict[str, Any],
    convert: Callable[[changes.ChangeEvent], N | None],
    after: int,
    processor: str | None,
    limit: int,
    registers: frozenset[str] | None = None,
    enrich: Callable[[AsyncManagedTransaction, list[N]], Awaitable[list[N]]] | None = None,
) -> ChangePage[N]:
    """Up to `limit` notices `convert` makes of the events `query` pages through (a query
    shaped as `_PAGE`: `events`, `scanned`, `last`, from `$after`, `$scan` and `$needle`), of
    `processor` if given, belonging to one of `registers` if given (`Notice.readers`, after
    `enrich` completes each page's notices), oldest first (read tx)."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    needle = None if processor is None else json.dumps(m.entity_key(m.ORGANISATION, processor))
    scan = limit if processor is None else max(limit, _MIN_SCAN)
    found: list[N] = []
    scanned_through: int | None = None
    position = after
    while len(found) < limit:
        record = await (
            await tx.run(query, params, after=position, scan=scan, needle=needle)
        ).single()
        if record is None or record["last"] is None:
            break
        candidates = [
            change
            for data in record["events"]
            if (change := convert(changes.ChangeEvent.from_record(data))) is not None
            and change.concerns(processor)
        ]
        if enrich is not None and candidates:
            candidates = await enrich(tx, candidates)
        for change in candidates:
            if not _belongs(change, registers):
                continue
            found.append(change)
            if len(found) == limit:
                return ChangePage(found, change.sequence)
        scanned_through = position = int(record["last"])
        if record["scanned"] < scan:
            break
    return ChangePage(found, scanned_through)


async def changes_page(
    tx: AsyncManagedTransaction,
    after: int,
    processor: str | None,
    limit: int,
    registers: frozenset[str] | None = None,
) -> ChangePage[SubProcessorChange]:
    """Up to `limit` changes with sequence > `after` (of `processor`, if given; belonging to
    one of `registers`, if given), oldest first.

    Read transaction; may run several queries in it when a processor filter skips many events.
    """
    params = {"entityType": m.ENGAGEMENT}
    return await scan_page(
        tx, _PAGE, params, from_event, after, processor, limit, registers, with_activity_registers
    )


async def changes_after(
    tx: AsyncManagedTransaction,
    after_sequence: int,
    processor_id: str | None,
    limit: int,
    registers: frozenset[str] | None = None,
) -> list[SubProcessorChange]:
    """Sub-processor changes after `after_sequence`, oldest first, at most `limit` (read tx)."""
    return (await changes_page(tx, after_sequence, processor_id, limit, registers)).changes


async def head_sequence(tx: AsyncManagedTransaction | AsyncSession) -> int:
    """The sequence of the latest sub-processor change, 0 when none (read transaction, or
    an auto-commit read: one query)."""
    record = await (await tx.run(_HEAD, entityType=m.ENGAGEMENT)).single()
    return int(record["sequence"]) if record is not None else 0
