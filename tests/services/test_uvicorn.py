"""The registry as it is deployed: `ropa serve registry` in its own process, over real HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import httpx
import pytest

from graph.database import Database

pytestmark = pytest.mark.neo4j


@pytest.fixture(scope="module")
def server(
    example: Database,
    registry_process: Callable[[dict[str, str | None]], AbstractContextManager[str]],
) -> Iterator[str]:
    """The base URL of a registry served by uvicorn in a child process."""
    # Read without a token: every register's record, as a published one.
    with registry_process({"ROPA_PUBLIC_READS": "all"}) as url:
        yield url


def test_ready_and_answers_over_http(server: str) -> None:
    assert httpx.get(f"{server}/readyz").json() == {"status": "ready"}
    response = httpx.post(
        f"{server}/graphql",
        json={
            "query": 'query ($d: Date) { recipients(category: "safeguarding", asOf: $d, '
            "transitive: false) { organisation { name } } }",
            "variables": {"d": "2022-06-01"},
        },
        timeout=30,
    )
    assert response.status_code == 200
    names = [r["organisation"]["name"] for r in response.json()["data"]["recipients"]]
    assert "Derbyshire Constabulary" in names
    assert "School Transition Limited" in names


def test_explorer_over_http(server: str) -> None:
    page = httpx.get(f"{server}/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "WhoReceivesSafeguardingData" in page.text
