from __future__ import annotations

import datetime as dt
import json
import os
import re
from typing import Any

import pytest
from neo4j import AsyncManagedTransaction
from pydantic import SecretStr

from graph import changes, from_document, register, webhooks
from graph.database import Database
from graph.secret_box import SecretBox
from schema.errors import NotFound
from schema.validation import parse_document
from schema.webhook_url import InvalidWebhookUrl, TargetPolicy

# The key tests/conftest.py gives every component of the test session.
BOX = SecretBox.from_setting(SecretStr(os.environ["ROPA_SECRET_KEY"]), required=True)

pytestmark = pytest.mark.neo4j

POLICY = TargetPolicy(allow_loopback=True)
URL = "http://127.0.0.1:9/hook"


def _document(purpose: str = "Hosting") -> str:
    return json.dumps(
        {
            "version": "ropa/v1",
            "register": {"id": "school", "name": "School", "owner": "school"},
            "organisations": [
                {"id": o, "name": o, "kind": "company"}
                for o in ("school", "portal-co", "hosting-co")
            ],
            "engagements": [
                {
                    "id": "e1",
                    "processor": "portal-co",
                    "sub_processor": "hosting-co",
                    "purpose": purpose,
                }
            ],
        }
    )


async def _apply(db: Database, purpose: str = "Hosting") -> None:
    doc = parse_document(_document(purpose))
    await register.apply(db, doc.register_info.id, from_document.entities(doc), "dpo")


async def _raw(db: Database, endpoint_id: str) -> dict[str, Any]:
    async def read(tx: AsyncManagedTransaction) -> dict[str, Any]:
        result = await tx.run(
            "MATCH (w:WebhookEndpoint {id: $id}) RETURN properties(w) AS p", id=endpoint_id
        )
        record = await result.single()
        assert record is not None
        return dict(record["p"])

    return await db.read(read)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def test_registration_returns_the_secret_once_and_starts_after_the_last_change(
    db: Database,
) -> None:
    await _apply(db)
    registration = await webhooks.register(db, URL, "portal-co", "dpo@school", POLICY, box=BOX)
    endpoint, secret = registration
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{32}", secret.get_secret_value())
    assert "whsec_" not in repr(registration)
    assert (endpoint.url, endpoint.processor, endpoint.status) == (URL, "portal-co", "active")
    assert endpoint.created_by == "dpo@school"
    # The register, three organisations and the engagement: it starts after those five.
    assert endpoint.cursor == await db.read(changes.last_sequence) == 5
    assert endpoint.attempts == 0
    assert endpoint.created_at.tzinfo is not None

    listed = await webhooks.list_endpoints(db)
    assert listed == [endpoint]
    assert not any("secret" in field for field in vars(listed[0]))
    assert await webhooks.get(db, endpoint.id) == endpoint
    # The secret is kept, for signing, encrypted: only the notifier's read returns it.
    stored = (await _raw(db, endpoint.id))["secret"]
    assert secret.get_secret_value() not in stored
    assert BOX.open(stored) == secret


async def test_endpoints_are_listed_oldest_first_and_by_processor(db: Database) -> None:
    await _apply(db)
    first = (await webhooks.register(db, URL, None, "dpo", POLICY, box=BOX)).endpoint
    second = (await webhooks.register(db, URL + "/2", "portal-co", "dpo", POLICY, box=BOX)).endpoint
    assert [e.id for e in await webhooks.list_endpoints(db)] == [first.id, second.id]
    assert [e.id for e in await webhooks.list_endpoints(db, "portal-co")] == [second.id]
    assert first.processor is None


async def test_bad_urls_and_unknown_processors_are_refused_and_nothing_is_written(
    db: Database,
) -> None:
    await _apply(db)
    with pytest.raises(InvalidWebhookUrl, match="loopback"):
        await webhooks.register(db, URL, None, "dpo", TargetPolicy(), box=BOX)
    with pytest.raises(InvalidWebhookUrl, match="credentials"):
        await webhooks.register(db, "https://u:p@example.com/", None, "dpo", POLICY, box=BOX)
    with pytest.raises(NotFound, match="no organisation with id or name 'nobody'"):
        await webhooks.register(db, URL, "nobody", "dpo", POLICY, box=BOX)
    assert await webhooks.list_endpoints(db) == []


async def test_removal_is_idempotent(db: Database) -> None:
    endpoint = (await webhooks.register(db, URL, None, "dpo", POLICY, box=BOX)).endpoint
    assert await webhooks.remove(db, endpoint.id) is True
    assert await webhooks.remove(db, endpoint.id) is False
    with pytest.raises(NotFound):
        await webhooks.get(db, endpoint.id)


