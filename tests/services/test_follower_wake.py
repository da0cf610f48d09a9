"""A change committed through this registry reaches its own subscribers at once, not at the
follower's next poll (other replicas, which did not commit it, poll as before)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from graph.database import Database
from services.registry.app import create_app
from services.registry.follower import ChangeFollower
from services.registry.settings import RegistrySettings
from tests.services.conftest import DPO_TOKEN

pytestmark = pytest.mark.neo4j

POLL = 60.0
ENGAGE = """
mutation ($input: EngageSubProcessorInput!) {
  engageSubProcessor(input: $input) { engagement { id } errors { field message } }
}
"""


@pytest.fixture
async def slow_app(dpo_settings: RegistrySettings) -> AsyncIterator[Starlette]:
    """A registry whose follower would poll only once a minute."""
    application = create_app(dpo_settings.model_copy(update={"follower_poll_interval": POLL}))
    async with application.router.lifespan_context(application):
        yield application


async def test_a_committed_change_wakes_the_follower(
    change_register: Database, slow_app: Starlette
) -> None:
    follower: ChangeFollower = slow_app.state.changes
    assert await follower.wait_ready(10)
    transport = httpx.ASGITransport(app=slow_app)
    headers = {"authorization": f"Bearer {DPO_TOKEN}"}
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://registry") as http,
        follower.live(None) as subscriber,
    ):
        variables = {
            "input": {
                "processor": "portal co ltd",
                "subProcessor": "Mail Co Ltd",
                "purpose": "Sending e-mail",
                "categories": ["Contact details"],
                "since": "2024-09-01",
            }
        }
        response = await http.post(
            "/graphql", json={"query": ENGAGE, "variables": variables}, headers=headers
        )
        body = response.json()
        assert body.get("data"), body
        assert body["data"]["engageSubProcessor"]["errors"] == []
        committed = time.monotonic()
        async with asyncio.timeout(POLL / 2):
            change = await subscriber.next()
    assert change is not None
    assert change.after is not None
    assert change.after.get("subProcessor") == "mail-co"
    assert time.monotonic() - committed < POLL / 2
