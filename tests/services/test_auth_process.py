"""The change API as deployed: `ropa serve registry` with its tokens in a file (as the Helm
chart mounts them), a mutation and the Atom feed over real HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import feedparser
import httpx
import pytest

from graph.database import Database
from graph.neo4j_server import free_port
from schema.tokens import hash_token
from services.registry.settings import RegistrySettings

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]

TOKEN = "process-test-dpo-token"


@pytest.fixture
def server(
    change_register: Database, registry_settings: RegistrySettings, tmp_path: Path
) -> Iterator[str]:
    """The base URL of a registry served by uvicorn in a child process, tokens from a file."""
    tokens = tmp_path / "tokens.json"
    tokens.write_text(
        json.dumps([{"name": "dpo-file", "role": "dpo", "sha256": hash_token(TOKEN)}])
    )
    port = free_port()
    neo4j = registry_settings.neo4j
    env = {
        **os.environ,
        "NEO4J_URI": neo4j.uri,
        "NEO4J_USER": neo4j.user,
        "NEO4J_PASSWORD": neo4j.password.get_secret_value(),
        "NEO4J_DATABASE": neo4j.database,
        "ROPA_ENV": "test",
        "ROPA_TOKENS_FILE": str(tokens),
    }
    env.pop("ROPA_TOKENS", None)
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
        if process.stderr is not None:
            process.stderr.close()


END = 'mutation { endEngagement(id: "portal-hosting", until: "2025-08-31") { errors { field } } }'


def test_a_mutation_and_the_feed_over_http(server: str) -> None:
    with httpx.Client(base_url=server, timeout=10) as http:
        refused = http.post("/graphql", json={"query": END}).json()
        assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        done = http.post(
            "/graphql", json={"query": END}, headers={"Authorization": f"Bearer {TOKEN}"}
        ).json()
        assert done == {"data": {"endEngagement": {"errors": []}}}
        feed = http.get("/feeds/subprocessors/Portal%20Co%20Ltd.atom")
    assert feed.status_code == 200
    parsed = feedparser.parse(feed.content)
    assert not parsed.bozo
    assert [e.author for e in parsed.entries] == ["dpo-file", "tests"]
