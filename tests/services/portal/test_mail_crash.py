"""kill -9 of the notifier while it sends a batch of notices loses none: after a restart every
(subscriber, change) notice arrives, under its one Message-ID (some perhaps twice)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from graph import engagement_writes, mail
from graph.database import Database
from graph.neo4j_server import free_port
from schema.access.principal import admin
from schema.change_requests import EngagementUpdate
from schema.subscriptions import subscriber_id
from tests.services.notifier.conftest import StartNotifier, eventually

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]

SUBSCRIBERS = 5
CHANGES = 12


class _Sink:
    def __init__(self) -> None:
        self.ids: list[str] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.ids.append(str(parsed["Message-ID"]))
        return "250 OK"

    def distinct(self) -> set[str]:
        with self.lock:
            return set(self.ids)


@pytest.fixture
def sink() -> Iterator[tuple[_Sink, int]]:
    """A real SMTP server on loopback recording the Message-ID of each message."""
    handler = _Sink()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


async def test_kill_9_mid_batch_loses_no_notice(
    portal_register: Database,
    notifier_processes: StartNotifier,
    sink: tuple[_Sink, int],
) -> None:
    handler, port = sink
    now = dt.datetime.now(dt.UTC)
    for n in range(SUBSCRIBERS):
        address = f"parent{n}@school.example"
        the_id = subscriber_id("portal-co", address)
        await portal_register.write(
            mail.subscribe_in,
            the_id,
            "portal-co",
            address,
            False,
            f"c-{n}",
            dt.timedelta(hours=1),
            now,
        )
        await portal_register.write(mail.confirm_in, the_id, now)
    # The confirmations are not what this test counts: send them out of the way.
    await portal_register.write(mail.sent_in, [f"c-{n}" for n in range(SUBSCRIBERS)])
    for version in range(CHANGES):
        await engagement_writes.update(
            portal_register,
            "portal-hosting",
            EngagementUpdate(purpose=f"Hosting v{version}"),
            admin("tests"),
        )
    expected = SUBSCRIBERS * CHANGES
    env = {
        "ROPA_SMTP_HOST": "127.0.0.1",
        "ROPA_SMTP_PORT": str(port),
        "ROPA_SMTP_STARTTLS": "false",
        "ROPA_SECRET_KEY": "crash-test-secret-0123456789-abcdefghij",
        "ROPA_MAIL_FROM": "notices@registry.example",
        "ROPA_MAIL_POLL_INTERVAL": "0.05",
    }
    first = notifier_processes(**env)
    await first.healthy()
    await eventually(lambda: len(handler.distinct()) >= 5, within=60, message="first notices")
    first.kill()
    killed_at = len(handler.distinct())
    assert killed_at < expected, "the notifier finished before it was killed; nothing tested"
    second = notifier_processes(**env)
    await second.healthy()
    await eventually(lambda: len(handler.distinct()) >= expected, within=60, message="every notice")
    assert len(handler.distinct()) == expected
    # Every notice once, or twice at most: those in flight when it was killed.
    assert len(handler.ids) <= expected + 10

    async def drained() -> bool:
        return await mail.waiting(portal_register) == 0

    await eventually(drained, message="the queue empties")
    second.stop()
