"""A client that stops reading stalls no one: the follower never waits for a subscriber, the
fast client gets every change on time, and the slow one, once its queue overflows, is told to
resubscribe from the last change it received, from which it misses nothing."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from tests.services.subscriptions.conftest import (
    SUBSCRIPTION,
    Listener,
    MakeRegistry,
    Register,
    Registry,
    listening,
)

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]

QUEUE = 5
# Large, incompressible changes, enough of them to fill the socket buffers between the
# registry and a client that reads nothing (some MB), and then its queue.
PADDING = 200_000
CHANGES = 45


@pytest.fixture(scope="module")
def registry(school: Register, registries: MakeRegistry) -> Registry:
    """A registry whose subscribers may have only a few changes waiting. Its keepalive would
    close the stalled client's socket after 40 s unanswered, before the test (slower under
    load) lets it read: that is another behaviour than the one tested here, so it waits long."""
    return registries(subscriber_queue_size=QUEUE, ws_ping_interval=3600, ws_ping_timeout=3600)


@asynccontextmanager
async def stalled(registry: Registry) -> AsyncIterator[ClientConnection]:
    """A WebSocket that reads nothing once its small buffers are full."""
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect(("127.0.0.1", registry.port))
    raw.setblocking(False)
    async with connect(
        registry.ws,
        sock=raw,
        subprotocols=[Subprotocol("graphql-transport-ws")],
        max_queue=1,
        max_size=None,
        # Its own keepalive could not hear the pongs it stops reading: no pings.
        ping_interval=None,
    ) as ws:
        yield ws


async def receive(ws: ClientConnection, within: float = 30.0) -> dict[str, Any]:
    async with asyncio.timeout(within):
        message: dict[str, Any] = json.loads(await ws.recv())
        return message


async def test_a_client_that_never_reads_stalls_no_one(
    school: Register, registry: Registry
) -> None:
    start = (await school.changes())[-1].sequence
    async with stalled(registry) as slow:
        await slow.send(json.dumps({"type": "connection_init"}))
        assert await receive(slow) == {"type": "connection_ack"}
        await slow.send(
            json.dumps({"id": "slow", "type": "subscribe", "payload": {"query": SUBSCRIPTION}})
        )
        fast = Listener(registry.ws)
        async with listening(fast):
            lags: list[float] = []
            for n in range(CHANGES):
                await school.change(padding=PADDING)
                committed = time.monotonic()
                await fast.wait_for(n + 1, within=10)
                lags.append(time.monotonic() - committed)
        recorded = await school.changes(after=start)
        assert fast.ids == [c.id for c in recorded]
        assert max(lags) < 5.0, lags

        # Now the slow client reads: what was on its way, then the reason it was dropped.
        received: list[dict[str, Any]] = []
        while True:
            message = await receive(slow)
            if message["type"] != "next" or "errors" in message["payload"]:
                break
            received.append(message["payload"]["data"]["subProcessorChanges"])
        assert message["type"] == "next"
        error = message["payload"]["errors"][0]
        assert error["extensions"]["code"] == "SUBSCRIBER_TOO_SLOW"
        assert len(received) < len(recorded)
        last = received[-1]["id"]
        assert f'after: "{last}"' in error["message"]
        assert await receive(slow) == {"id": "slow", "type": "complete"}
    assert "dropped a subscriber" in registry.tail()

    # Resuming from the last change it received, it misses nothing.
    assert [r["id"] for r in received] == [c.id for c in recorded[: len(received)]]
    async with Listener(registry.ws, after=last) as resumed:
        await resumed.wait_for(len(recorded) - len(received))
    assert resumed.ids == [c.id for c in recorded[len(received) :]]
