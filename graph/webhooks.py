"""Webhook endpoints: where the notifier delivers sub-processor changes and objections, and how
far it got.

What an endpoint is sent (`notices_page`): the change log's `Engagement` events (as
`SubProcessorChange`s) and `Objection` events (as `ObjectionNotice`s), one stream in sequence
order, cut to the endpoint's processor and to its registers (an objection belongs to the
objecting register and the processor's own: schema.access.policy.objection_registers). A
sub-processor change reaches an endpoint as it reaches its registerer's reads
(ReadScope.reads_engagement, with no published lists: the endpoint's scope is its registers):
its own registers', and those declaring the activity the engagement serves (`activity_registers`),
so a school's endpoint hears of its processor's change to an engagement for the school.

A `WebhookEndpoint` node keeps the endpoint's URL, optional processor filter, signing secret
and its delivery state. `cursor` is the last change sequence the endpoint has been served up to
(delivered, or skipped because it did not concern the endpoint): the notifier resumes after it,
whatever stopped it. The cursor only moves by compare-and-set from the value the deliverer
started from, so a notifier that restarted, or a stale second one, cannot move it backwards.

The secret is stored because every delivery is signed with it, sealed (encrypted) by the
registry's graph.secret_box.SecretBox; it is returned in the clear once, by `register`, and
sealed by `due`, for the notifier to open. `rotate_in` re-seals every stored secret under the
newest key.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
import uuid
from dataclasses import dataclass
from typing import Any, NamedTuple

from neo4j import AsyncManagedTransaction
from pydantic import SecretStr

from graph import changes
from graph import model as m
from graph import subprocessor_changes as spc
from graph.database import Database
from graph.objections import OBJECTION, ObjectionNotice, notice_from_event
from graph.secret_box import Action, SecretBox, SecretUnreadable
from schema.errors import ErrorCode, NotFound, RopaError
from schema.webhook_url import TargetPolicy, parse_webhook_url

ACTIVE = "active"
DISABLED = "disabled"
FAILED = "failed"

SECRET_PREFIX = "whsec_"

# Never the secret: only `register` and `due` (the notifier's read) return it.
_PUBLIC = """w {.id, .url, .processor, .status, .cursor, .createdAt, .createdBy, .attempts,
               .failingSince, .nextAttemptAt, .lastError, .lastDeliveredAt, .registers}"""

_ORGANISATION = "MATCH (o:Organisation {id: $id}) RETURN o.id AS id"

_REGISTER = f"""
MATCH (s:ChangeSequence {{name: 'change'}})
MERGE (w:WebhookEndpoint {{id: $id}})
ON CREATE SET w.url = $url, w.processor = $processor, w.secret = $secret,
              w.status = 'active', w.cursor = s.value, w.attempts = 0,
              w.createdAt = $now, w.createdBy = $createdBy, w.registers = $registers
RETURN {_PUBLIC} AS endpoint, w.secret AS secret
"""

_LIST = f"""
MATCH (w:WebhookEndpoint)
WHERE $processor IS NULL OR w.processor = $processor
RETURN {_PUBLIC} AS endpoint
ORDER BY w.createdAt, w.id
"""

_GET = f"MATCH (w:WebhookEndpoint {{id: $id}}) RETURN {_PUBLIC} AS endpoint"

_REMOVE = """
MATCH (w:WebhookEndpoint {id: $id})
DETACH DELETE w
RETURN count(*) AS removed
"""

_REDELIVER = f"""
MATCH (w:WebhookEndpoint {{id: $id}})
SET w.cursor = coalesce($after, w.cursor), w.status = 'active', w.attempts = 0,
    w.failingSince = null, w.nextAttemptAt = null, w.lastError = null
RETURN {_PUBLIC} AS endpoint
"""

# The entity types whose events endpoints are sent.
NOTICE_TYPES = (m.ENGAGEMENT, OBJECTION)

# Endpoints with a notice beyond their cursor and no retry pending for later. The head is the
# latest event of each type, each found by the (entityType, sequence) index walked backwards.
_DUE = f"""
CALL () {{
  UNWIND $entityTypes AS type
  CALL (type) {{
    MATCH (c:ChangeEvent)
    USING INDEX SEEK c:ChangeEvent(entityType, sequence)
    WHERE c.entityType = type AND c.sequence > 0
    RETURN c.sequence AS last
    ORDER BY c.entityType DESC, c.sequence DESC
    LIMIT 1
  }}
  RETURN max(last) AS head
}}
WITH head WHERE head IS NOT NULL
MATCH (w:WebhookEndpoint {{status: 'active'}})
WHERE w.cursor < head AND (w.nextAttemptAt IS NULL OR w.nextAttemptAt <= $now)
RETURN {_PUBLIC} AS endpoint, w.secret AS secret
ORDER BY coalesce(w.nextAttemptAt, w.createdAt)
LIMIT $limit
"""

# Events of every notice type after $after, oldest first: the first $scan of each type by the
# index, then the first $scan of them all (the first N of a merge lie within the first N of
# each part), shaped as graph.subprocessor_changes._PAGE for `scan_page`.
_NOTICES_PAGE = (
    """
