"""Multiplexed subscriptions (services/registry/multiplex.py), through a real registry and real
graphql-transport-ws sockets: subscribers whose scopes differ never receive each other's
frames; every subscriber of one group gets each change once, under its own operation id, the
frame built once per id and written straight to each socket (services/registry/frames.py); and
none misses a change while others come and go."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

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
    metric_samples,
    wait_subscribers,
)
from tests.waiting import eventually

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]

# What a portal's live view asks: the same document, no variables, for everyone.
LIVE = "subscription { subProcessorChanges { id sequence processor { id } } }"
TOKENS = {"school-a": "a-dpo-token-of-school-a", "school-b": "a-dpo-token-of-school-b"}
PROCESSORS = {"school-a": ("portal-co", "hosting-co"), "school-b": ("other-co", "mail-co")}


class Schools:
    """Two registers, each declaring one processor's engagement of a sub-processor."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.revision = 0

    async def change(self, school: str) -> None:
        """One CHANGED sub-processor change in `school`'s register."""
        self.revision += 1
        processor, sub = PROCESSORS[school]
        document = {
            "version": "ropa/v1",
            "register": {"id": school, "name": school.title(), "owner": school},
            "organisations": [
                {"id": o, "name": o.replace("-", " ").title(), "kind": "company"}
                for o in (school, processor, sub)
            ],
            "data_categories": [{"id": "pupil-data", "name": "Pupil data"}],
            "engagements": [
                {
                    "id": f"{processor}-engagement",
                    "processor": processor,
                    "sub_processor": sub,
                    "purpose": f"Hosting, revision {self.revision}",
                    "data_categories": ["pupil-data"],
                    "since": "2022-02-14",
                }
            ],
        }
        doc = parse_document(json.dumps(document))
        await register.apply(self.db, school, from_document.entities(doc), "tests")

    async def sequences(self, after: int = 0) -> list[int]:
        """The sequences of every recorded change after `after`."""
        return [c.sequence for c in await self.db.read(spc.changes_after, after, None, 500)]


@pytest.fixture(scope="module")
async def schools(session_db: Database) -> Schools:
    """A clean graph holding both registers."""
    await maintenance.wipe(session_db)
    made = Schools(session_db)
    for school in PROCESSORS:
        await made.change(school)
    return made


@pytest.fixture(scope="module")
def registry(schools: Schools, registries: MakeRegistry) -> Registry:
    """A registry where nothing is public: each DPO reads only its own register's changes."""
    tokens = [
        {"name": f"dpo-{school}", "role": "dpo", "registers": [school], "sha256": hash_token(t)}
        for school, t in TOKENS.items()
    ]
    return registries(public_reads="none", tokens=json.dumps(tokens))


