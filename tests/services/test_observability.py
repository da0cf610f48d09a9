"""What an operator sees of the registry: /metrics by operation, Cypher round trips and the
follower; an id per request; JSON log lines naming the request, its principal and operation."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY

from graph.database import Database
from services.observability.metrics import operation_label
from tests.services.conftest import DPO_TOKEN, RegistryProcess

pytestmark = pytest.mark.neo4j

QUERY = 'query Dfe { organisation(ref: "dfe") { id name } }'


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_operations_and_round_trips_are_counted(
    example: Database, dpo_client: httpx.AsyncClient
) -> None:
    ok = {"operation": "Dfe", "type": "query", "outcome": "ok"}
    before = _sample("ropa_graphql_operations_total", **ok)
    reads = _sample("ropa_cypher_transactions_total", service="registry", kind="read")
    response = await dpo_client.post(
        "/graphql",
        json={"query": QUERY},
        headers={"authorization": f"Bearer {DPO_TOKEN}", "x-request-id": "trace-me-1"},
    )
    assert response.status_code == 200, response.text
    assert "errors" not in response.json(), response.json()
    assert response.headers["x-request-id"] == "trace-me-1"
    metrics = await dpo_client.get("/metrics")
    assert metrics.status_code == 200
    assert _sample("ropa_graphql_operations_total", **ok) == before + 1
    assert _sample("ropa_graphql_operation_seconds_count", operation="Dfe", type="query") >= 1
    assert _sample("ropa_cypher_transactions_total", service="registry", kind="read") > reads
    for name in ("ropa_subscribers", "ropa_follower_lag_seconds", "ropa_follower_position"):
        assert f"\n{name} " in metrics.text, name

    # An invalid operation counts as an error; a request id that is not a plain token is
    # replaced by one of ours.
    bad = await dpo_client.post(
        "/graphql", json={"query": "query Bad { nothing }"}, headers={"x-request-id": "a b\x7f"}
    )
    assert bad.json()["errors"]
    assert bad.headers["x-request-id"] != "a b\x7f"
    assert len(bad.headers["x-request-id"]) == 32
    assert _sample("ropa_graphql_operations_total", operation="Bad", type="query", outcome="error")


def test_operation_names_cannot_grow_the_series_without_bound() -> None:
    assert operation_label(None) == "anonymous"
    assert operation_label("not a name") == "other"
    labels = {operation_label(f"Op{i}") for i in range(1000)}
    assert len(labels) <= 201
    assert "other" in labels


def test_the_served_registry_logs_json_lines_with_the_request(
    example: Database, registry_process: RegistryProcess, tmp_path: Path
) -> None:
    from schema.access.tokens import hash_token

    tokens = [{"name": "dpo-logs", "role": "admin", "sha256": hash_token("log-token")}]
    log = tmp_path / "registry.log"
    env = {"ROPA_TOKENS": json.dumps(tokens), "ROPA_LOG_FORMAT": None, "ROPA_LOG_LEVEL": None}
    with registry_process(env, log=log) as url:
        response = httpx.post(
            f"{url}/graphql",
            json={"query": QUERY},
            headers={"authorization": "Bearer log-token", "x-request-id": "req-log-1"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert lines, log.read_text()
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    access = [line for line in lines if line.get("request_id") == "req-log-1"]
    assert access, lines
    assert access[-1]["logger"] == "uvicorn.access"
    assert access[-1]["principal"] == "dpo-logs"
    assert access[-1]["operation"] == "Dfe"