CALL () {
  UNWIND $entityTypes AS type
  CALL (type) {
    MATCH (c:ChangeEvent)
    USING INDEX SEEK c:ChangeEvent(entityType, sequence)
    WHERE c.entityType = type AND c.sequence > $after
    WITH c ORDER BY c.entityType, c.sequence LIMIT $scan
    RETURN c
  }
  RETURN c
}
WITH c ORDER BY c.sequence LIMIT $scan
"""
    + spc.PAGE_RETURN
)

# What an endpoint is sent.
Notice = spc.SubProcessorChange | ObjectionNotice

_SECRETS = "MATCH (w:WebhookEndpoint) RETURN w.id AS id, w.secret AS secret ORDER BY w.id"

# Compare-and-set from the value read in the same transaction: a retry finds it re-sealed.
_RESEAL = """
UNWIND $rows AS row
MATCH (w:WebhookEndpoint {id: row.id})
WHERE w.secret = row.old
SET w.secret = row.new
"""

# Compare-and-set: only from the cursor the deliverer started from (or to where it already
# is, when the driver retries a transaction that did commit).
_ADVANCE = """
MATCH (w:WebhookEndpoint {id: $id})
WHERE w.cursor IN [$expected, $cursor] AND w.status = 'active'
SET w.cursor = $cursor, w.attempts = 0, w.failingSince = null, w.nextAttemptAt = null,
    w.lastError = null, w.lastDeliveredAt = CASE WHEN $delivered THEN $now
                                                 ELSE w.lastDeliveredAt END
RETURN w.cursor AS cursor
"""

_FAILURE = """
MATCH (w:WebhookEndpoint {id: $id})
WHERE w.cursor = $cursor AND w.status = 'active'
SET w.attempts = $attempts, w.failingSince = coalesce(w.failingSince, $now),
    w.nextAttemptAt = $nextAttemptAt, w.lastError = $error, w.status = $status
RETURN w.status AS status
"""


class RedeliveryOutOfRange(RopaError):
    """A redelivery from a sequence that has not happened yet (or below zero)."""

    code = ErrorCode.REDELIVERY_OUT_OF_RANGE

    def __init__(self, after: int, last: int) -> None:
        self.after = after
        self.last = last
        super().__init__(f"after: must be between 0 and the last change sequence {last}")


@dataclass(frozen=True)
class WebhookEndpoint:
    """An endpoint and its delivery state (never its secret)."""

    id: str
    url: str
    processor: str | None
    status: str
    cursor: int
    created_at: dt.datetime
    created_by: str
    attempts: int
    failing_since: dt.datetime | None
    next_attempt_at: dt.datetime | None
    last_error: str | None
    last_delivered_at: dt.datetime | None
    # The scope of the principal that registered it: only changes of these registers are sent
    # to it (None: every register, an admin's endpoint).
    registers: frozenset[str] | None = None

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> WebhookEndpoint:
        """Build from the `_PUBLIC` projection of a WebhookEndpoint node."""
        return cls(
            id=data["id"],
            url=data["url"],
            processor=data.get("processor"),
            status=data["status"],
            cursor=int(data["cursor"]),
            created_at=_native(data["createdAt"]),
            created_by=data["createdBy"],
            attempts=int(data.get("attempts") or 0),
            failing_since=_native_or_none(data.get("failingSince")),
            next_attempt_at=_native_or_none(data.get("nextAttemptAt")),
            last_error=data.get("lastError"),
            last_delivered_at=_native_or_none(data.get("lastDeliveredAt")),
            registers=None if data.get("registers") is None else frozenset(data["registers"]),
        )


class Registration(NamedTuple):
    """What `register` returns: the endpoint, and its secret (shown this once)."""

    endpoint: WebhookEndpoint
    secret: SecretStr


@dataclass(frozen=True)
class DeliveryTarget:
    """An endpoint due for delivery, with the secret the notifier signs with, as stored
    (sealed: `SecretBox.open` gives the secret)."""

    endpoint: WebhookEndpoint
    sealed_secret: str


@dataclass(frozen=True)
class SecretRotation:
    """What `rotate_in` does (or, planning, would do) to one endpoint's stored secret."""

    endpoint_id: str
    action: Action


def _native(value: Any) -> dt.datetime:
    native = value.to_native() if hasattr(value, "to_native") else value
    if not isinstance(native, dt.datetime):
        raise TypeError(f"expected a datetime, got {type(native).__name__}")
    return native


