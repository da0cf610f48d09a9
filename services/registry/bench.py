"""Benchmark `recipients`: through HTTP (uvicorn, GraphQL) against the bare traversal.

    python -m services.registry.bench --schools 1000

Starts its own Neo4j (graph.neo4j_server.LocalNeo4j) unless NEO4J_URI is set, loads a
synthetic register of N schools (services.registry.synthetic) through `register.apply`, the
code path of `ropa apply`, one register per school with progress shown, starts the registry
under uvicorn on a free port, and reports p50/p95/p99 of `recipients` for a random school
through HTTP and of the same traversal (`graph.read.lineage.recipients`) through the driver.
Not a test: it prints numbers, it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from neo4j import AsyncManagedTransaction
from pydantic import SecretStr

from graph import from_document, maintenance, migrate, register
from graph.database import Database, open_database
from graph.neo4j_server import LocalNeo4j, free_port
from graph.read import lineage
from graph.settings import Neo4jSettings
from schema.graphql.records import RecipientsQuestion
from services.registry import synthetic

QUERY = """
query ($category: String!, $controller: String, $asOf: Date) {
  recipients(category: $category, controller: $controller, asOf: $asOf) {
    organisation { id name }
    paths { hops { kind from { id } to { id } activity { id } legalBases { id }
                   categories { id } condition engagement { id } } }
  }
}
"""
_SIZE = "RETURN COUNT { (:Register) } AS registers, COUNT { ()-->() } AS relationships"


def _say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


async def _size(tx: AsyncManagedTransaction) -> tuple[int, int]:
    record = await (await tx.run(_SIZE)).single(strict=True)
    return int(record["registers"]), int(record["relationships"])


async def load(db: Database, schools: int) -> None:
    """Apply one register per school, unless the graph already holds exactly these."""
    await migrate.migrate(db, report=_say)
    registers, relationships = await db.read(_size)
    if registers == schools:
        _say(f"graph already holds {schools} school registers ({relationships} relationships)")
        return
    await maintenance.wipe(db)
    started = time.monotonic()
    for i in range(schools):
        doc = synthetic.school(i)
        await register.apply(db, doc.register_info.id, from_document.entities(doc), "bench")
        if (i + 1) % max(1, schools // 20) == 0 or i + 1 == schools:
            rate = (i + 1) / (time.monotonic() - started)
            _say(f"applied {i + 1}/{schools} school registers ({rate:.1f}/s)")
    registers, relationships = await db.read(_size)
    _say(f"loaded {registers} registers, {relationships} relationships")


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50, p95 and p99 of `samples` (seconds), in milliseconds."""
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {"p50": cuts[49] * 1000, "p95": cuts[94] * 1000, "p99": cuts[98] * 1000}


async def _timed(run: Callable[[], Awaitable[object]], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        await run()
        samples.append(time.perf_counter() - started)
    return samples


@contextmanager
def registry(neo4j: Neo4jSettings) -> Iterator[str]:
    """The registry under uvicorn (`ropa serve registry`) on a free port; its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "NEO4J_URI": neo4j.uri,
        "NEO4J_USER": neo4j.user,
        "NEO4J_PASSWORD": neo4j.password.get_secret_value(),
        "NEO4J_DATABASE": neo4j.database,
        "ROPA_ENV": "production",
    }
    command = [sys.executable, "-m", "services.cli", "serve", "registry", "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not _answers(f"{url}/readyz"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the registry did not become ready")
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


async def measure(db: Database, url: str, args: argparse.Namespace) -> None:
    """Time `recipients` for random schools through HTTP and through the driver."""
    rng = random.Random(7)
    as_of = dt.date.fromisoformat(args.as_of)

    def school() -> str:
        return f"school-{rng.randrange(args.schools)}"

    async with httpx.AsyncClient(base_url=url, timeout=120) as http:

        async def over_http(controller: str | None = None) -> None:
            variables = {"category": args.category, "asOf": args.as_of, "controller": controller}
            response = await http.post("/graphql", json={"query": QUERY, "variables": variables})
            body = response.json()
            if response.status_code != 200 or "errors" in body:
                raise RuntimeError(f"registry answered {response.status_code}: {body}")

        async def bare() -> None:
            question = RecipientsQuestion(args.category, as_of, controller_id=school())
            await lineage.recipients(db, question)

        await _timed(lambda: over_http(school()), args.warmup)
        await _timed(bare, args.warmup)
        http_ms = percentiles(await _timed(lambda: over_http(school()), args.requests))
        bare_ms = percentiles(await _timed(bare, args.requests))
        everyone = await _timed(lambda: over_http(None), args.all_requests)
        found = await lineage.recipients(db, RecipientsQuestion(args.category, as_of))
    paths = sum(len(r.paths) for r in found)
    print(
        f"\nrecipients(category: {args.category!r}, asOf: {args.as_of}) on {args.schools} "
        f"schools, {args.requests} requests each (random school as controller):"
    )
    print(f"{'':28}{'p50':>10}{'p95':>10}{'p99':>10}")
    for name, row in (("HTTP (uvicorn + GraphQL)", http_ms), ("bare driver (traversal)", bare_ms)):
        print(f"{name:28}" + "".join(f"{row[k]:>8.1f}ms" for k in ("p50", "p95", "p99")))
    print(
        f"{'ratio HTTP / driver':28}"
        + "".join(f"{http_ms[k] / bare_ms[k]:>10.2f}" for k in ("p50", "p95", "p99"))
    )
    print(
        f"every controller: {len(found)} recipients, {paths} paths; HTTP median "
        f"{statistics.median(everyone) * 1000:.0f} ms over {len(everyone)} requests"
    )


async def run(neo4j: Neo4jSettings, args: argparse.Namespace) -> None:
    """Load, serve, measure."""
    async with open_database(neo4j) as db:
        await db.ping()
        await load(db, args.schools)
        with registry(neo4j) as url:
            await measure(db, url, args)


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=100)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--all-requests", type=int, default=3, help="every-controller requests")
    parser.add_argument("--category", default="safeguarding")
    parser.add_argument("--as-of", default="2022-06-01")
    parser.add_argument("--home", type=Path, help="Neo4j home to keep between runs")
    args = parser.parse_args()
    if os.environ.get("NEO4J_URI"):
        _say(f"using NEO4J_URI={os.environ['NEO4J_URI']}; its graph is replaced")
        asyncio.run(run(Neo4jSettings(), args))
        return
    with tempfile.TemporaryDirectory(prefix="ropa-bench-") as tmp:
        server = LocalNeo4j(
            home=args.home or Path(tmp), port=free_port(), heap="3g", page_cache="2g"
        )
        password = server.start()
        try:
            neo4j = Neo4jSettings(uri=server.uri, password=SecretStr(password))
            asyncio.run(run(neo4j, args))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
