"""What an operator sees of the registry: /metrics by operation, Cypher round trips and the
follower; an id per request; JSON log lines naming the request, its principal and operation."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport
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
SUBSCRIBE = "subscription Killed { subProcessorChanges { id sequence } }"


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


@contextlib.asynccontextmanager
async def _two_workers(
    registry_settings: RegistrySettings, tmp_path: Path
) -> AsyncIterator[tuple[str, Path]]:
    """`ropa serve registry --workers 2` sharing its metrics in a folder: (its URL, the
    folder), once it answers /readyz. The workers' live gauges must go with it."""
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
    log_path = tmp_path / "registry.log"
    log = log_path.open("wb")
    process = await asyncio.create_subprocess_exec(sys.executable, *command, env=env, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:

            async def ready() -> bool:
                assert process.returncode is None, log_path.read_text()
                with contextlib.suppress(httpx.TransportError):
                    return (await http.get("/readyz")).status_code == 200
                return False

            await eventually(ready, within=120, message="both workers ready")
        yield url, shared
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 30)
        log.close()
    # Each worker's live gauges went with it.
    assert not list(shared.glob("gauge_live*.db"))


async def _scraped(http: httpx.AsyncClient, name: str) -> list[tuple[dict[str, str], float]]:
    text = (await http.get("/metrics")).text
    return [
        (sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        if family.name == name
        for sample in family.samples
    ]


def _live_subscribers(shared: Path) -> dict[int, float]:
    """Each worker's ropa_subscribers, from its live gauge file, by pid."""
    found = {}
    for path in shared.glob("gauge_livesum_*.db"):
        with contextlib.suppress(FileNotFoundError):
            for key, value, _, _ in MmapedDict.read_all_values_from_file(str(path)):  # type: ignore[no-untyped-call]
                if '"ropa_subscribers"' in key:
                    found[int(path.stem.rsplit("_", 1)[1])] = value
    return found


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True  # reaped: uvicorn's supervisor has seen it exit
    return False


async def test_metrics_of_two_workers_are_summed(
    example: Database, registry_settings: RegistrySettings, tmp_path: Path
) -> None:
    # `ropa serve --workers 2`: each request goes to either worker; whichever answers /metrics
    # counts both workers' operations. Then a worker killed with SIGKILL, which cannot remove
    # its live gauges itself: `ropa serve` does once it is gone, so /metrics stops counting the
    # subscriber it served. (One test: starting two workers is the slow part.)
    async with _two_workers(registry_settings, tmp_path) as (url, shared):

        async def scraped(name: str) -> list[tuple[dict[str, str], float]]:
            # A new connection each time, so the kernel hands them to either worker (and a
            # kept-alive one is never to the killed worker).
            async with httpx.AsyncClient(base_url=url, timeout=30) as once:
                return await _scraped(once, name)

        sent = 0

        async def both_counting() -> bool:
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
            counted = [v for s, v in await scraped("ropa_graphql_operations") if s == labels]
            assert counted == [sent]

        async def subscribers() -> float:
            return sum(v for _, v in await scraped("ropa_subscribers"))

        await eventually(lambda: len(_live_subscribers(shared)) == 2, 60, "both workers' gauges")
        transport = WebsocketsTransport(
            url=url.replace("http", "ws", 1) + "/graphql",
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        )

        async def follow() -> None:
            async with Client(transport=transport) as session:
                async for _ in session.subscribe(gql(SUBSCRIBE)):
                    pass

        following = asyncio.create_task(follow())
        try:

            async def counted_once() -> bool:
                return await subscribers() == 1 and 1 in _live_subscribers(shared).values()

            await eventually(counted_once, 60, "the subscriber counted by its worker")
            (serving,) = [pid for pid, n in _live_subscribers(shared).items() if n == 1]
            os.kill(serving, signal.SIGKILL)
            await eventually(lambda: _gone(serving), 60, "uvicorn to reap the killed worker")

            async def forgotten() -> bool:
                return serving not in _live_subscribers(shared) and await subscribers() == 0

            # Without `ropa serve` removing them, the dead worker's gauges count for ever.
            await eventually(forgotten, 30, "the killed worker's gauges gone from /metrics")
        finally:
            following.cancel()
            with contextlib.suppress(BaseException):
                await following