async def test_only_endpoints_behind_the_latest_change_and_not_waiting_are_due(
    db: Database,
) -> None:
    await _apply(db)
    caught_up = (await webhooks.register(db, URL, None, "dpo", POLICY, box=BOX)).endpoint
    assert await db.read(webhooks.due, _now(), 10) == []
    behind = (await webhooks.register(db, URL + "/b", None, "dpo", POLICY, box=BOX)).endpoint
    await webhooks.redeliver(db, behind.id, 0)
    due = await db.read(webhooks.due, _now(), 10)
    assert [t.endpoint.id for t in due] == [behind.id]
    # Stored encrypted; the notifier's box opens it.
    assert due[0].sealed_secret.startswith("fernet:")
    assert "whsec_" not in due[0].sealed_secret
    assert BOX.open(due[0].sealed_secret).get_secret_value().startswith("whsec_")

    # A retry set for later keeps it out until then.
    later = _now() + dt.timedelta(minutes=5)
    assert await db.write(webhooks.record_failure, behind.id, 0, 1, later, "HTTP 500", _now())
    assert await db.read(webhooks.due, _now(), 10) == []
    assert [t.endpoint.id for t in await db.read(webhooks.due, later, 10)] == [behind.id]

    # A new change makes every active endpoint due.
    await _apply(db, "Hosting and backups")
    ids = {t.endpoint.id for t in await db.read(webhooks.due, later, 10)}
    assert ids == {behind.id, caught_up.id}


async def test_the_cursor_moves_only_forward_from_the_expected_value(db: Database) -> None:
    await _apply(db)
    endpoint = (await webhooks.register(db, URL, None, "dpo", POLICY, box=BOX)).endpoint
    start = endpoint.cursor
    assert await db.write(webhooks.advance, endpoint.id, start, start + 1, _now())
    # Replaying the same step (a driver retry after an unseen commit) is harmless.
    assert await db.write(webhooks.advance, endpoint.id, start, start + 1, _now())
    # A stale notifier that still thinks the cursor is `start` cannot move it elsewhere.
    assert not await db.write(webhooks.advance, endpoint.id, start, start + 5, _now())
    assert not await db.write(webhooks.advance, endpoint.id, start - 1, start, _now())
    stored = await webhooks.get(db, endpoint.id)
    assert stored.cursor == start + 1
    assert stored.last_delivered_at is not None
    assert not await db.write(webhooks.advance, "no-such-endpoint", 0, 1, _now())


async def test_failures_count_up_and_a_delivery_clears_them(db: Database) -> None:
    await _apply(db)
    endpoint = (await webhooks.register(db, URL, None, "dpo", POLICY, box=BOX)).endpoint
    cursor = endpoint.cursor
    t0 = _now()
    retry_at = t0 + dt.timedelta(seconds=5)
    assert await db.write(webhooks.record_failure, endpoint.id, cursor, 1, retry_at, "HTTP 500", t0)
    t1 = t0 + dt.timedelta(seconds=6)
    assert await db.write(webhooks.record_failure, endpoint.id, cursor, 2, None, "timeout", t1)
    failing = await webhooks.get(db, endpoint.id)
    assert failing.attempts == 2
    assert failing.failing_since == t0  # the first failure in the run, not the latest
    assert failing.last_error == "timeout"
    # A failure recorded against a cursor that has moved on is dropped.
    assert not await db.write(
        webhooks.record_failure, endpoint.id, cursor - 1, 9, None, "stale", t1
    )

    assert await db.write(webhooks.advance, endpoint.id, cursor, cursor + 1, t1)
    healthy = await webhooks.get(db, endpoint.id)
    assert (healthy.attempts, healthy.failing_since, healthy.last_error) == (0, None, None)
    assert healthy.next_attempt_at is None


async def test_disabled_and_failed_endpoints_stop_until_redelivered(db: Database) -> None:
    await _apply(db)
    gone = (await webhooks.register(db, URL, None, "dpo", POLICY, box=BOX)).endpoint
    broken = (await webhooks.register(db, URL + "/x", None, "dpo", POLICY, box=BOX)).endpoint
    now = _now()
    await db.write(
        webhooks.record_failure, gone.id, gone.cursor, 1, None, "410", now, webhooks.DISABLED
    )
    await db.write(
        webhooks.record_failure, broken.id, broken.cursor, 8, None, "500", now, webhooks.FAILED
    )
    assert {e.status for e in await webhooks.list_endpoints(db)} == {"disabled", "failed"}
    for endpoint in (gone, broken):
        await webhooks.redeliver(db, endpoint.id, 0)
    # Inactive endpoints refuse a cursor move; a redelivered one is active and due again.
    assert [t.endpoint.id for t in await db.read(webhooks.due, _now(), 10)] == [
        gone.id,
        broken.id,
    ]


async def test_redelivery_rewinds_the_cursor_and_resets_the_failures(db: Database) -> None:
    await _apply(db)
    await _apply(db, "Backups")
    endpoint = (await webhooks.register(db, URL, None, "dpo", POLICY, box=BOX)).endpoint
    await db.write(
        webhooks.record_failure,
        endpoint.id,
        endpoint.cursor,
        8,
        None,
        "HTTP 503",
        _now(),
        webhooks.FAILED,
    )
    again = await webhooks.redeliver(db, endpoint.id, 2)
    assert (again.cursor, again.status, again.attempts, again.last_error) == (2, "active", 0, None)
    assert again.failing_since is None
    # Without `after`, redelivery resumes from where the endpoint stopped.
    assert (await webhooks.redeliver(db, endpoint.id)).cursor == 2
    with pytest.raises(webhooks.RedeliveryOutOfRange, match="between 0 and"):
        await webhooks.redeliver(db, endpoint.id, endpoint.cursor + 1)
    with pytest.raises(webhooks.RedeliveryOutOfRange):
        await webhooks.redeliver(db, endpoint.id, -1)
    with pytest.raises(NotFound):
        await webhooks.redeliver(db, "no-such-endpoint", 0)
