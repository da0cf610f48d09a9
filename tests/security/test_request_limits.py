"""Rate limits by principal, trusted proxies, security headers, production defaults and the
result-size cap, on the app in-process (the attacks over real HTTP are test_http_attacks.py)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest

from graph.database import Database
from graph.settings import Neo4jSettings
from services.registry.app import create_app
from services.registry.settings import RegistryNeo4jSettings, RegistrySettings

pytestmark = pytest.mark.neo4j

TOKEN = "request-limits-token"
OTHER = "request-limits-other-token"
TYPENAME = {"query": "{ __typename }"}

App = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def registry(example: Database, neo4j_settings: Neo4jSettings) -> App:
    """`async with registry(**settings) as client:` an app with those settings, in-process."""

    @asynccontextmanager
    async def run(
        client: tuple[str, int] = ("127.0.0.1", 40000), **settings: Any
    ) -> AsyncIterator[httpx.AsyncClient]:
        tokens = [
            {
                "name": name,
                "role": "reader",
                "sha256": hashlib.sha256(token.encode()).hexdigest(),
                "registers": ["allestree-woodlands"],
            }
            for name, token in (("one", TOKEN), ("two", OTHER))
        ]
        settings.setdefault("env", "production")
        app = create_app(
            RegistrySettings(
                tokens=json.dumps(tokens),
                neo4j=RegistryNeo4jSettings(
                    uri=neo4j_settings.uri,
                    user=neo4j_settings.user,
                    password=neo4j_settings.password,
                    database=neo4j_settings.database,
                ),
                **settings,
            )
        )
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=client)
            async with httpx.AsyncClient(transport=transport, base_url="http://r") as http:
                yield http

    return run


async def test_past_the_rate_limit_an_address_gets_429_with_retry_after(registry: App) -> None:
    async with registry(rate_limit="5/minute") as client:
        answers = [await client.post("/graphql", json=TYPENAME) for _ in range(5)]
        assert [a.status_code for a in answers] == [200] * 5
        refused = await client.post("/graphql", json=TYPENAME)
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        error = refused.json()["errors"][0]
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert "5 per 1 minute" in error["message"]
        # Probes are never limited.
        assert (await client.get("/healthz")).status_code == 200


async def test_each_principal_has_its_own_limit_and_invented_tokens_count_as_the_address(
    registry: App,
) -> None:
    async with registry(rate_limit="3/minute") as client:

        async def status(token: str | None) -> int:
            headers = {"authorization": f"Bearer {token}"} if token else {}
            return (await client.post("/graphql", json=TYPENAME, headers=headers)).status_code

        assert [await status(TOKEN) for _ in range(4)] == [200, 200, 200, 429]
        assert [await status(OTHER) for _ in range(3)] == [200, 200, 200]
        assert [await status(None) for _ in range(3)] == [200, 200, 200]
        # An unknown token is the anonymous address's, whose limit is spent.
        assert await status("made-up") == 429


async def test_forwarded_addresses_are_believed_only_from_trusted_proxies(registry: App) -> None:
    def spoofed(n: int) -> dict[str, str]:
        return {"x-forwarded-for": f"198.51.100.{n}"}

    async with registry(rate_limit="2/minute") as client:
        codes = [
            (await client.post("/graphql", json=TYPENAME, headers=spoofed(n))).status_code
            for n in range(3)
        ]
        assert codes == [200, 200, 429]  # one address however it says it is forwarded
    async with registry(rate_limit="2/minute", trusted_proxies="127.0.0.0/8") as client:
        codes = [
            (await client.post("/graphql", json=TYPENAME, headers=spoofed(n))).status_code
            for n in range(3)
        ]
        assert codes == [200, 200, 200]  # the proxy's word for three clients


async def test_html_pages_carry_the_security_headers_and_hsts_only_over_tls(
    registry: App,
) -> None:
    async with registry(explorer=True, trusted_proxies="127.0.0.1") as client:
        page = await client.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 200
        csp = page.headers["content-security-policy"]
        assert "script-src 'self';" in csp
        assert "frame-ancestors 'none'" in csp
        assert "unsafe-eval" not in csp
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert page.headers["x-frame-options"] == "DENY"
        assert "strict-transport-security" not in page.headers
        over_tls = await client.get(
            "/graphql", headers={"accept": "text/html", "x-forwarded-proto": "https"}
        )
        assert over_tls.headers["strict-transport-security"].startswith("max-age=31536000")
        json_answer = await client.post("/graphql", json=TYPENAME)
        assert json_answer.headers["x-content-type-options"] == "nosniff"
        assert "content-security-policy" not in json_answer.headers


async def test_production_defaults_and_their_switches(registry: App) -> None:
    introspect = {"query": "{ __schema { queryType { name } } }"}
    async with registry() as client:
        assert (await client.get("/graphql", headers={"accept": "text/html"})).status_code == 404
        assert (await client.post("/graphql", json=introspect)).json()["data"] is None
    async with registry(introspection=True, explorer=True) as client:
        assert (await client.get("/graphql", headers={"accept": "text/html"})).status_code == 200
        answer = (await client.post("/graphql", json=introspect)).json()
        assert answer["data"] == {"__schema": {"queryType": {"name": "Query"}}}
        typo = (await client.post("/graphql", json={"query": "{ organisatio { name } }"})).json()
        assert "Did you mean" in typo["errors"][0]["message"]
    async with registry(env="development") as client:
        assert (await client.get("/graphql", headers={"accept": "text/html"})).status_code == 200


async def test_a_result_over_the_size_cap_is_replaced_by_the_error(registry: App) -> None:
    query = {
        "query": '{ subProcessors(processor: "School Transition Limited", asOf: "2022-06-01") '
        "{ id purpose } }"
    }
    async with registry(max_result_values=3, rate_limit="") as client:
        # Asked three times: executed, then kept by the response cache, then from it; the
        # size is checked before the cache keeps an answer, so none of them is.
        bodies = [(await client.post("/graphql", json=query)).json() for _ in range(3)]
    for body in bodies:
        assert body["data"] is None
        error = body["errors"][0]
        assert error["extensions"]["code"] == "OPERATION_TOO_COMPLEX"
        assert error["message"].startswith("operation too complex: result size (values) ")
        assert error["message"].endswith("(limit 3)")


async def test_every_limit_is_a_setting(registry: App) -> None:
    async with registry(max_depth=2, max_aliases=1, max_tokens=10, max_body_bytes=1000) as client:

        async def message(query: str) -> str:
            answer = (await client.post("/graphql", json={"query": query})).json()
            return str(answer["errors"][0]["message"])

        assert "depth 3 (limit 2)" in await message("{ dataCategories { parent { name } } }")
        assert "aliases 2 (limit 1)" in await message("{ a: __typename b: __typename }")
        assert "tokens more than 10" in await message("{ " + "__typename " * 20 + "}")
        big = await client.post("/graphql", json={"query": "{ __typename }", "x": "y" * 2000})
        assert big.status_code == 413
        error = big.json()["errors"][0]
        assert error["extensions"]["code"] == "REQUEST_TOO_LARGE"
        assert error["message"] == "request body is larger than the limit of 1000 bytes"
