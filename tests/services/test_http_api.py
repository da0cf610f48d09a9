"""The endpoints as plain HTTP: health, readiness, the explorer, and bad input (never a 500)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from neo4j import AsyncManagedTransaction

from graph import migrate
from graph.database import Database

pytestmark = pytest.mark.neo4j

Post = Callable[..., Awaitable[dict[str, Any]]]


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_when_migrated(example: Database, client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


# Test set-up only: forget that the last migration ran, as a database one release behind would.
_FORGET = "MATCH (m:Migration {id: $id}) DELETE m"


async def _forget(tx: AsyncManagedTransaction, migration: str) -> None:
    await tx.run(_FORGET, id=migration)


@pytest.fixture
async def migration_missing(example: Database) -> AsyncIterator[str]:
    last = migrate.available()[-1].id
    await example.write(_forget, last)
    try:
        yield last
    finally:
        await migrate.migrate(example)


async def test_readyz_with_a_migration_pending(
    migration_missing: str, client: httpx.AsyncClient
) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["pending"] == [migration_missing]


async def test_browser_get_opens_the_explorer_with_the_example_query(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<title>GraphQL explorer · ROPA registry</title>" in response.text
    assert 'category: \\"safeguarding\\"' in response.text
    assert "/console/static/vendor/graphiql.min.js" in response.text
    assert "unpkg.com" not in response.text
    script = await client.get("/console/static/vendor/graphiql.min.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]


async def test_the_icon_is_served_where_browsers_look_for_it(client: httpx.AsyncClient) -> None:
    icon = await client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"] == "image/svg+xml"
    linked = await client.get("/console/static/favicon.svg")
    assert icon.content == linked.content
    assert icon.content.startswith(b"<svg")


async def test_get_with_a_query_runs_it(example: Database, client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": '{ organisation(ref: "dfe") { id } }'})
    assert response.status_code == 200
    assert response.json() == {"data": {"organisation": {"id": "dfe"}}}


async def test_malformed_query_says_what_and_where(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ recipients(category: "})
    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert error["message"].startswith("Syntax Error")
    assert error["locations"] == [{"line": 1, "column": 24}]
    assert error["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


async def test_unknown_field_says_what_and_where(graphql: Post) -> None:
    body = await graphql("{\n  organisations { id colour }\n}")
    [error] = body["errors"]
    assert "Cannot query field 'colour' on type 'Organisation'" in error["message"]
    assert error["locations"] == [{"line": 2, "column": 22}]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


@pytest.mark.parametrize("bad", ["2022-13-01", "14/02/2022", "2022-W07-1", "20220214"])
async def test_bad_date_in_the_query_says_what_and_where(graphql: Post, bad: str) -> None:
    body = await graphql(f'{{ subProcessors(processor: "dfe", asOf: "{bad}") {{ id }} }}')
    [error] = body["errors"]
    assert "Date" in error["message"]
    assert bad in error["message"]
    assert error["locations"] == [{"line": 1, "column": 41}]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_bad_date_in_a_variable_says_what_and_where(graphql: Post) -> None:
    body = await graphql(
        'query ($day: Date) { subProcessors(processor: "dfe", asOf: $day) { id } }',
        day="next tuesday",
    )
    [error] = body["errors"]
    assert "$day" in error["message"]
    assert "next tuesday" in error["message"]
    assert error["locations"] == [{"line": 1, "column": 8}]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_missing_required_argument(graphql: Post) -> None:
    body = await graphql("{ recipients { organisation { id } } }")
    [error] = body["errors"]
    assert "recipients(category:)" in error["message"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


@pytest.mark.parametrize(
    ("content", "body"),
    [("application/json", b"{not json"), ("application/json", b'{"variables": {}}')],
    ids=["not-json", "no-query"],
)
async def test_requests_that_are_not_graphql_are_400(
    client: httpx.AsyncClient, content: str, body: bytes
) -> None:
    response = await client.post("/graphql", content=body, headers={"content-type": content})
    assert response.status_code == 400
    # Shaped as GraphQL errors are, so that clients handle both the same way.
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert error["message"] in (
        "Unable to parse request body as JSON",
        "No GraphQL query found in the request",
    )