def _native_or_none(value: Any) -> dt.datetime | None:
    return None if value is None else _native(value)


def new_secret() -> str:
    """A fresh Standard Webhooks secret: `whsec_` and 24 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode("ascii")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def register_in(
    tx: AsyncManagedTransaction,
    endpoint_id: str,
    url: str,
    processor: str | None,
    created_by: str,
    secret: str,
    now: dt.datetime,
    registers: frozenset[str] | None = None,
    sealed: str | None = None,
) -> Registration:
    """Create the endpoint (write tx; idempotent: MERGE on the id chosen by the caller).

    `sealed` is the secret as stored (SecretBox.seal; default: as given). Its cursor starts at
    the last change sequence: it receives the changes after this one.
    """
    if processor is not None:
        found = await (await tx.run(_ORGANISATION, id=processor)).single()
        if found is None:
            raise NotFound("organisation", processor)
    record = await (
        await tx.run(
            _REGISTER,
            id=endpoint_id,
            url=url,
            processor=processor,
            secret=sealed if sealed is not None else secret,
            createdBy=created_by,
            now=now,
            registers=None if registers is None else sorted(registers),
        )
    ).single()
    if record is None:
        raise changes.MissingSequence("the change sequence is missing; run `ropa migrate` first")
    endpoint = WebhookEndpoint.from_record(record["endpoint"])
    return Registration(endpoint, SecretStr(secret))


async def register(
    db: Database,
    url: str,
    processor: str | None,
    created_by: str,
    policy: TargetPolicy,
    registers: frozenset[str] | None = None,
    *,
    box: SecretBox,
) -> Registration:
    """Register an endpoint for all changes, or one processor's; return it with its secret,
    which is stored sealed by `box`.

    `registers`: the scope of the principal registering it; only changes belonging to one of
    them are delivered (None: every register).

    Checks the URL's form (schema.webhook_url.parse_webhook_url, raising InvalidWebhookUrl)
    but does no DNS: the caller checks the resolved addresses first with
    `schema.webhook_url.validate_webhook_url` or `check_addresses`. One write transaction.
    """
    target = parse_webhook_url(url, policy)
    secret = new_secret()
    return await db.write(
        register_in,
        str(uuid.uuid4()),
        target.url,
        processor,
        created_by,
        secret,
        _now(),
        registers,
        box.seal(secret),
    )


async def _list(tx: AsyncManagedTransaction, processor: str | None) -> list[WebhookEndpoint]:
    result = await tx.run(_LIST, processor=processor)
    return [WebhookEndpoint.from_record(r["endpoint"]) async for r in result]


async def list_endpoints(db: Database, processor: str | None = None) -> list[WebhookEndpoint]:
    """Every endpoint (with processor: those filtered on it), oldest first (read tx)."""
    return await db.read(_list, processor)


async def get_in(tx: AsyncManagedTransaction, endpoint_id: str) -> WebhookEndpoint:
    """One endpoint by id, or NotFound (read tx)."""
    record = await (await tx.run(_GET, id=endpoint_id)).single()
    if record is None:
        raise NotFound("webhook", endpoint_id)
    return WebhookEndpoint.from_record(record["endpoint"])


async def get(db: Database, endpoint_id: str) -> WebhookEndpoint:
    """One endpoint by id, or NotFound (read tx)."""
    return await db.read(get_in, endpoint_id)


async def _remove(tx: AsyncManagedTransaction, endpoint_id: str) -> bool:
    record = await (await tx.run(_REMOVE, id=endpoint_id)).single()
    return bool(record and record["removed"])


async def remove(db: Database, endpoint_id: str) -> bool:
    """Delete the endpoint; True if it existed. Idempotent (write tx)."""
    return await db.write(_remove, endpoint_id)


async def redeliver_in(
    tx: AsyncManagedTransaction, endpoint_id: str, after: int | None
) -> WebhookEndpoint:
    """Reactivate the endpoint and resend from after `after` (None: from its cursor).

    Write tx; idempotent (sets absolute values). Works for failed and disabled endpoints too;
    a delivery in flight loses its compare-and-set and the next one starts from `after`.
    """
    if after is not None:
        last = await changes.last_sequence(tx)
        if not 0 <= after <= last:
            raise RedeliveryOutOfRange(after, last)
    record = await (await tx.run(_REDELIVER, id=endpoint_id, after=after)).single()
    if record is None:
        raise NotFound("webhook", endpoint_id)
    return WebhookEndpoint.from_record(record["endpoint"])


async def redeliver(db: Database, endpoint_id: str, after: int | None = None) -> WebhookEndpoint:
    """Deliver again every change after sequence `after` (see redeliver_in)."""
    return await db.write(redeliver_in, endpoint_id, after)


async def due(tx: AsyncManagedTransaction, now: dt.datetime, limit: int) -> list[DeliveryTarget]:
    """Active endpoints with changes beyond their cursor and no retry waiting (read tx)."""
    result = await tx.run(_DUE, entityTypes=list(NOTICE_TYPES), now=now, limit=limit)
    return [
        DeliveryTarget(WebhookEndpoint.from_record(r["endpoint"]), r["secret"])
        async for r in result
    ]


async def advance(
    tx: AsyncManagedTransaction,
    endpoint_id: str,
    expected: int,
    cursor: int,
    now: dt.datetime,
    delivered: bool = True,
) -> bool:
    """Move the cursor from `expected` to `cursor` and clear any failure; False if it had moved.

    Write tx; compare-and-set, idempotent under retry. `delivered=False` when the changes
    passed over were not for this endpoint.
    """
    record = await (
        await tx.run(
            _ADVANCE, id=endpoint_id, expected=expected, cursor=cursor, now=now, delivered=delivered
        )
    ).single()
    return record is not None


async def record_failure(
    tx: AsyncManagedTransaction,
    endpoint_id: str,
    cursor: int,
    attempts: int,
    next_attempt_at: dt.datetime | None,
    error: str,
    now: dt.datetime,
    status: str = ACTIVE,
) -> bool:
    """Note a failed attempt at the change after `cursor`: retry at `next_attempt_at`.

    `status` is DISABLED (the receiver said 410 Gone) or FAILED (past the retry window) to
    stop deliveries. Write tx; idempotent (absolute values); False if the cursor had moved.
    """
    if status not in (ACTIVE, DISABLED, FAILED):
        raise ValueError(f"unknown endpoint status {status!r}")
    record = await (
        await tx.run(
            _FAILURE,
            id=endpoint_id,
            cursor=cursor,
            attempts=attempts,
            nextAttemptAt=next_attempt_at,
            error=error[:500],
            now=now,
            status=status,
        )
    ).single()
    return record is not None


async def _stored_secrets(tx: AsyncManagedTransaction) -> list[tuple[str, str]]:
    result = await tx.run(_SECRETS)
    return [(r["id"], r["secret"]) async for r in result]


def _plan(box: SecretBox, stored: list[tuple[str, str]]) -> list[SecretRotation]:
    plan = []
    for endpoint_id, secret in stored:
        try:
            plan.append(SecretRotation(endpoint_id, box.action(secret)))
        except SecretUnreadable as exc:
            raise SecretUnreadable(f"webhook {endpoint_id}: {exc}") from exc
    return plan


async def rotation_plan_in(tx: AsyncManagedTransaction, box: SecretBox) -> list[SecretRotation]:
    """What `rotate_in` would do to each endpoint's secret (read tx); SecretUnreadable names
    the first endpoint whose secret no key in `box` opens."""
    return _plan(box, await _stored_secrets(tx))


async def rotate_in(tx: AsyncManagedTransaction, box: SecretBox) -> list[SecretRotation]:
    """Seal every stored secret under `box`'s newest key: plaintext ones are encrypted, those
    under an older key re-encrypted (write tx; all or nothing; idempotent: a second run finds
    every one current). SecretUnreadable, with nothing written, if any cannot be opened."""
    stored = await _stored_secrets(tx)
    plan = _plan(box, stored)
    rows = [
        {"id": endpoint_id, "old": secret, "new": box.reseal(secret)}
        for (endpoint_id, secret), step in zip(stored, plan, strict=True)
        if step.action != "current"
    ]
    if rows:
        await tx.run(_RESEAL, rows=rows)
    return plan


def _notice(event: changes.ChangeEvent) -> Notice | None:
    return spc.from_event(event) or notice_from_event(event)


async def _with_activity_registers(
    tx: AsyncManagedTransaction, notices: list[Notice]
) -> list[Notice]:
    """The page's sub-processor changes with `activity_registers` read, in the same order."""
    found = [n for n in notices if isinstance(n, spc.SubProcessorChange)]
    read = iter(await spc.with_activity_registers(tx, found))
    return [next(read) if isinstance(n, spc.SubProcessorChange) else n for n in notices]


async def notices_page(
    tx: AsyncManagedTransaction,
    after: int,
    processor: str | None,
    limit: int,
    registers: frozenset[str] | None = None,
) -> spc.ChangePage[Notice]:
    """Up to `limit` notices (sub-processor changes and objections) after sequence `after`, of
    `processor` if given, read by one of `registers` if given (`Notice.readers`: a change's
    registers and its activity's), oldest first (read tx)."""
    params = {"entityTypes": list(NOTICE_TYPES)}
    return await spc.scan_page(
        tx,
        _NOTICES_PAGE,
        params,
        _notice,
        after,
        processor,
        limit,
        registers,
        _with_activity_registers,
    )
