"""The registry app through its lifespan, over httpx's ASGI transport, on the example register.

The example is applied once per test module (`example`); tests here only read, so they share
it. Modules that change the graph or the server use their own fixtures.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractContextManager
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from graph import from_document, maintenance, register
from graph.database import Database
from graph.settings import Neo4jSettings
from graph.webhook_targets import WebhookTargetSettings
from schema.access.tokens import hash_token
from schema.validation import load_document
from services.registry.app import create_app
from services.registry.settings import RegistryNeo4jSettings, RegistrySettings
from tests.support.examples import apply_school_record
from tests.support.registry_server import serve_registry

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "allestree-woodlands.yaml"

GraphQL = Callable[..., Awaitable[dict[str, Any]]]


async def load_example(db: Database) -> None:
    """A clean graph holding only the example: the school's register and the one its
    processor School Transition Limited keeps."""
    await maintenance.wipe(db)
    await apply_school_record(db)


@pytest.fixture(scope="module")
async def example(session_db: Database) -> Database:
    """The session database holding the example register, for a module of read-only tests."""
    await load_example(session_db)
    return session_db


# An admin token: the `client`, `graphql` and `data` fixtures read with it (every register);
# tests of what others may read use `as_user`.
ADMIN_TOKEN = "test-admin-token-root"
ADMIN_ENTRY = {"name": "admin-root", "role": "admin", "sha256": hash_token(ADMIN_TOKEN)}


@pytest.fixture(scope="session")
def registry_settings(neo4j_settings: Neo4jSettings) -> RegistrySettings:
    """The registry's settings for the session's Neo4j, with its own short timeouts and an
    admin token."""
    return RegistrySettings(
        env="test",
        tokens=json.dumps([ADMIN_ENTRY]),
        # What the functional tests use; tests/security checks the production defaults.
        explorer=True,
        introspection=True,
        rate_limit="",
        # test_round_trips nests far deeper than anyone should, on purpose.
        max_depth=20,
        max_cost=10_000_000,
        neo4j=RegistryNeo4jSettings(
            uri=neo4j_settings.uri,
            user=neo4j_settings.user,
            password=neo4j_settings.password,
            database=neo4j_settings.database,
        ),
    )


@pytest.fixture(scope="module")
async def app(registry_settings: RegistrySettings) -> AsyncIterator[Starlette]:
    """The app, started and stopped through its own lifespan."""
    application = create_app(registry_settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="module")
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client that calls the app in-process, with the admin token."""
    transport = httpx.ASGITransport(app=app)
    headers = {"authorization": f"Bearer {ADMIN_TOKEN}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://registry", headers=headers
    ) as http:
        yield http


@pytest.fixture(scope="module")
def graphql(client: httpx.AsyncClient) -> GraphQL:
    """POST an operation to /graphql; the parsed JSON body (HTTP 200 required)."""

    async def post(query: str, **variables: Any) -> dict[str, Any]:
        response = await client.post("/graphql", json={"query": query, "variables": variables})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    return post


@pytest.fixture(scope="module")
async def anonymous(app: Starlette) -> AsyncIterator[GraphQL]:
    """POST an operation to /graphql with no token; the parsed JSON body (HTTP 200 required)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://registry") as http:

        async def post(query: str, **variables: Any) -> dict[str, Any]:
            response = await http.post("/graphql", json={"query": query, "variables": variables})
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            return body

        yield post


@pytest.fixture(scope="module")
def data(graphql: GraphQL) -> GraphQL:
    """POST an operation that must succeed; its `data`."""

    async def post(query: str, **variables: Any) -> dict[str, Any]:
        body = await graphql(query, **variables)
        assert "errors" not in body, body["errors"]
        result: dict[str, Any] = body["data"]
        return result

    return post


# Bearer tokens for the change API (mutations, webhook administration); only hashes are given
# to the app, as in production.
DPO_TOKEN = "test-dpo-token-alice"
READER_TOKEN = "test-reader-token-bob"
# A DPO of another school only: none of the test registers is in its scope.
ELSEWHERE_DPO_TOKEN = "test-dpo-token-carol"
# Their scope: the registers of the example and of tests/fixtures/changes-register.yaml.
SCOPE = ["allestree-woodlands", "school"]


@pytest.fixture(scope="session")
def dpo_settings(registry_settings: RegistrySettings) -> RegistrySettings:
    """The registry's settings with a `dpo` and a `reader` token, webhooks to loopback allowed."""
    tokens = [
        ADMIN_ENTRY,
        {"name": "dpo-alice", "role": "dpo", "sha256": hash_token(DPO_TOKEN), "registers": SCOPE},
        {"name": "reader-bob", "role": "reader", "sha256": hash_token(READER_TOKEN)}
        | {"registers": SCOPE},
        {
            "name": "dpo-carol",
            "role": "dpo",
            "sha256": hash_token(ELSEWHERE_DPO_TOKEN),
            "registers": ["mickleover-meadows"],
        },
    ]
    return registry_settings.model_copy(
        update={
            "tokens": json.dumps(tokens),
            "webhook_targets": WebhookTargetSettings(allow_loopback=True),
        }
    )


@pytest.fixture(scope="module")
async def dpo_app(dpo_settings: RegistrySettings) -> AsyncIterator[Starlette]:
    """The app started with `dpo_settings`, through its lifespan."""
    application = create_app(dpo_settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="module")
async def dpo_client(dpo_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on `dpo_app`."""
    transport = httpx.ASGITransport(app=dpo_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://registry") as http:
        yield http


@pytest.fixture(scope="module")
def as_user(dpo_client: httpx.AsyncClient) -> Callable[[str | None], GraphQL]:
    """`as_user(token)`: POST operations with that bearer token (None: none); the JSON body."""

    def poster(token: str | None) -> GraphQL:
        headers = {} if token is None else {"authorization": f"Bearer {token}"}

        async def post(query: str, **variables: Any) -> dict[str, Any]:
            body = {"query": query, "variables": variables}
            response = await dpo_client.post("/graphql", json=body, headers=headers)
            assert response.status_code == 200, response.text
            result: dict[str, Any] = response.json()
            return result

        return post

    return poster


@pytest.fixture(scope="module")
def as_dpo(as_user: Callable[[str | None], GraphQL]) -> GraphQL:
    """POST operations as the `dpo` token; the operation must succeed: its `data`."""
    post = as_user(DPO_TOKEN)

    async def run(query: str, **variables: Any) -> dict[str, Any]:
        body = await post(query, **variables)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    return run


CHANGES_REGISTER = Path(__file__).resolve().parents[1] / "fixtures" / "changes-register.yaml"


@pytest.fixture
async def change_register(db: Database) -> Database:
    """A clean graph holding the small register of tests/fixtures/changes-register.yaml."""
    doc = load_document(CHANGES_REGISTER)
    await register.apply(db, doc.register_info.id, from_document.entities(doc), "tests")
    return db


RegistryProcess = Callable[..., AbstractContextManager[str]]


@pytest.fixture(scope="session")
def registry_process(registry_settings: RegistrySettings) -> RegistryProcess:
    """`serve_registry` on the session's Neo4j: `registry_process(extra_env, log=None)` runs
    `ropa serve registry` in a child process and yields its URL (see tests/support)."""
    return partial(serve_registry, registry_settings.neo4j)
