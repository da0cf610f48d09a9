"""E-mail subscribers and the mail queue, and the mail cursor on the change log.

A `Subscriber` keeps an address, the processor it follows, whether it is confirmed and whether
it wants a daily digest; nothing else about the person. A `MailMessage` is one mail waiting to
be sent, `-[:TO]->` its subscriber (or, for a processor's DPO, with the address on the
message): it names what it is about (a change event, a confirmation) and is composed when sent.
Deleting a subscriber deletes its waiting mail with it, so unsubscribing erases the address.

The `MailCursor` is the last change sequence the planner has queued mail for. The planner
moves it by compare-and-set in the same transaction as the messages it queues, so a planner
killed at any moment either queued a batch and moved past it, or did neither. Messages are
deleted once sent: a sender killed between sending and deleting sends again, under the same
Message-ID (the message's id).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from neo4j import AsyncManagedTransaction

from graph.database import Database
from graph.read.values import native
from schema.subscriptions import Outcome, SubscribeResult, Subscription

CONFIRM = "confirm"
NOTICE = "notice"
OBJECTION = "objection"

_SUBSCRIBER = "s {.id, .processor, .email, .confirmed, .digest, .createdAt, .confirmedAt}"

_GET = f"MATCH (s:Subscriber {{id: $id}}) RETURN {_SUBSCRIBER} AS subscriber"

_SUBSCRIBE = f"""
MERGE (s:Subscriber {{id: $id}})
ON CREATE SET s.processor = $processor, s.email = $email, s.confirmed = false,
              s.digest = $digest, s.createdAt = $now, s._new = true
WITH s, coalesce(s._new, false) AS created
REMOVE s._new
RETURN {_SUBSCRIBER} AS subscriber, created
"""

# A pending subscription whose confirmation expired gets a new one (and a fresh start).
_RENEW = """
MATCH (s:Subscriber {id: $id, confirmed: false})
SET s.createdAt = $now
RETURN s.id AS id
"""

_QUEUE_CONFIRMATION = """
MATCH (s:Subscriber {id: $subscriber})
MERGE (m:MailMessage {id: $id})
ON CREATE SET m.kind = 'confirm', m.queuedAt = $now, m.attempts = 0
MERGE (m)-[:TO]->(s)
"""

_CONFIRM = f"""
MATCH (s:Subscriber {{id: $id}})
WITH s, s.confirmed AS was
SET s.confirmed = true, s.confirmedAt = coalesce(s.confirmedAt, $now)
RETURN {_SUBSCRIBER} AS subscriber, was
"""

_REMOVE = """
MATCH (s:Subscriber {id: $id})
OPTIONAL MATCH (m:MailMessage)-[:TO]->(s)
WITH s, s.email AS email, collect(m) AS waiting
FOREACH (m IN waiting | DETACH DELETE m)
DETACH DELETE s
RETURN email
"""

# An address matches in any case (the domain is kept in lower case, the local part as given).
_BY_EMAIL = f"""
MATCH (s:Subscriber)
WHERE toLower(s.email) = toLower($email)
RETURN {_SUBSCRIBER} AS subscriber
ORDER BY s.processor
"""

_ERASE = """
MATCH (s:Subscriber)
WHERE toLower(s.email) = toLower($email)
OPTIONAL MATCH (m:MailMessage)-[:TO]->(s)
WITH collect(DISTINCT s) AS subscribers, collect(DISTINCT m) AS waiting
FOREACH (m IN waiting | DETACH DELETE m)
FOREACH (s IN subscribers | DETACH DELETE s)
RETURN size(subscribers) AS erased
"""

# Confirmed subscribers of these processors by the moment a change was recorded.
_AUDIENCE = f"""
MATCH (s:Subscriber {{confirmed: true}})
WHERE s.processor IN $processors AND s.confirmedAt <= $at
RETURN {_SUBSCRIBER} AS subscriber
ORDER BY s.id
"""

_CURSOR = "MATCH (c:MailCursor {name: 'mail'}) RETURN c.position AS position"

# A missing cursor (a wiped graph) starts from the beginning: the audience rule (confirmed
# before the change) keeps old changes from anyone who subscribed since.
_ADVANCE = """
MERGE (c:MailCursor {name: 'mail'})
ON CREATE SET c.position = $expected
WITH c
WHERE c.position IN [$expected, $position]
SET c.position = $position
RETURN c.position AS position
"""

_QUEUE = """
UNWIND $messages AS msg
MERGE (m:MailMessage {id: msg.id})
ON CREATE SET m.kind = msg.kind, m.event = msg.event, m.digest = msg.digest,
              m.queuedAt = $now, m.attempts = 0, m.recipient = msg.recipient
