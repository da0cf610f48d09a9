"""The notifier in-process against real receivers on loopback and the session's Neo4j."""

from __future__ import annotations

import os

import pytest
from pydantic import SecretStr
from standardwebhooks import Webhook, WebhookVerificationError

from graph import webhooks
from graph.database import Database
from graph.secret_box import SecretBox
from schema.webhook_url import TargetPolicy
from tests.services.notifier.conftest import (
    MakeReceiver,
    Register,
    RunNotifier,
    considered,
    eventually,
    expected_sequences,
    verify_all,
)

# The key tests/conftest.py gives every component of the test session.
BOX = SecretBox.from_setting(SecretStr(os.environ["ROPA_SECRET_KEY"]), required=True)

pytestmark = pytest.mark.neo4j

LOOPBACK = TargetPolicy(allow_loopback=True)
SLOW_RETRIES = (0.2,) * 60


async def _setup(db: Database, processors: int = 2, per: int = 3) -> Register:
    register = Register(processors, per)
    await register.apply(db)
    return register


async def _burst(db: Database, register: Register, rounds: int, first: int = 1) -> None:
    names = list(register.purposes)
    for version in range(first, first + rounds):
        start = version % len(names)
        await register.change(db, (names + names)[start : start + 3], version)


async def test_every_change_arrives_in_order_signed_and_in_the_documented_shape(
    db: Database, receivers: MakeReceiver, run_notifier: RunNotifier
) -> None:
    register = await _setup(db)
    everything, filtered = receivers(), receivers()
    all_reg = await webhooks.register(db, everything.url, None, "dpo", LOOPBACK, box=BOX)
    proc_reg = await webhooks.register(db, filtered.url, "proc-0", "dpo", LOOPBACK, box=BOX)
    start = all_reg.endpoint.cursor
    async with run_notifier():
        await _burst(db, register, rounds=6)
        want_all = await expected_sequences(db, start)
        want_proc = await expected_sequences(db, start, "proc-0")
        assert len(want_all) == 18
        assert 0 < len(want_proc) < len(want_all)
        await eventually(lambda: everything.sequences() == want_all, message="all changes")
        await eventually(lambda: filtered.sequences() == want_proc, message="proc-0 changes")
        head = want_all[-1]

        async def caught_up() -> bool:
            endpoints = await webhooks.list_endpoints(db)
            return all(e.cursor == head for e in endpoints)

        # The filtered endpoint's cursor moves past other processors' changes as well.
        await eventually(caught_up, message="cursors at the head")

    # No failures, so no duplicates.
    assert len(everything.snapshot()) == len(want_all)
    verify_all(all_reg.secret.get_secret_value(), everything.snapshot())
    verify_all(proc_reg.secret.get_secret_value(), filtered.snapshot())
    # Each endpoint has its own secret.
    other = filtered.snapshot()[0]
    with pytest.raises(WebhookVerificationError):
        Webhook(all_reg.secret.get_secret_value()).verify(other.body, other.headers)

    first = everything.snapshot()[0]
    assert first.headers["content-type"] == "application/json"
    assert first.headers["user-agent"].startswith("ropa-notifier/")
    message = first.json
    assert set(message) == {"type", "timestamp", "data"}
    assert message["type"] == "subprocessor.changed"
    data = message["data"]
    assert data["id"] == first.headers["webhook-id"]
    assert message["timestamp"] == data["occurredAt"]
    assert set(data) == {
        "id",
        "sequence",
        "type",
        "occurredAt",
        "effectiveFrom",
        "processor",
        "subProcessor",
        "before",
        "after",
        "actor",
    }
    assert (data["type"], data["actor"], data["effectiveFrom"]) == (
        "CHANGED",
        "tests",
        "2022-02-14",
    )
    assert data["before"]["purpose"] == "Hosting"
    assert data["after"]["purpose"] == "Hosting v1"
    assert {d.json["data"]["processor"] for d in filtered.snapshot()} == {"proc-0"}


