"""Subscription requests are limited per client address as every other limit counts it: behind a
trusted proxy (ROPA_TRUSTED_PROXIES) the address it forwarded, else the connection's, whatever
X-Forwarded-For a client sends; and per e-mail address."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from graph.database import Database
from services.registry.app import create_app
from services.registry.settings import RegistrySettings

pytestmark = pytest.mark.neo4j

SUBSCRIBE = (
    'mutation ($e: String!) { subscribeByEmail(processor: "portal-co", email: $e) '
    "{ status errors { message } } }"
)
Post = Callable[[str, str], Any]


@asynccontextmanager
async def _registry(settings: RegistrySettings, **update: Any) -> AsyncIterator[Post]:
    """A registry with subscriptions on (2 per client, 2 per address an hour); `post(email,
    forwarded_for)` asks for a subscription over GraphQL, from 127.0.0.1 (the ASGI client)."""
    changed = settings.model_copy(
        update={
            "secret_key": SecretStr("rate-limit-test-secret-0123456789abc"),
            "subscribe_per_client": 2,
            "subscribe_per_address": 2,
            **update,
        }
    )
    app = create_app(changed)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://registry") as http:

            async def post(email: str, forwarded_for: str) -> Any:
                response = await http.post(
                    "/graphql",
                    json={"query": SUBSCRIBE, "variables": {"e": email}},
                    headers={"x-forwarded-for": forwarded_for},
                )
                body = response.json()
                errors = body.get("errors") or []
                return errors[0]["extensions"]["code"] if errors else "ok"

            yield post


async def test_behind_a_trusted_proxy_each_forwarded_address_has_its_limit(
    portal_register: Database, dpo_settings: RegistrySettings
) -> None:
    async with _registry(dpo_settings, trusted_proxies="127.0.0.1") as post:
        assert await post("a1@school.example", "203.0.113.1") == "ok"
        assert await post("a2@school.example", "203.0.113.1") == "ok"
        assert await post("a3@school.example", "203.0.113.1") == "RATE_LIMITED"
        # Another client behind the same proxy is not held back by the first.
        assert await post("b1@school.example", "203.0.113.2") == "ok"


async def test_without_a_trusted_proxy_the_header_is_ignored(
    portal_register: Database, dpo_settings: RegistrySettings
) -> None:
    async with _registry(dpo_settings) as post:
        assert await post("a1@school.example", "203.0.113.1") == "ok"
        assert await post("a2@school.example", "203.0.113.2") == "ok"
        # A client cannot buy a new limit by inventing an address: both counted as 127.0.0.1.
        assert await post("a3@school.example", "203.0.113.3") == "RATE_LIMITED"


async def test_each_email_address_has_its_limit_whatever_the_client(
    portal_register: Database, dpo_settings: RegistrySettings
) -> None:
    async with _registry(dpo_settings, trusted_proxies="127.0.0.1") as post:
        # Asked again for the same address (the answer: already pending), from other clients.
        assert await post("office@school.example", "203.0.113.1") == "ok"
        assert await post("office@school.example", "203.0.113.2") == "ok"
        assert await post("Office@School.example", "203.0.113.3") == "RATE_LIMITED"