WITH m, msg
OPTIONAL MATCH (s:Subscriber {id: msg.subscriber})
FOREACH (_ IN CASE WHEN s IS NULL THEN [] ELSE [1] END | MERGE (m)-[:TO]->(s))
"""

# Waiting mail that is due: not a digest, or a digest whose subscriber's day is up.
_DUE = """
MATCH (m:MailMessage)
WHERE (m.nextAttemptAt IS NULL OR m.nextAttemptAt <= $now)
  AND (coalesce(m.digest, false) = false OR m.queuedAt <= $digestBefore)
OPTIONAL MATCH (m)-[:TO]->(s:Subscriber)
WITH m, s
WHERE m.recipient IS NOT NULL OR s IS NOT NULL
RETURN m {.*} AS message, s {.id, .processor, .email, .confirmed, .digest, .createdAt,
       .confirmedAt} AS subscriber
ORDER BY m.queuedAt, m.id
LIMIT $limit
"""

_SENT = "MATCH (m:MailMessage) WHERE m.id IN $ids DETACH DELETE m"

_FAILED = """
MATCH (m:MailMessage {id: $id})
SET m.attempts = coalesce(m.attempts, 0) + 1, m.nextAttemptAt = $next, m.lastError = $error
"""

_WAITING = "MATCH (m:MailMessage) RETURN count(m) AS waiting"


def _subscription(data: dict[str, Any]) -> Subscription:
    return Subscription(
        id=data["id"],
        processor_id=data["processor"],
        email=data["email"],
        confirmed=bool(data.get("confirmed")),
        digest=bool(data.get("digest")),
        created_at=native(data["createdAt"]),
        confirmed_at=native(data.get("confirmedAt")),
    )


@dataclass(frozen=True)
class QueuedMail:
    """One message to queue: about a change event (`event`), to a subscriber or an address."""

    id: str
    kind: str
    event: str | None = None
    subscriber: str | None = None
    recipient: str | None = None
    digest: bool = False


@dataclass(frozen=True)
class WaitingMail:
    """A message due to be sent, with its subscriber (None for a message to an address)."""

    id: str
    kind: str
    event: str | None
    recipient: str | None
    queued_at: dt.datetime
    attempts: int
    subscriber: Subscription | None


async def subscribe_in(
    tx: AsyncManagedTransaction,
    subscription_id: str,
    processor_id: str,
    email: str,
    digest: bool,
    confirmation_id: str,
    confirm_within: dt.timedelta,
    now: dt.datetime,
) -> SubscribeResult:
    """Create a pending subscription and queue its confirmation (write tx); a second request
    for the same address and processor finds the first and queues nothing, unless its
    confirmation link has expired, in which case a new one is queued."""
    record = await (
        await tx.run(
            _SUBSCRIBE,
            id=subscription_id,
            processor=processor_id,
            email=email,
            digest=digest,
            now=now,
        )
    ).single()
    if record is None:
        raise RuntimeError("MERGE returned no subscriber")
    found = _subscription(record["subscriber"])
    if found.confirmed:
        return SubscribeResult(found, Outcome.ALREADY_SUBSCRIBED)
    if not record["created"]:
        if found.created_at + confirm_within > now:
            return SubscribeResult(found, Outcome.ALREADY_PENDING)
        await tx.run(_RENEW, id=subscription_id, now=now)
    await tx.run(_QUEUE_CONFIRMATION, subscriber=subscription_id, id=confirmation_id, now=now)
    return SubscribeResult(found, Outcome.CONFIRMATION_SENT)


async def get_in(tx: AsyncManagedTransaction, subscription_id: str) -> Subscription | None:
    """The subscription with this id, if any (read tx)."""
    record = await (await tx.run(_GET, id=subscription_id)).single()
    return None if record is None else _subscription(record["subscriber"])


async def confirm_in(
    tx: AsyncManagedTransaction, subscription_id: str, now: dt.datetime
) -> tuple[Subscription, bool] | None:
    """Confirm a subscription (write tx): it, and whether it was confirmed already; None if
    there is none (unsubscribed since)."""
    record = await (await tx.run(_CONFIRM, id=subscription_id, now=now)).single()
    if record is None:
        return None
    return _subscription(record["subscriber"]), bool(record["was"])


async def remove_in(tx: AsyncManagedTransaction, subscription_id: str) -> bool:
    """Delete a subscription and its waiting mail (write tx); whether there was one."""
    record = await (await tx.run(_REMOVE, id=subscription_id)).single()
    return record is not None


async def by_email_in(tx: AsyncManagedTransaction, email: str) -> list[Subscription]:
    """Every subscription of an address (read tx)."""
    result = await tx.run(_BY_EMAIL, email=email)
    return [_subscription(r["subscriber"]) async for r in result]


async def erase_in(tx: AsyncManagedTransaction, email: str) -> int:
    """Delete every subscription of an address and its waiting mail (write tx); how many."""
    record = await (await tx.run(_ERASE, email=email)).single()
    return int(record["erased"]) if record is not None else 0


async def audience_in(
    tx: AsyncManagedTransaction, processor_ids: list[str], at: dt.datetime
) -> list[Subscription]:
    """The confirmed subscribers of these processors by `at` (read tx)."""
    result = await tx.run(_AUDIENCE, processors=processor_ids, at=at)
    return [_subscription(r["subscriber"]) async for r in result]


async def cursor_in(tx: AsyncManagedTransaction) -> int:
    """The last change sequence mail has been queued for (read tx)."""
    record = await (await tx.run(_CURSOR)).single()
    return 0 if record is None else int(record["position"])


class CursorMoved(Exception):
    """Another planner moved the mail cursor first: this batch is theirs."""


async def queue_in(
    tx: AsyncManagedTransaction,
    expected: int,
    position: int,
    messages: list[QueuedMail],
    now: dt.datetime,
) -> None:
    """Queue `messages` and move the cursor from `expected` to `position` (write tx), or
    neither (CursorMoved). Idempotent under retry: MERGE by message id."""
    moved = await (await tx.run(_ADVANCE, expected=expected, position=position)).single()
    if moved is None:
        raise CursorMoved
    rows = [
        {
            "id": q.id,
            "kind": q.kind,
            "event": q.event,
            "subscriber": q.subscriber,
            "recipient": q.recipient,
            "digest": q.digest,
        }
        for q in messages
    ]
    if rows:
        await tx.run(_QUEUE, messages=rows, now=now)


async def due_in(
    tx: AsyncManagedTransaction, now: dt.datetime, digest_before: dt.datetime, limit: int
) -> list[WaitingMail]:
    """Messages due to be sent, oldest first (read tx)."""
    result = await tx.run(_DUE, now=now, digestBefore=digest_before, limit=limit)
    out = []
    async for r in result:
        m, s = r["message"], r["subscriber"]
        out.append(
            WaitingMail(
                id=m["id"],
                kind=m["kind"],
                event=m.get("event"),
                recipient=m.get("recipient"),
                queued_at=native(m["queuedAt"]),
                attempts=int(m.get("attempts") or 0),
                subscriber=None if s is None else _subscription(s),
            )
        )
    return out


async def sent_in(tx: AsyncManagedTransaction, ids: list[str]) -> None:
    """Forget messages that were sent (write tx; idempotent)."""
    await tx.run(_SENT, ids=ids)


async def failed_in(
    tx: AsyncManagedTransaction, message_id: str, next_attempt: dt.datetime, error: str
) -> None:
    """Note a failed attempt at a message, and when to try again (write tx)."""
    await tx.run(_FAILED, id=message_id, next=next_attempt, error=error[:500])


async def waiting(db: Database) -> int:
    """How many messages wait to be sent (one read)."""

    async def count(tx: AsyncManagedTransaction) -> int:
        record = await (await tx.run(_WAITING)).single()
        return int(record["waiting"]) if record is not None else 0

    return await db.read(count)
