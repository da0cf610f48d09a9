"""What an operator sees of the registry: /metrics by operation, Cypher round trips and the
follower; an id per request; JSON log lines naming the request, its principal and operation."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families

from graph.database import Database
from graph.neo4j_server import free_port
from services.observability.metrics import operation_label
from services.registry.settings import RegistrySettings
from tests.services.conftest import DPO_TOKEN, RegistryProcess
from tests.waiting import eventually

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


def _counted_by(shared: Path, operation: str) -> set[str]:
    """The workers (their counter files) that have counted an operation named `operation`."""
    counted = set()
    for path in shared.glob("counter_*.db"):
        for key, value, _, _ in MmapedDict.read_all_values_from_file(str(path)):  # type: ignore[no-untyped-call]
            if value and f'"operation": "{operation}"' in key:
                counted.add(path.name)
    return counted


async def test_metrics_of_two_workers_are_summed(
    example: Database, registry_settings: RegistrySettings, tmp_path: Path
) -> None:
    # `ropa serve --workers 2`: each request goes to either worker; whichever answers /metrics
    # counts both workers' operations.
    shared = tmp_path / "metrics"
    port = free_port()
    env = {
        **os.environ,
        **registry_settings.neo4j.environment(),
        "ROPA_ENV": "test",
        "ROPA_RATE_LIMIT": "",
        "PROMETHEUS_MULTIPROC_DIR": str(shared),
    }
    command = ["-m", "services.cli", "serve", "registry", "--port", str(port), "--workers", "2"]
    log = (tmp_path / "registry.log").open("wb")
    process = await asyncio.create_subprocess_exec(sys.executable, *command, env=env, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:

            async def ready() -> bool:
                assert process.returncode is None, (tmp_path / "registry.log").read_text()
                with contextlib.suppress(httpx.TransportError):
                    return (await http.get("/readyz")).status_code == 200
                return False

            await eventually(ready, within=120, message="both workers ready")
            sent = 0

            async def both_counting() -> bool:
                # One new connection per request, so the kernel hands them to either worker.
                nonlocal sent
                async with httpx.AsyncClient(base_url=url, timeout=30) as once:
                    answer = await once.post(
                        "/graphql",
                        json={"query": QUERY.replace("Dfe", "TwoWorkers")},
                        headers={"authorization": f"Bearer {DPO_TOKEN}"},
                    )
                assert answer.status_code == 200, answer.text
                sent += 1
                return len(_counted_by(shared, "TwoWorkers")) >= 2

            await eventually(both_counting, within=60, message="a request served by each worker")
            labels = {"operation": "TwoWorkers", "type": "query", "outcome": "ok"}
            for _ in range(6):
                text = (await http.get("/metrics")).text
                (family,) = [
                    f
                    for f in text_string_to_metric_families(text)
                    if f.name == "ropa_graphql_operations"
                ]
                counted = [s.value for s in family.samples if s.labels == labels]
                assert counted == [sent], text
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 30)
        log.close()
    # Each worker's live gauges went with it.
    assert not list(shared.glob("gauge_live*.db"))
