"""Webhook secrets at rest in real Neo4j: sealed on registration, opened, rotated to a new key."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr

from graph import webhooks
from graph.database import Database
from graph.secret_box import SecretBox, SecretUnreadable, new_key
from schema.webhook_url import TargetPolicy

pytestmark = pytest.mark.neo4j

POLICY = TargetPolicy(allow_loopback=True)
OLD, NEW = new_key(), new_key()


def _box(key: str, *previous: str) -> SecretBox:
    return SecretBox.from_setting(
        SecretStr(key), required=True, previous=SecretStr(",".join(previous))
    )


async def _stored(db: Database) -> dict[str, str]:
    async with db.driver.session(database=db.name) as session:
        result = await session.run("MATCH (w:WebhookEndpoint) RETURN w.id AS id, w.secret AS s")
        return {r["id"]: r["s"] async for r in result}


async def _register(db: Database, box: SecretBox, n: int) -> Any:
    return await webhooks.register(db, f"http://127.0.0.1:9/{n}", None, "dpo", POLICY, box=box)


async def test_secrets_are_sealed_in_the_graph_and_open_for_the_notifier(db: Database) -> None:
    created = await _register(db, _box(OLD), 1)
    secret = created.secret.get_secret_value()
    stored = (await _stored(db))[created.endpoint.id]
    assert stored.startswith("fernet:")
    assert secret not in stored
    await webhooks.redeliver(db, created.endpoint.id, 0)
    assert _box(OLD).open(stored).get_secret_value() == secret


async def test_rotate_re_encrypts_old_and_plaintext_secrets_once(db: Database) -> None:
    under_old = await _register(db, _box(OLD), 1)
    plain = await _register(db, SecretBox(), 2)  # a keyless stack, or an earlier version
    assert (await _stored(db))[plain.endpoint.id].startswith("whsec_")
    both = _box(NEW, OLD)
    plan = await db.read(webhooks.rotation_plan_in, both)
    assert {(s.endpoint_id, s.action) for s in plan} == {
        (under_old.endpoint.id, "re-encrypt"),
        (plain.endpoint.id, "encrypt"),
    }
    assert await db.write(webhooks.rotate_in, both) == plan
    stored = await _stored(db)
    new_only = _box(NEW)
    assert new_only.open(stored[under_old.endpoint.id]) == under_old.secret
    assert new_only.open(stored[plain.endpoint.id]) == plain.secret
    again = await db.write(webhooks.rotate_in, both)
    assert {s.action for s in again} == {"current"}
    assert await _stored(db) == stored


async def test_rotate_writes_nothing_when_a_secret_does_not_open(db: Database) -> None:
    ok = await _register(db, _box(OLD), 1)
    foreign = await _register(db, _box(new_key()), 2)
    before = await _stored(db)
    with pytest.raises(SecretUnreadable, match=f"webhook {foreign.endpoint.id}"):
        await db.write(webhooks.rotate_in, _box(NEW, OLD))
    assert await _stored(db) == before
    assert ok.endpoint.id in before
