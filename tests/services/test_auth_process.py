"""The change API as deployed: `ropa serve registry` with its tokens in a file (as the Helm
chart mounts them), a mutation and the Atom feed over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import feedparser
import httpx
import pytest

from graph.database import Database
from schema.access.tokens import hash_token

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]

TOKEN = "process-test-dpo-token"


@pytest.fixture
def server(
    change_register: Database,
    registry_process: Callable[[dict[str, str | None]], AbstractContextManager[str]],
    tmp_path: Path,
) -> Iterator[str]:
    """The base URL of a registry served by uvicorn in a child process, tokens from a file."""
    tokens = tmp_path / "tokens.json"
    tokens.write_text(
        json.dumps(
            [
                {
                    "name": "dpo-file",
                    "role": "dpo",
                    "sha256": hash_token(TOKEN),
                    "registers": ["school"],
                }
            ]
        )
    )
    with registry_process({"ROPA_TOKENS_FILE": str(tokens), "ROPA_TOKENS": None}) as url:
        yield url


END = 'mutation { endEngagement(id: "portal-hosting", until: "2025-08-31") { errors { field } } }'


def test_a_mutation_and_the_feed_over_http(server: str) -> None:
    with httpx.Client(base_url=server, timeout=10) as http:
        refused = http.post("/graphql", json={"query": END}).json()
        assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        done = http.post(
            "/graphql", json={"query": END}, headers={"Authorization": f"Bearer {TOKEN}"}
        ).json()
        assert done == {"data": {"endEngagement": {"errors": []}}}
        path = "/feeds/subprocessors/Portal%20Co%20Ltd.atom"
        public = http.get(path)
        feed = http.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
    assert feed.status_code == 200
    parsed = feedparser.parse(feed.content)
    assert not parsed.bozo
    assert [e.author for e in parsed.entries] == ["dpo-file", "tests"]
    # The list is public; who changed it is not.
    assert [e.author for e in feedparser.parse(public.content).entries] == ["(withheld)"] * 2
