"""The registry as it is deployed: `ropa serve registry` in its own process, over real HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from graph.database import Database
from graph.neo4j_server import free_port
from services.registry.settings import RegistrySettings

pytestmark = pytest.mark.neo4j


@pytest.fixture(scope="module")
def server(example: Database, registry_settings: RegistrySettings) -> Iterator[str]:
    """The base URL of a registry served by uvicorn in a child process."""
    port = free_port()
    neo4j = registry_settings.neo4j
    env = {
        **os.environ,
        "NEO4J_URI": neo4j.uri,
        "NEO4J_USER": neo4j.user,
        "NEO4J_PASSWORD": neo4j.password.get_secret_value(),
        "NEO4J_DATABASE": neo4j.database,
        "ROPA_ENV": "test",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "serve", "registry", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise AssertionError(process.stderr.read().decode() if process.stderr else "")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("the registry did not answer within 60 s")
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr:
            process.stderr.close()


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
