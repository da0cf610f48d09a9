"""Watched lists: the sub-processor lists organisations publish, as last fetched, and the
differences found, each a proposed change for a DPO to confirm or dismiss.

A `WatchedList` (one per organisation) keeps the URL, the validators of the last answer (ETag,
Last-Modified), the names it listed and a version. Each poll that finds the list changed writes
the new names and one `ListChange` per name added or gone (status `pending`), with ids derived
from the organisation, the new version and the name, so a retried transaction writes nothing
twice. The first fetch is the baseline: it proposes nothing.

Confirming a change does what it names, in the same write transaction as the decision
(`confirm_in`): a name added is engaged as a sub-processor of the organisation (through the
mutations' write path, graph.engagement_writes, so with its change event), unless an engagement
of it not yet ended exists; a name gone ends the organisation's engagement of it (its last day
the day before the change was found). The engagement is kept on the change. A change decided
already stays as it was: confirming twice does nothing more. Dismissing touches no engagement.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from neo4j import AsyncManagedTransaction

from graph import changes, engagement_writes
from graph.read.values import native
from schema.access.principal import Principal
from schema.change_requests import EngageRequest
from schema.errors import NotFound

PENDING = "pending"
CONFIRMED = "confirmed"
DISMISSED = "dismissed"
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:ropa-registry:watched-lists")

_WATCHED = """
MATCH (o:Organisation)
WHERE o.subProcessorList IS NOT NULL
OPTIONAL MATCH (w:WatchedList {organisation: o.id})
RETURN o.id AS organisation, o.subProcessorList AS url, w {.*} AS state
ORDER BY o.id
"""

_CHECKED = """
MERGE (w:WatchedList {organisation: $organisation})
SET w.url = $url, w.checkedAt = $now, w.lastError = $error
"""

_RECORD = """
MERGE (w:WatchedList {organisation: $organisation})
ON CREATE SET w.version = 0
SET w.url = $url, w.etag = $etag, w.lastModified = $lastModified, w.names = $names,
    w.checkedAt = $now, w.version = w.version + 1, w.lastError = null
WITH w
UNWIND $changes AS change
MERGE (c:ListChange {id: change.id})
ON CREATE SET c.organisation = $organisation, c.url = $url, c.kind = change.kind,
              c.name = change.name, c.status = 'pending', c.detectedAt = $now
"""

_CHANGES = """
MATCH (c:ListChange)
WHERE ($organisation IS NULL OR c.organisation = $organisation)
  AND ($status IS NULL OR c.status = $status)
RETURN c {.*} AS change
ORDER BY c.detectedAt, c.name
"""

_CHANGE = """
MATCH (c:ListChange {id: $id})
RETURN c {.*} AS change
"""

_DECIDE = """
MATCH (c:ListChange {id: $id})
SET c.status = CASE WHEN c.status = 'pending' THEN $status ELSE c.status END,
    c.decidedBy = CASE WHEN c.status = 'pending' THEN $actor ELSE c.decidedBy END,
    c.decidedAt = CASE WHEN c.status = 'pending' THEN $now ELSE c.decidedAt END,
    c.engagement = CASE WHEN c.status = 'pending' THEN $engagement ELSE c.engagement END
RETURN c {.*} AS change
"""

# The organisation's engagements of a sub-processor (by id or name, in any case) not yet ended.
_CURRENT_OF = """
MATCH (e:Engagement)-[:ENGAGED_BY]->(:Organisation {id: $processor})
MATCH (e)-[:SUB_PROCESSOR]->(s:Organisation)
WHERE e.until IS NULL AND coalesce(e.status, 'active') <> 'withdrawn'
  AND (s.id = $name OR toLower(s.name) = toLower($name))
RETURN e.id AS id, e.since AS since
ORDER BY e.id
"""


@dataclass(frozen=True)
class WatchedList:
    """An organisation's published list, as last fetched (None fields: never fetched)."""

    organisation: str
    url: str
    names: tuple[str, ...] | None
    etag: str | None
    last_modified: str | None
    checked_at: dt.datetime | None
    version: int


@dataclass(frozen=True)
class ListChange:
    """A name added to or gone from a published list, and what a DPO decided."""

    id: str
    organisation: str
    url: str
    kind: str  # added | removed
    name: str
    status: str
    detected_at: dt.datetime
    decided_by: str | None = None
    decided_at: dt.datetime | None = None
    # The engagement confirming it made, ended or found in force (None: none, or not confirmed).
    engagement: str | None = None


def _change(data: dict[str, Any]) -> ListChange:
    return ListChange(
        id=data["id"],
        organisation=data["organisation"],
        url=data["url"],
        kind=data["kind"],
        name=data["name"],
        status=data["status"],
        detected_at=native(data["detectedAt"]),
        decided_by=data.get("decidedBy"),
        decided_at=native(data.get("decidedAt")),
        engagement=data.get("engagement"),
    )


async def watched_in(tx: AsyncManagedTransaction) -> list[WatchedList]:
    """Every organisation that names a published list, with its last fetch (read tx)."""
    out = []
    async for r in await tx.run(_WATCHED):
        state = r["state"] or {}
        url = r["url"]
        same = state.get("url") == url
        names = state.get("names")
        out.append(
            WatchedList(
                organisation=r["organisation"],
                url=url,
                names=tuple(names) if same and names is not None else None,
                etag=state.get("etag") if same else None,
                last_modified=state.get("lastModified") if same else None,
                checked_at=native(state.get("checkedAt")),
                version=int(state.get("version") or 0),
            )
        )
    return out


