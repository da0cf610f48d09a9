"""Direct frames (services/registry/frames.py), through a real registry and real
graphql-transport-ws sockets: a change framed once per operation id reaches every subscriber
of the group under its own id, written straight to each socket."""

from __future__ import annotations

import json

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from graph import maintenance
from graph.database import Database
from schema.access.tokens import hash_token
from tests.services.subscriptions.conftest import MakeRegistry, Registry, wait_subscribers
from tests.services.subscriptions.test_multiplex import (
    PROCESSORS,
    TOKENS,
    Schools,
    opened,
    settled,
)
from tests.waiting import eventually

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]


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
    """A registry where each DPO reads only its own register's changes."""
    tokens = [
        {"name": f"dpo-{school}", "role": "dpo", "registers": [school], "sha256": hash_token(t)}
        for school, t in TOKENS.items()
    ]
    return registries(public_reads="none", tokens=json.dumps(tokens))


async def frames_direct(registry: Registry) -> float:
    """The registry's ropa_subscription_frames_direct_total."""
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(f"{registry.url}/metrics")
    response.raise_for_status()
    for family in text_string_to_metric_families(response.text):
        if family.name == "ropa_subscription_frames_direct":
            return sum(s.value for s in family.samples if s.name.endswith("_total"))
    raise AssertionError("the registry's /metrics has no ropa_subscription_frames_direct_total")


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