async def test_a_failing_receiver_gets_the_same_event_again_and_then_everything(
    db: Database, receivers: MakeReceiver, run_notifier: RunNotifier
) -> None:
    register = await _setup(db)
    flaky = receivers(reply=lambda d, n: (500, {}) if n <= 4 else (200, {}))
    reg = await webhooks.register(db, flaky.url, None, "dpo", LOOPBACK, box=BOX)
    async with run_notifier():
        await _burst(db, register, rounds=3)
        want = await expected_sequences(db, reg.endpoint.cursor)
        await eventually(lambda: flaky.sequences() == want, message="recovered")
    requests = flaky.snapshot()
    # The first event was tried five times (four 500s, then a 200) before the second was sent.
    assert [r.status for r in requests[:5]] == [500, 500, 500, 500, 200]
    assert len({r.id for r in requests[:5]}) == 1
    assert requests[0].json["data"]["sequence"] == want[0]
    assert len(requests) == len(want) + 4
    endpoint = await webhooks.get(db, reg.endpoint.id)
    assert (endpoint.status, endpoint.attempts, endpoint.last_error) == ("active", 0, None)


async def test_a_receiver_that_is_down_gets_everything_once_it_is_back(
    db: Database, receivers: MakeReceiver, run_notifier: RunNotifier
) -> None:
    register = await _setup(db)
    down = receivers(start=False)
    reg = await webhooks.register(db, down.url, None, "dpo", LOOPBACK, box=BOX)
    async with run_notifier(retry_schedule=SLOW_RETRIES):
        await _burst(db, register, rounds=4)

        async def failing() -> bool:
            endpoint = await webhooks.get(db, reg.endpoint.id)
            return endpoint.attempts >= 3

        await eventually(failing, message="connection refused, retried")
        endpoint = await webhooks.get(db, reg.endpoint.id)
        assert endpoint.failing_since is not None
        assert endpoint.next_attempt_at is not None
        assert "ConnectError" in (endpoint.last_error or "")
        assert endpoint.cursor == reg.endpoint.cursor
        down.start()
        await _burst(db, register, rounds=2, first=10)
        want = await expected_sequences(db, reg.endpoint.cursor)
        assert len(want) == 18
        await eventually(lambda: down.sequences() == want, message="everything after restart")
    assert len(down.snapshot()) == len(want)


async def test_410_gone_disables_the_endpoint_until_redelivered(
    db: Database, receivers: MakeReceiver, run_notifier: RunNotifier
) -> None:
    register = await _setup(db)
    gone = receivers(reply=lambda d, n: (410, {}))
    reg = await webhooks.register(db, gone.url, None, "dpo", LOOPBACK, box=BOX)
    async with run_notifier() as notifier:
        await _burst(db, register, rounds=2)

        async def disabled() -> bool:
            return (await webhooks.get(db, reg.endpoint.id)).status == "disabled"

        await eventually(disabled, message="disabled")
        await _burst(db, register, rounds=2, first=5)
        await considered(notifier)
        assert len(gone.snapshot()) == 1
        assert "410" in ((await webhooks.get(db, reg.endpoint.id)).last_error or "")

        gone.reply = lambda d, n: (200, {})
        await webhooks.redeliver(db, reg.endpoint.id)
        want = await expected_sequences(db, reg.endpoint.cursor)
        await eventually(lambda: gone.sequences() == want, message="redelivered")


async def test_a_graceful_stop_saves_the_cursor_of_what_was_delivered(
    db: Database, receivers: MakeReceiver, run_notifier: RunNotifier
) -> None:
    register = await _setup(db)
    receiver = receivers()
    reg = await webhooks.register(db, receiver.url, None, "dpo", LOOPBACK, box=BOX)
    # Saves only when a run ends: stopping must save, or all of it would be sent again.
    async with run_notifier(checkpoint_every=10_000, checkpoint_interval=3600):
        await _burst(db, register, rounds=3)
        want = await expected_sequences(db, reg.endpoint.cursor)
        await eventually(lambda: receiver.sequences() == want, message="delivered")
    assert (await webhooks.get(db, reg.endpoint.id)).cursor == want[-1]
    assert len(receiver.snapshot()) == len(want)