async def checked_in(
    tx: AsyncManagedTransaction,
    organisation: str,
    url: str,
    now: dt.datetime,
    error: str | None = None,
) -> None:
    """The list was fetched and is unchanged (304), or could not be read (`error`) (write tx)."""
    await tx.run(_CHECKED, organisation=organisation, url=url, now=now, error=error)


def differences(before: tuple[str, ...] | None, after: list[str]) -> list[tuple[str, str]]:
    """(kind, name) for each name added or gone; nothing for a first fetch (the baseline)."""
    if before is None:
        return []
    old = {n.casefold(): n for n in before}
    new = {n.casefold(): n for n in after}
    added = [("added", new[k]) for k in sorted(new.keys() - old.keys())]
    removed = [("removed", old[k]) for k in sorted(old.keys() - new.keys())]
    return added + removed


async def record_in(
    tx: AsyncManagedTransaction,
    watched: WatchedList,
    names: list[str],
    etag: str | None,
    last_modified: str | None,
    now: dt.datetime,
) -> list[tuple[str, str]]:
    """Keep a new answer and propose its differences (write tx); the differences."""
    found = differences(watched.names, names)
    version = watched.version + 1
    rows = [
        {
            "id": str(uuid.uuid5(_NAMESPACE, f"{watched.organisation}/{version}/{kind}/{name}")),
            "kind": kind,
            "name": name,
        }
        for kind, name in found
    ]
    await tx.run(
        _RECORD,
        organisation=watched.organisation,
        url=watched.url,
        etag=etag,
        lastModified=last_modified,
        names=sorted(names),
        now=now,
        changes=rows,
    )
    return found


async def changes_in(
    tx: AsyncManagedTransaction, organisation: str | None, status: str | None
) -> list[ListChange]:
    """Proposed changes (of an organisation, with a status), oldest first (read tx)."""
    result = await tx.run(_CHANGES, organisation=organisation, status=status)
    return [_change(r["change"]) async for r in result]


async def change_in(tx: AsyncManagedTransaction, change_id: str) -> ListChange | None:
    """One proposed change by its id; None when there is none (read tx)."""
    record = await (await tx.run(_CHANGE, id=change_id)).single()
    return None if record is None else _change(record["change"])


async def decide_in(
    tx: AsyncManagedTransaction,
    change_id: str,
    status: str,
    actor: str,
    now: dt.datetime,
    engagement: str | None = None,
) -> ListChange:
    """Record the decision on a pending change (write tx); a decided one stays as it was
    decided. Only the decision: `confirm_in` also does what the change names."""
    if status not in (CONFIRMED, DISMISSED):
        raise ValueError(f"unknown decision {status!r}")
    record = await (
        await tx.run(
            _DECIDE, id=change_id, status=status, actor=actor, now=now, engagement=engagement
        )
    ).single()
    if record is None:
        raise NotFound("proposed list change", change_id)
    return _change(record["change"])


async def _current_of(
    tx: AsyncManagedTransaction, processor: str, name: str
) -> list[tuple[str, dt.date | None]]:
    result = await tx.run(_CURRENT_OF, processor=processor, name=name)
    out = []
    async for r in result:
        since = native(r["since"])
        out.append((r["id"], dt.date.fromisoformat(since) if isinstance(since, str) else since))
    return out


async def _carry_out(
    tx: AsyncManagedTransaction, change: ListChange, principal: Principal
) -> str | None:
    """Engage or end what the change names; the engagement concerned (None: nothing to end)."""
    found_on = change.detected_at.date()
    current = await _current_of(tx, change.organisation, change.name)
    if change.kind == "added":
        if current:
            return current[0][0]  # engaged already: nothing to add
        request = EngageRequest(
            processor=change.organisation,
            sub_processor=change.name,
            purpose=f"Named in the published sub-processor list {change.url}",
            categories=(),
            since=found_on,
            announced_on=found_on,
        )
        return (await engagement_writes.engage_in(tx, request, principal)).engagement.id
    if not current:
        return None
    engagement_id, since = current[0]
    last_day = found_on - dt.timedelta(days=1)
    until = max(last_day, since) if since is not None else last_day
    await engagement_writes.end_in(tx, engagement_id, until, principal)
    return engagement_id


async def confirm_in(
    tx: AsyncManagedTransaction, change_id: str, principal: Principal, now: dt.datetime
) -> ListChange:
    """Confirm a pending change and do what it names (write tx); a decided change is returned
    as it is and nothing is done. InvalidInput or Forbidden (from the engagement's write path)
    leave nothing written; NotFound for an unknown id."""
    await changes.lock(tx)  # before the read: a second confirmation waits, then finds it decided
    change = await change_in(tx, change_id)
    if change is None:
        raise NotFound("proposed list change", change_id)
    if change.status != PENDING:
        return change
    engagement = await _carry_out(tx, change, principal)
    return await decide_in(tx, change_id, CONFIRMED, principal.name, now, engagement)