class Socket:
    """One graphql-transport-ws connection; what it receives, by operation id."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
        self.other: list[dict[str, Any]] = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for text in self.ws:
            message = json.loads(text)
            if message.get("type") == "next":
                self.frames[message["id"]].append(message["payload"])
            else:
                self.other.append(message)

    async def subscribe(self, operation_id: str, query: str = LIVE) -> None:
        """Start a subscription under `operation_id`."""
        payload = {"query": query}
        await self.ws.send(
            json.dumps({"id": operation_id, "type": "subscribe", "payload": payload})
        )

    async def complete(self, operation_id: str) -> None:
        """Stop the subscription `operation_id`."""
        await self.ws.send(json.dumps({"id": operation_id, "type": "complete"}))

    def received(self, operation_id: str) -> list[int]:
        """The sequences of the changes `operation_id` received so far."""
        payloads = self.frames[operation_id]
        return [p["data"]["subProcessorChanges"]["sequence"] for p in payloads if p["data"]]

    def sequences(self, operation_id: str) -> list[int]:
        """The sequences `operation_id` received, in order; its errors fail the test."""
        payloads = self.frames[operation_id]
        errors = [p["errors"] for p in payloads if "errors" in p]
        assert not errors, errors
        return [p["data"]["subProcessorChanges"]["sequence"] for p in payloads]

    async def close(self) -> None:
        """Close the socket and stop reading."""
        await self.ws.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._reader


@contextlib.asynccontextmanager
async def opened(registry: Registry, school: str | None = None) -> AsyncIterator[Socket]:
    """A connection acknowledged with `school`'s DPO token (anonymous without one)."""
    async with connect(registry.ws, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        init: dict[str, Any] = {"type": "connection_init"}
        if school is not None:
            init["payload"] = {"Authorization": f"Bearer {TOKENS[school]}"}
        await ws.send(json.dumps(init))
        async with asyncio.timeout(30):
            assert json.loads(await ws.recv()) == {"type": "connection_ack"}
        socket = Socket(ws)
        try:
            yield socket
        finally:
            await socket.close()


async def settled(schools: Schools, school: str, sockets: list[tuple[Socket, str]]) -> int:
    """Commit changes in `school` until each (socket, operation id) has received one: then
    every one of them is a member of its group. The sequence reached."""
    for _ in range(10):
        await schools.change(school)
        head = (await schools.sequences())[-1]
        with contextlib.suppress(AssertionError):
            await eventually(
                lambda h=head: all(h in s.received(op) for s, op in sockets), within=3.0
            )
            return head
    raise AssertionError("the subscribers never all received a change")


async def received_exactly(
    members: list[tuple[Socket, str]], head: int, recorded: list[int]
) -> None:
    """Wait until each (socket, operation id) has the last of `recorded`, then require that it
    received exactly `recorded` after `head`, in order."""
    for socket, operation_id in members:
        await eventually(
            lambda s=socket, o=operation_id: s.received(o)[-1:] == recorded[-1:],
            message=f"{operation_id} to receive the last change",
        )
        got = socket.sequences(operation_id)
        assert got[got.index(head) + 1 :] == recorded, (operation_id, got)


async def test_subscribers_of_different_scopes_never_receive_each_others_frames(
    schools: Schools, registry: Registry
) -> None:
    before = await live_subscribers(registry.ws)
    async with opened(registry, "school-a") as a, opened(registry, "school-b") as b:
        await a.subscribe("1")
        await b.subscribe("1")
        # The same document and variables, but other scopes: two groups, two executions.
        await wait_subscribers(registry.ws, lambda n: n == before + 2, "to register 2 groups")
        start = (await schools.sequences())[-1]
        for school in ("school-a", "school-b", "school-a", "school-b", "school-a"):
            await schools.change(school)
        recorded = await schools.sequences(after=start)
        a_changes, b_changes = recorded[0::2], recorded[1::2]
        await eventually(lambda: a.received("1") == a_changes, message="school-a's changes")
        await eventually(lambda: b.received("1") == b_changes, message="school-b's changes")
        # The last change is school-a's: had school-b's frames reached it, they would be here.
        assert a.sequences("1") == a_changes
        assert b.sequences("1") == b_changes
        processors = {p["data"]["subProcessorChanges"]["processor"]["id"] for p in a.frames["1"]}
        assert processors == {"portal-co"}


async def test_every_subscriber_of_a_group_gets_each_change_once_under_its_own_id(
    schools: Schools, registry: Registry
) -> None:
    before = await live_subscribers(registry.ws)
    opening = (opened(registry, "school-a") for _ in range(3))
    async with next(opening) as one, next(opening) as two, next(opening) as three:
        # Two operations on one socket, one on each of two others: one group of four.
        members = [(one, "x"), (one, "y"), (two, "1"), (three, "only")]
        for socket, operation_id in members:
            await socket.subscribe(operation_id)
        await wait_subscribers(registry.ws, lambda n: n >= before + 1, "to register the group")
        head = await settled(schools, "school-a", members)
        assert await live_subscribers(registry.ws) == before + 1
        for _ in range(6):
            await schools.change("school-a")
        recorded = await schools.sequences(after=head)
        await received_exactly(members, head, recorded)
        for socket, operation_id in members:
            got = socket.sequences(operation_id)
            assert len(got) == len(set(got)), f"{operation_id} received a change twice: {got}"
            assert not socket.other, socket.other
        # Each socket received only its own operations' frames.
        assert set(one.frames) == {"x", "y"}
        assert set(two.frames) == {"1"}
        assert set(three.frames) == {"only"}


async def test_nothing_is_missed_while_other_subscribers_come_and_go(
    schools: Schools, registry: Registry
) -> None:
    async with opened(registry, "school-a") as steady, opened(registry, "school-a") as passing:
        members = [(steady, str(n)) for n in range(10)]
        for socket, operation_id in members:
            await socket.subscribe(operation_id)
        head = await settled(schools, "school-a", members)
        for n in range(12):
            # Members join and leave the group between the changes and while they are sent.
            await passing.subscribe(f"p{n}")
            if n:
                await passing.complete(f"p{n - 1}")
            await schools.change("school-a")
        recorded = await schools.sequences(after=head)
        await received_exactly(members, head, recorded)
        for sequences in (passing.sequences(f"p{n}") for n in range(12)):
            assert sequences == sorted(set(sequences))


async def frames_direct(registry: Registry) -> float:
    """The registry's ropa_subscription_frames_direct_total."""
    samples = await metric_samples(registry.ws, "ropa_subscription_frames_direct")
    return sum(s.value for s in samples if s.name.endswith("_total"))


async def test_a_message_framed_once_reaches_every_socket_under_its_own_id(
    schools: Schools, registry: Registry
) -> None:
    opening = (opened(registry, "school-a") for _ in range(3))
    async with next(opening) as one, next(opening) as two, next(opening) as three:
        # Three sockets under "1" (one frame for them all), one under "7" (a frame of its own).
        members = [(one, "1"), (two, "1"), (three, "1"), (three, "7")]
        for socket, operation_id in members:
            await socket.subscribe(operation_id)
        await wait_subscribers(registry.ws, lambda n: n >= 1, "to register the group")
        await settled(schools, "school-a", members)
        before = await frames_direct(registry)
        await schools.change("school-a")
        head = (await schools.sequences())[-1]
        await eventually(
            lambda: all(head in s.received(o) for s, o in members),
            message="every subscriber to receive the change",
        )
        payloads = [s.frames[o][-1] for s, o in members]
        assert all(p == payloads[0] for p in payloads), payloads
        assert payloads[0]["data"]["subProcessorChanges"]["sequence"] == head
        for socket, _ in members:
            assert not socket.other, socket.other
        assert set(one.frames) == set(two.frames) == {"1"}
        assert set(three.frames) == {"1", "7"}
        # Every one of the four went straight to its socket.
        assert await frames_direct(registry) - before >= len(members)
