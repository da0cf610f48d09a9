"""A WebSocket from the signed-in browser acts as the person, at connection_init, on another
registry process sharing the session key; a page of another origin, or a stale cookie, does not."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

from services.cli.oidc_provider import DevProvider
from tests.services.conftest import RegistryProcess
from tests.services.signin.conftest import (
    CLIENT,
    MAPPINGS,
    REGISTRY,
    SESSION_SECRET,
    session_cookie,
    sign_in,
)

pytestmark = pytest.mark.neo4j

WEBHOOKS = "{ webhooks { id } }"


@pytest.fixture(scope="module")
def replica(registry_process: RegistryProcess, oidc_provider: DevProvider) -> Iterator[str]:
    """`ropa serve registry` with the same sign-in settings (and session key) as the app."""
    env: dict[str, str | None] = {
        "ROPA_OIDC_ISSUER": oidc_provider.issuer,
        "ROPA_OIDC_CLIENT_ID": CLIENT.client_id,
        "ROPA_OIDC_CLIENT_SECRET": CLIENT.client_secret,
        "ROPA_OIDC_ROLE_MAPPINGS": json.dumps(MAPPINGS),
        "ROPA_PUBLIC_URL": REGISTRY,
        "ROPA_SESSION_SECRET": SESSION_SECRET,
    }
    with registry_process(env) as url:
        yield url.replace("http://", "ws://") + "/graphql"


async def ask(ws: ClientConnection, query: str) -> dict[str, Any]:
    """Run one operation over the socket; its `next` payload."""
    async with asyncio.timeout(10):
        await ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await ws.recv()) == {"type": "connection_ack"}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        message: dict[str, Any] = json.loads(await ws.recv())
    assert message["type"] == "next", message
    payload: dict[str, Any] = message["payload"]
    return payload


def opened(url: str, cookie: str, origin: str) -> Any:
    return connect(
        url,
        subprotocols=[Subprotocol("graphql-transport-ws")],
        additional_headers={"Origin": origin}
        | ({"Cookie": f"ropa_session={cookie}"} if cookie else {}),
        open_timeout=10,
    )


async def test_the_session_acts_on_a_websocket(replica: str, browser: httpx.AsyncClient) -> None:
    await sign_in(browser, "dana")
    cookie = session_cookie(browser)
    assert cookie is not None
    async with opened(replica, cookie, REGISTRY) as ws:
        payload = await ask(ws, WEBHOOKS)
    assert "errors" not in payload, payload
    assert isinstance(payload["data"]["webhooks"], list)
    # A page of another origin cannot borrow the cookie: its handshake is refused.
    with pytest.raises(InvalidStatus, match="403"):
        async with opened(replica, cookie, "http://elsewhere.example"):
            pass
    # Without the cookie, the same socket is anonymous.
    async with opened(replica, "", REGISTRY) as ws:
        payload = await ask(ws, WEBHOOKS)
    assert payload["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def until_closed(ws: ClientConnection) -> int:
    """Read until the server closes; its close code."""
    async with asyncio.timeout(10):
        try:
            while True:
                await ws.recv()
        except ConnectionClosed as closed:
            frame = closed.rcvd
    if frame is None:
        raise AssertionError("closed without a close frame")
    return frame.code


async def test_a_stale_cookie_closes_the_websocket(replica: str) -> None:
    async with opened(replica, "not.a.signed.cookie", REGISTRY) as ws:
        await ws.send(json.dumps({"type": "connection_init"}))
        assert await until_closed(ws) == 4403
