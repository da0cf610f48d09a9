"""A controller hears of changes to the sub-processors engaged for its own processing, whatever
ROPA_PUBLIC_READS says (schema.access.policy, ReadScope.reads_engagement): with `none`, when
School Transition Limited changes, in its own register, an engagement serving the school's
post-16 transfer, a token scoped to the school's register alone gets the change in the
subscription, the change log and STL's Atom feed (without the actor, a person at STL); another
school's token gets none of it. Through a registry served by uvicorn and real
graphql-transport-ws sockets."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from graph import from_document, maintenance, register
from graph import subprocessor_changes as spc
from graph.database import Database
from schema.access.tokens import hash_token
from schema.validation import parse_document
from tests.services.subscriptions.conftest import (
    MakeRegistry,
    Registry,
    live_subscribers,
    wait_subscribers,
)
from tests.waiting import eventually

pytestmark = pytest.mark.neo4j

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
SCHOOL, STL, OTHER = "allestree-woodlands", "school-transition-limited", "mickleover-meadows"
APPLIED = dt.datetime(2024, 1, 1, 9, tzinfo=dt.UTC)
TOKENS = {"school": "reader-token-of-the-school", "other": "reader-token-of-another-school"}
SCOPES = {"school": SCHOOL, "other": OTHER}
LIVE = (
    "subscription { subProcessorChanges { id sequence type actor processor { id } "
    "subProcessor { id } } }"
)
CHANGES = "{ changes(first: 500) { id type actor processor { id } subProcessor { id } } }"
ATOM = "{http://www.w3.org/2005/Atom}"
# The engagement STL declares in its own register for the school's post-16 transfer.
STL_PURPOSE = "  purpose: Further processing to enhance the transition support offered to schools"
OTHER_PURPOSE = "    purpose: Delivery of text messages to parents and carers"


async def _apply(db: Database, name: str, old: str = "", new: str = "") -> None:
    text = (EXAMPLES / f"{name}.yaml").read_text()
    if old:
        assert old in text, old
        text = text.replace(old, new, 1)
    entities = from_document.entities(parse_document(text))
    await register.apply(db, name, entities, "cli", occurred_at=APPLIED if not old else None)


@pytest.fixture(scope="module")
async def registers(session_db: Database) -> Database:
    """The school's, STL's and another school's registers."""
    await maintenance.wipe(session_db)
    for name in (SCHOOL, STL, OTHER):
        await _apply(session_db, name)
    return session_db


@pytest.fixture(scope="module")
def registry(registers: Database, registries: MakeRegistry) -> Registry:
    """A registry publishing nothing, with a reader token for each school's register alone."""
    tokens = [
        {"name": who, "role": "reader", "registers": [SCOPES[who]], "sha256": hash_token(t)}
        for who, t in TOKENS.items()
    ]
    return registries(public_reads="none", tokens=json.dumps(tokens))


class Socket:
    """One graphql-transport-ws connection with one subscription; the changes it received."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.changes: list[dict[str, Any]] = []
        self.errors: list[Any] = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for text in self.ws:
            message = json.loads(text)
            if message.get("type") == "next" and "errors" not in message["payload"]:
                self.changes.append(message["payload"]["data"]["subProcessorChanges"])
            elif message.get("type") in ("next", "error"):
                self.errors.append(message["payload"])

    def engaged(self) -> list[tuple[str, str]]:
        """(processor, sub-processor) of each change received, in order."""
        assert not self.errors, self.errors
        return [(c["processor"]["id"], c["subProcessor"]["id"]) for c in self.changes]


@pytest.fixture
async def sockets(registry: Registry) -> AsyncIterator[dict[str, Socket]]:
    """Each token's connection, subscribed to every change (as it may read them)."""
    before = await live_subscribers(registry.ws)
    opened: dict[str, Socket] = {}
    try:
        for who, token in TOKENS.items():
            ws = await connect(registry.ws, subprotocols=[Subprotocol("graphql-transport-ws")])
            init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
            await ws.send(json.dumps(init))
            async with asyncio.timeout(30):
                assert json.loads(await ws.recv()) == {"type": "connection_ack"}
            opened[who] = Socket(ws)
            subscribe = {"id": "1", "type": "subscribe", "payload": {"query": LIVE}}
            await ws.send(json.dumps(subscribe))
        # Two scopes: two groups, each a follower subscriber from now on.
        await wait_subscribers(registry.ws, lambda n: n >= before + 2, "to register 2 groups")
        yield opened
    finally:
        for socket in opened.values():
            await socket.ws.close()
            socket._reader.cancel()


async def _read(registry: Registry, who: str, query: str) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {TOKENS[who]}"}
    async with httpx.AsyncClient(base_url=registry.url, headers=headers, timeout=30) as http:
        response = await http.post("/graphql", json={"query": query})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


async def _feed(registry: Registry, who: str) -> list[ET.Element]:
    headers = {"authorization": f"Bearer {TOKENS[who]}"}
    async with httpx.AsyncClient(base_url=registry.url, headers=headers, timeout=30) as http:
        response = await http.get(f"/feeds/subprocessors/{STL}.atom")
    assert response.status_code == 200, response.text
    return ET.fromstring(response.content).findall(f"{ATOM}entry")


async def test_the_school_hears_of_stl_changing_an_engagement_serving_it(
    registers: Database, registry: Registry, sockets: dict[str, Socket]
) -> None:
    await _apply(registers, STL, STL_PURPOSE, STL_PURPOSE + ", revised")
    (stl_change,) = (await registers.read(spc.changes_after, 0, STL, 500))[-1:]
    assert (stl_change.type, stl_change.sub_processor) == ("CHANGED", "link-ict")
    # Then a change of the other school's own engagement: it arrives after STL's, in order.
    await _apply(registers, OTHER, OTHER_PURPOSE, OTHER_PURPOSE + ", revised")
    school, other = sockets["school"], sockets["other"]

    await eventually(lambda: (STL, "link-ict") in school.engaged(), message="STL's change")
    (heard,) = [c for c in school.changes if c["id"] == stl_change.id]
    assert (heard["type"], heard["actor"]) == ("CHANGED", None)  # the actor is STL's person
    await eventually(lambda: other.changes != [], message="the other school's own change")
    assert other.engaged() == [("meadows-messaging", "cloud-sms-gateway")]

    # The change log: the school reads STL's engagement changes serving it (their additions
    # too); the other school reads only its own register's.
    logged = (await _read(registry, "school", CHANGES))["changes"]
    assert stl_change.id in {c["id"] for c in logged}
    assert {c["subProcessor"]["id"] for c in logged if c["processor"]["id"] == STL} == {
        "link-ict",
        "derby-city-council",
        "school-development-support-agency",
    }
    assert all(c["actor"] is None for c in logged if c["processor"]["id"] == STL)
    theirs = (await _read(registry, "other", CHANGES))["changes"]
    assert theirs, "the other school's own changes"
    assert all(c["processor"]["id"] != STL for c in theirs), theirs

    # STL's Atom feed: the school's token reads the change; the other school's, nothing.
    entries = await _feed(registry, "school")
    assert any(stl_change.id in (e.findtext(f"{ATOM}id") or "") for e in entries)
    assert await _feed(registry, "other") == []
