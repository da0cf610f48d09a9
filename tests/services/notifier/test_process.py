"""The notifier as a real process: health, readiness, and surviving kill -9 mid-burst."""

from __future__ import annotations

import asyncio
import os
import time

import httpx
import pytest
from neo4j import AsyncManagedTransaction
from pydantic import SecretStr

from graph import changes, migrate, webhooks
from graph.database import Database
from graph.secret_box import SecretBox
from schema.webhook_url import TargetPolicy
from tests.services.notifier.conftest import (
    MakeReceiver,
    Register,
    StartNotifier,
    eventually,
    expected_sequences,
    verify_all,
)

# The key tests/conftest.py gives every component of the test session.
BOX = SecretBox.from_setting(SecretStr(os.environ["ROPA_SECRET_KEY"]), required=True)

pytestmark = pytest.mark.neo4j

LOOPBACK = TargetPolicy(allow_loopback=True)


async def _forget_migration(tx: AsyncManagedTransaction) -> None:
    await tx.run("MATCH (m:Migration {id: '0005_webhooks'}) DELETE m")


async def test_healthz_and_readyz(db: Database, notifier_processes: StartNotifier) -> None:
    notifier = notifier_processes()
    await notifier.healthy()
    async with httpx.AsyncClient(base_url=notifier.url, timeout=5) as http:
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        ready = await http.get("/readyz")
        assert (ready.status_code, ready.json()) == (200, {"status": "ok"})
        await db.write(_forget_migration)
        try:
            pending = await http.get("/readyz")
            assert pending.status_code == 503
            assert pending.json()["reason"] == "migrations pending: 0005_webhooks"
        finally:
            await migrate.migrate(db)
        assert (await http.get("/readyz")).status_code == 200


@pytest.mark.slow
async def test_kill_9_mid_burst_then_restart_delivers_everything_in_order(
    db: Database, receivers: MakeReceiver, notifier_processes: StartNotifier
) -> None:
    register = Register(processors=3, per_processor=20)
    await register.apply(db)
    steady, filtered = receivers(), receivers()
    # Every 25th request fails: retries interleave with the crash.
    flaky = receivers(reply=lambda d, n: (500, {}) if n % 25 == 0 else (200, {}))
    regs = {
        "steady": await webhooks.register(db, steady.url, None, "dpo", LOOPBACK, box=BOX),
        "flaky": await webhooks.register(db, flaky.url, None, "dpo", LOOPBACK, box=BOX),
        "filtered": await webhooks.register(db, filtered.url, "proc-1", "dpo", LOOPBACK, box=BOX),
    }
    start = regs["steady"].endpoint.cursor
    names = list(register.purposes)

    async def burst() -> None:
        # 25 transactions of 20 changed engagements each: 500 sub-processor changes.
        for version in range(1, 26):
            first = (version * 20) % len(names)
            await register.change(db, (names + names)[first : first + 20], version)
            await asyncio.sleep(0.02)

    first = notifier_processes()
    await first.healthy()
    writer = asyncio.create_task(burst())
    await eventually(lambda: len(steady.accepted()) >= 100, within=60, message="deliveries")
    assert not writer.done(), "the burst ended before the kill; it must be mid-burst"
    first.kill()
    killed_at = len(steady.accepted())
    # The next notifier starts once changes were made while none ran: it has to catch up.
    at_kill = await db.read(changes.last_sequence)

    async def written_meanwhile() -> bool:
        return writer.done() or await db.read(changes.last_sequence) > at_kill

    await eventually(written_meanwhile, message="a change committed after the kill")
    second = notifier_processes()
    await second.healthy()
    await writer

    want = await expected_sequences(db, start)
    want_filtered = await expected_sequences(db, start, "proc-1")
    assert len(want) == 500
    assert 100 < len(want_filtered) < 250
    assert killed_at < 500
    started = time.monotonic()
    for name, receiver, expected in (
        ("steady", steady, want),
        ("flaky", flaky, want),
        ("filtered", filtered, want_filtered),
    ):
        remaining = max(5.0, 90 - (time.monotonic() - started))
        await eventually(
            lambda r=receiver, e=expected: len(r.accepted()) >= len(e),
            within=remaining,
            message=f"{name} complete",
        )
        # De-duplicated by webhook-id: every change, none missing, none out of order.
        assert receiver.sequences() == expected, name
        secret = regs[name].secret.get_secret_value()
        verify_all(secret, receiver.snapshot())
    assert {d.json["data"]["processor"] for d in filtered.snapshot()} == {"proc-1"}
