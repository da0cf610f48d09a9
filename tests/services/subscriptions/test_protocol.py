"""graphql-transport-ws at its edges, spoken frame by frame with the `websockets` library:
the close codes of the protocol, ping/pong, the cap on operations per connection, the legacy
`graphql-ws` subprotocol refused, and the explorer's WebSocket fetcher."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from schema.access.tokens import hash_token
from tests.services.subscriptions.conftest import SUBSCRIPTION, MakeRegistry, Register, Registry

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]

TRANSPORT_WS = Subprotocol("graphql-transport-ws")
LEGACY_WS = Subprotocol("graphql-ws")
INIT_TIMEOUT = 1.0
CAP = 2
TOKEN = "a-dpo-token-for-the-protocol-tests"


@pytest.fixture(scope="module")
def registry(school: Register, registries: MakeRegistry) -> Registry:
    """A registry with a short connection_init timeout and a low cap, for the module."""
    tokens = json.dumps([{"name": "dpo-tests", "role": "admin", "sha256": hash_token(TOKEN)}])
    return registries(
        connection_init_timeout=INIT_TIMEOUT, subscriptions_per_connection=CAP, tokens=tokens
    )


@asynccontextmanager
async def socket(
    registry: Registry, protocols: tuple[Subprotocol, ...] = (TRANSPORT_WS,)
) -> AsyncIterator[ClientConnection]:
    # No protocols means no Sec-WebSocket-Protocol header at all, as a plain client sends: an
    # empty header is malformed and refused by the HTTP handshake before the app sees it.
    offered = list(protocols) or None
    async with connect(registry.ws, subprotocols=offered, open_timeout=10) as ws:
        yield ws


async def send(ws: ClientConnection, message: dict[str, Any]) -> None:
    await ws.send(json.dumps(message))


async def receive(ws: ClientConnection, within: float = 10.0) -> dict[str, Any]:
    async with asyncio.timeout(within):
        message: dict[str, Any] = json.loads(await ws.recv())
        return message


async def closed(ws: ClientConnection, within: float = 10.0) -> tuple[int, str]:
    """Read until the server closes; its close code and reason."""
    async with asyncio.timeout(within):
        try:
            while True:
                await ws.recv()
        except ConnectionClosed as error:
            frame = error.rcvd
    if frame is None:
        raise AssertionError("closed without a close frame")
    return frame.code, frame.reason


async def initialised(ws: ClientConnection, payload: Any = None) -> None:
    await send(ws, {"type": "connection_init"} | ({} if payload is None else {"payload": payload}))
    assert await receive(ws) == {"type": "connection_ack"}


def subscribe(op_id: str, after: str | None = None) -> dict[str, Any]:
    return {
        "id": op_id,
        "type": "subscribe",
        "payload": {"query": SUBSCRIPTION, "variables": {"after": after}},
    }


async def test_no_connection_init_in_time_closes_4408(registry: Registry) -> None:
    async with socket(registry) as ws:
        assert ws.subprotocol == TRANSPORT_WS
        assert await closed(ws, within=INIT_TIMEOUT + 5) == (
            4408,
            "Connection initialisation timeout",
        )


async def test_a_second_connection_init_closes_4429(registry: Registry) -> None:
    async with socket(registry) as ws:
        await initialised(ws)
        await send(ws, {"type": "connection_init"})
        assert await closed(ws) == (4429, "Too many initialisation requests")


async def test_subscribe_before_connection_ack_closes_4401(registry: Registry) -> None:
    async with socket(registry) as ws:
        await send(ws, subscribe("1"))
        assert await closed(ws) == (4401, "Unauthorized")


async def test_a_duplicate_subscription_id_closes_4409(registry: Registry) -> None:
    async with socket(registry) as ws:
        await initialised(ws)
        await send(ws, subscribe("same"))
        await send(ws, subscribe("same"))
        assert await closed(ws) == (4409, "Subscriber for same already exists")


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (json.dumps({"type": "no-such-type"}), "Unknown message type: no-such-type"),
        ("not json", "WebSocket message must be valid JSON"),
        (json.dumps({"payload": {}}), "Failed to parse message"),
        (json.dumps({"type": "connection_init", "payload": "x"}), "Invalid connection init"),
        (b"\x00binary", "WebSocket message type must be text"),
    ],
)
async def test_an_invalid_message_closes_4400(
    registry: Registry, frame: str | bytes, reason: str
) -> None:
    async with socket(registry) as ws:
        await ws.send(frame)
        code, said = await closed(ws)
    assert code == 4400
    assert said.startswith(reason)


@pytest.mark.parametrize(
    "payload",
    [
        {"Authorization": "Bearer not-a-configured-token"},
        {"authorization": f"Basic {TOKEN}"},
        {"Authorization": 42},
    ],
)
async def test_an_invalid_token_in_connection_init_closes_4403(
    registry: Registry, payload: dict[str, Any]
) -> None:
    async with socket(registry) as ws:
        await send(ws, {"type": "connection_init", "payload": payload})
        assert await closed(ws) == (4403, "Forbidden")


async def test_a_configured_token_acts_for_the_connection(registry: Registry) -> None:
    # `webhooks` needs the dpo role: refused without the token, answered with it.
    operation = {"query": "{ webhooks { id } }"}
    async with socket(registry) as ws:
        await initialised(ws)
        await send(ws, {"id": "1", "type": "subscribe", "payload": operation})
        refused = await receive(ws)
        assert refused["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    async with socket(registry) as ws:
        await initialised(ws, {"Authorization": f"Bearer {TOKEN}"})
        await send(ws, {"id": "1", "type": "subscribe", "payload": operation})
        assert await receive(ws) == {
            "id": "1",
            "type": "next",
            "payload": {"data": {"webhooks": []}},
        }


async def test_ping_is_answered_with_pong_before_and_after_init(registry: Registry) -> None:
    async with socket(registry) as ws:
        await send(ws, {"type": "ping"})
        assert await receive(ws) == {"type": "pong"}
        await initialised(ws)
        await send(ws, {"type": "ping", "payload": {"at": 1}})
        assert (await receive(ws))["type"] == "pong"
        # A pong from the client needs no answer and keeps the connection.
        await send(ws, {"type": "pong"})
        await send(ws, {"type": "ping"})
        assert await receive(ws) == {"type": "pong"}


async def test_the_legacy_graphql_ws_subprotocol_is_refused(registry: Registry) -> None:
    async with socket(registry, (LEGACY_WS,)) as ws:
        assert ws.subprotocol is None
        assert await closed(ws) == (4406, "Subprotocol not acceptable")
    async with socket(registry, ()) as ws:
        assert await closed(ws) == (4406, "Subprotocol not acceptable")
    # A client offering both gets the one the server speaks.
    async with socket(registry, (LEGACY_WS, TRANSPORT_WS)) as ws:
        assert ws.subprotocol == TRANSPORT_WS
        await initialised(ws)


async def test_operations_per_connection_are_capped(school: Register, registry: Registry) -> None:
    first = (await school.changes())[0]
    async with socket(registry) as ws:
        await initialised(ws)
        for op_id in ("1", "2"):
            await send(ws, subscribe(op_id))
        await send(ws, subscribe("3", after=first.id))
        refused = await receive(ws)
        assert refused["id"] == "3"
        assert refused["type"] == "error"
        assert refused["payload"][0]["message"] == "Subscription limit reached"
        # Completing one makes room for another on the same connection: once the server has
        # handled the `complete`, which it does not acknowledge, a new one is accepted.
        await send(ws, {"id": "1", "type": "complete"})
        for attempt in range(4, 200):
            await send(ws, subscribe(str(attempt), after=first.id))
            accepted = await receive(ws)
            if accepted["type"] != "error":
                break
            assert accepted["payload"][0]["message"] == "Subscription limit reached"
        assert accepted["id"] == str(attempt)
        assert accepted["type"] == "next"
        assert accepted["payload"]["data"]["subProcessorChanges"]["sequence"] > first.sequence


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("subscription { subProcessorChanges { nope } }", "GRAPHQL_VALIDATION_FAILED"),
        ("subscription {", "GRAPHQL_PARSE_FAILED"),
    ],
)
async def test_an_invalid_operation_gets_an_error_message_with_a_code(
    registry: Registry, query: str, code: str
) -> None:
    async with socket(registry) as ws:
        await initialised(ws)
        await send(ws, {"id": "1", "type": "subscribe", "payload": {"query": query}})
        message = await receive(ws)
        assert message["type"] == "error"
        assert message["id"] == "1"
        assert message["payload"][0]["extensions"]["code"] == code
        # The connection stays open for the next operation.
        await send(ws, {"type": "ping"})
        assert await receive(ws) == {"type": "pong"}


async def test_queries_run_over_the_websocket_too(registry: Registry) -> None:
    async with socket(registry) as ws:
        # The token given at connection_init acts for the socket's queries too.
        await initialised(ws, {"Authorization": f"Bearer {TOKEN}"})
        query = '{ organisation(ref: "portal-co") { name } }'
        await send(ws, {"id": "q", "type": "subscribe", "payload": {"query": query}})
        assert await receive(ws) == {
            "id": "q",
            "type": "next",
            "payload": {"data": {"organisation": {"name": "Portal Co"}}},
        }
        assert await receive(ws) == {"id": "q", "type": "complete"}


async def test_the_explorer_runs_subscriptions_over_this_endpoint(registry: Registry) -> None:
    async with httpx.AsyncClient() as http:
        page = await http.get(f"{registry.url}/graphql", headers={"accept": "text/html"})
        script = await http.get(f"{registry.url}/console/static/explorer.js")
    assert page.status_code == 200
    assert '<script src="/console/static/explorer.js"></script>' in page.text
    # GraphiQL's fetcher sends subscriptions through a graphql-ws client to the page's own
    # /graphql, with ws: for http: (wss: for https:); tests/browser runs one in Chromium.
    assert script.status_code == 200
    assert "GraphiQL.createFetcher" in script.text
    assert "graphqlWs.createClient" in script.text
    assert 'http.protocol === "https:" ? "wss:" : "ws:"' in script.text
