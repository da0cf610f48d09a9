"""How the notifier treats receivers that refuse, stall, redirect or should not be reached."""

from __future__ import annotations

import asyncio
import os

import pytest
from pydantic import SecretStr

from graph import webhooks
from graph.database import Database
from graph.secret_box import SecretBox
from graph.webhook_targets import WebhookTargetSettings
from schema.webhook_url import TargetPolicy
from tests.services.notifier.conftest import (
    MakeReceiver,
    Register,
    RunNotifier,
    considered,
    eventually,
    expected_sequences,
)

# The key tests/conftest.py gives every component of the test session.
BOX = SecretBox.from_setting(SecretStr(os.environ["ROPA_SECRET_KEY"]), required=True)

pytestmark = pytest.mark.neo4j

LOOPBACK = TargetPolicy(allow_loopback=True)


async def _changed(db: Database, rounds: int = 2) -> Register:
    register = Register(2, 2)
    await register.apply(db)
    return register


async def _burst(db: Database, register: Register, rounds: int, first: int = 1) -> None:
    names = list(register.purposes)
    for version in range(first, first + rounds):
        await register.change(db, [names[version % len(names)]], version)


async def _status(db: Database, endpoint_id: str) -> str:
    return (await webhooks.get(db, endpoint_id)).status


async def test_retry_after_is_honoured(
    db: Database, receivers: MakeReceiver, run_notifier: RunNotifier
) -> None:
    register = await _changed(db)
    busy = receivers(reply=lambda d, n: (429, {"Retry-After": "1"}) if n == 1 else (204, {}))
    reg = await webhooks.register(db, busy.url, None, "dpo", LOOPBACK, box=BOX)
    async with run_notifier():
        await _burst(db, register, rounds=2)
        want = await expected_sequences(db, reg.endpoint.cursor)
        await eventually(lambda: busy.sequences() == want, message="delivered after 429")
    first, second = busy.snapshot()[:2]
    assert (first.status, second.status) == (429, 204)
    assert first.id == second.id
    # The schedule says 0.05 s; the receiver asked for 1 s.
    assert second.at - first.at >= 0.95


async def test_past_the_retry_window_the_endpoint_is_failed_until_redelivered(
    db: Database, receivers: MakeReceiver, run_notifier: RunNotifier
) -> None:
    register = await _changed(db)
    broken = receivers(reply=lambda d, n: (503, {}))
    reg = await webhooks.register(db, broken.url, None, "dpo", LOOPBACK, box=BOX)
    async with run_notifier(retry_schedule=(0.05, 0.05)) as notifier:
        await _burst(db, register, rounds=3)

        async def failed() -> bool:
            return await _status(db, reg.endpoint.id) == "failed"

        await eventually(failed, message="marked failed")
        await _burst(db, register, rounds=1, first=7)
        await considered(notifier)
        # The first attempt and the two retries of the schedule, then nothing.
        assert len(broken.snapshot()) == 3
        assert len({d.id for d in broken.snapshot()}) == 1
        endpoint = await webhooks.get(db, reg.endpoint.id)
        assert (endpoint.attempts, endpoint.cursor) == (3, reg.endpoint.cursor)
        assert "HTTP 503" in (endpoint.last_error or "")

        broken.reply = lambda d, n: (200, {})
        await webhooks.redeliver(db, reg.endpoint.id)
        want = await expected_sequences(db, reg.endpoint.cursor)
        await eventually(lambda: broken.sequences() == want, message="redelivered")
        assert await _status(db, reg.endpoint.id) == "active"


async def test_redelivery_resends_the_same_messages_with_the_same_ids(
    db: Database, receivers: MakeReceiver, run_notifier: RunNotifier
) -> None:
    register = await _changed(db)
    receiver = receivers()
    reg = await webhooks.register(db, receiver.url, None, "dpo", LOOPBACK, box=BOX)
    async with run_notifier():
        await _burst(db, register, rounds=4)
        want = await expected_sequences(db, reg.endpoint.cursor)
        await eventually(lambda: receiver.sequences() == want, message="delivered")
        await webhooks.redeliver(db, reg.endpoint.id, want[1])
        await eventually(lambda: len(receiver.snapshot()) == len(want) + 2, message="again")
    first, again = receiver.snapshot()[:4], receiver.snapshot()[4:]
    assert [(d.id, d.body) for d in again] == [(d.id, d.body) for d in first[2:]]
    assert receiver.sequences() == want


async def test_redirects_are_not_followed(
    db: Database, receivers: MakeReceiver, run_notifier: RunNotifier
) -> None:
    register = await _changed(db)
    elsewhere = receivers()
    redirecting = receivers(reply=lambda d, n: (307, {"Location": elsewhere.url}))
    reg = await webhooks.register(db, redirecting.url, None, "dpo", LOOPBACK, box=BOX)
    async with run_notifier(retry_schedule=(0.3,) * 20):
        await _burst(db, register, rounds=1)

        async def noted() -> bool:
            return "redirect" in ((await webhooks.get(db, reg.endpoint.id)).last_error or "")

        await eventually(noted, message="redirect recorded as a failure")
    assert redirecting.snapshot()
    assert elsewhere.snapshot() == []
    endpoint = await webhooks.get(db, reg.endpoint.id)
    assert endpoint.cursor == reg.endpoint.cursor
    assert "HTTP 307" in (endpoint.last_error or "")


async def test_a_stalled_endpoint_times_out_without_holding_up_the_others(
    db: Database, receivers: MakeReceiver, run_notifier: RunNotifier
) -> None:
    register = await _changed(db)
    stalled = receivers(delay=3.0)
    prompt = receivers()
    slow = await webhooks.register(db, stalled.url, None, "dpo", LOOPBACK, box=BOX)
    fast = await webhooks.register(db, prompt.url, None, "dpo", LOOPBACK, box=BOX)
    async with run_notifier(timeout=0.5, retry_schedule=(5.0,)):
        await _burst(db, register, rounds=5)
        want = await expected_sequences(db, fast.endpoint.cursor)
        started = asyncio.get_running_loop().time()
        await eventually(lambda: prompt.sequences() == want, within=2.5, message="the prompt one")
        assert asyncio.get_running_loop().time() - started < 2.5

        async def timed_out() -> bool:
            error = (await webhooks.get(db, slow.endpoint.id)).last_error or ""
            return "no response within 0.5 s" in error

        await eventually(timed_out, within=3, message="timeout recorded")
    assert (await webhooks.get(db, slow.endpoint.id)).cursor == slow.endpoint.cursor


async def test_loopback_targets_are_refused_at_delivery_unless_allowed(
    db: Database, receivers: MakeReceiver, run_notifier: RunNotifier
) -> None:
    register = await _changed(db)
    receiver = receivers()
    # Registered where loopback was allowed; the notifier's own policy still decides.
    reg = await webhooks.register(db, receiver.url, None, "dpo", LOOPBACK, box=BOX)
    async with run_notifier(webhook_targets=WebhookTargetSettings(), retry_schedule=(0.3,) * 20):
        await _burst(db, register, rounds=1)

        async def refused() -> bool:
            error = (await webhooks.get(db, reg.endpoint.id)).last_error or ""
            return "loopback address 127.0.0.1 is not an allowed target" in error

        await eventually(refused, message="refusal recorded")
    assert receiver.snapshot() == []
