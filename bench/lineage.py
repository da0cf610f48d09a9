"""Benchmark `recipients`: through HTTP (uvicorn, GraphQL) against the bare traversal.

    python -m bench.lineage --schools 1000

Starts its own Neo4j (graph.neo4j_server.LocalNeo4j) unless NEO4J_URI is set, loads a
synthetic register of N schools (bench.synthetic) through `register.apply`, the code path of
`ropa apply`, one register per school with progress shown, starts the registry under uvicorn
on a free port, and reports p50/p95/p99 of `recipients` for a random school through HTTP and
of the same traversal (`graph.read.lineage.recipients`) through the driver, interleaved; then
the same for every controller at once, the Cypher round trips one operation costs (counted
in-process on the same schema and loaders), and the registry's memory around the large
answers. Each request is executed (a fresh variable keeps it out of the response cache),
except in the rows "answered from the cache", which ask repeated questions. Not a test: it
prints numbers, it asserts nothing.

Both sides run in this process. The HTTP rows are sent by a lean keep-alive HTTP/1.1 client
(bench.rawhttp: about 0.5 ms of this process's CPU per request, orjson included), as the
driver side has no client layer of its own to pay for; the row "HTTP through httpx" asks the
same questions through httpx (about 2.5 ms more per request, inside its timing) for
comparison with earlier runs, which used it for every HTTP row.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx
from neo4j import AsyncManagedTransaction

from bench import synthetic
from bench.common import (
    Registry,
    Result,
    fresh,
    header,
    memory_kib,
    neo4j,
    percentiles,
    registry,
    say,
)
from bench.rawhttp import RawClient
from graph import from_document, maintenance, migrate, register
from graph.database import Database, open_database
from graph.read import lineage
from graph.settings import Neo4jSettings
from schema.access.principal import admin
from schema.graphql.records import RecipientsQuestion
from schema.graphql.schema import build_schema
from services.registry.loaders import build_context

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


async def _size(tx: AsyncManagedTransaction) -> tuple[int, int]:
    record = await (await tx.run(_SIZE)).single(strict=True)
    return int(record["registers"]), int(record["relationships"])


async def load(db: Database, schools: int) -> None:
    """Apply one register per school, unless the graph already holds exactly these."""
    await migrate.migrate(db, report=say)
    registers, relationships = await db.read(_size)
    if registers == schools:
        say(f"graph already holds {schools} school registers ({relationships} relationships)")
        return
    await maintenance.wipe(db)
    started = time.monotonic()
    for i in range(schools):
        doc = synthetic.school(i)
        await register.apply(db, doc.register_info.id, from_document.entities(doc), "bench")
        if (i + 1) % max(1, schools // 20) == 0 or i + 1 == schools:
            rate = (i + 1) / (time.monotonic() - started)
            say(f"applied {i + 1}/{schools} school registers ({rate:.1f}/s)")
    registers, relationships = await db.read(_size)
    say(f"loaded {registers} registers, {relationships} relationships")


async def _timed(run: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await run()
    return time.perf_counter() - started


async def round_trips(db: Database, variables: dict[str, object]) -> int:
    """The Cypher round trips one `recipients` operation costs, on the registry's own schema
    and loaders (in this process, where the counter can be read)."""
    counted = Database(db.driver, db.name)
    context = build_context(counted)
    context.principal = admin("bench")  # every register, as the HTTP runs read them
    result = await build_schema().execute(QUERY, variable_values=variables, context_value=context)
    if result.errors:
        raise RuntimeError(f"the operation failed: {result.errors}")
    return counted.round_trips


async def measure(
    settings: Neo4jSettings, server: Registry, args: argparse.Namespace
) -> list[Result]:
    """Time `recipients` through HTTP and through the driver, interleaved; print and return
    the ratios."""
    rng = random.Random(7)
    as_of = dt.date.fromisoformat(args.as_of)

    def school() -> str:
        return f"school-{rng.randrange(args.schools)}"

    async with (
        open_database(settings) as db,
        RawClient(server.url) as raw,
        httpx.AsyncClient(base_url=server.url, timeout=300) as http,
    ):

        def payload(controller: str | None, cached: bool) -> dict[str, object]:
            variables: dict[str, object] = {
                "category": args.category,
                "asOf": args.as_of,
                "controller": controller,
            }
            return {"query": QUERY, "variables": variables if cached else fresh(variables)}

        async def over_http(controller: str | None, cached: bool = False) -> None:
            status, body = await raw.post_json("/graphql", payload(controller, cached))
            if status != 200 or not isinstance(body, dict) or "errors" in body:
                raise RuntimeError(f"registry answered {status}: {body}")

        async def over_httpx(controller: str | None) -> None:
            response = await http.post("/graphql", json=payload(controller, False))
            body = response.json()
            if response.status_code != 200 or "errors" in body:
                raise RuntimeError(f"registry answered {response.status_code}: {body}")

        async def bare(controller: str | None) -> None:
            await lineage.recipients(db, RecipientsQuestion(args.category, as_of, controller))

        # Every statement planned and every page read once, for both questions.
        await over_http(None)
        await bare(None)
        for _ in range(args.warmup):
            controller = school()
            await over_http(controller)
            await bare(controller)
            await over_httpx(controller)
        http_s: list[float] = []
        bare_s: list[float] = []
        httpx_s: list[float] = []
        client_cpu = {"raw": 0.0, "httpx": 0.0}
        for _ in range(args.requests):
            controller = school()
            cpu = time.process_time()
            http_s.append(await _timed(lambda c=controller: over_http(c)))  # type: ignore[misc]
            client_cpu["raw"] += time.process_time() - cpu
            bare_s.append(await _timed(lambda c=controller: bare(c)))  # type: ignore[misc]
            cpu = time.process_time()
            httpx_s.append(await _timed(lambda c=controller: over_httpx(c)))  # type: ignore[misc]
            client_cpu["httpx"] += time.process_time() - cpu
        # Repeated questions (ten schools, each asked twice before: the cache keeps a
        # question's answer from its second asking), answered from the cache.
        repeated = [school() for _ in range(10)]
        for controller in repeated * 2:
            await over_http(controller, cached=True)
        hit_s: list[float] = []
        hit_bare_s: list[float] = []
        for i in range(args.requests):
            controller = repeated[i % len(repeated)]
            hit_s.append(await _timed(lambda c=controller: over_http(c, True)))  # type: ignore[misc]
            hit_bare_s.append(await _timed(lambda c=controller: bare(c)))  # type: ignore[misc]
        trips = await round_trips(
            db, {"category": args.category, "asOf": args.as_of, "controller": school()}
        )
        rss_before = memory_kib(server.pid)["VmRSS"]
        every_http: list[float] = []
        every_bare: list[float] = []
        for _ in range(args.all_requests):
            every_http.append(await _timed(lambda: over_http(None)))
            every_bare.append(await _timed(lambda: bare(None)))
        await over_http(None, cached=True)
        await over_http(None, cached=True)
        every_hit: list[float] = []
        every_hit_bare: list[float] = []
        for _ in range(args.all_requests):
            every_hit.append(await _timed(lambda: over_http(None, True)))
            every_hit_bare.append(await _timed(lambda: bare(None)))
        rss_after = memory_kib(server.pid)["VmRSS"]
        await asyncio.sleep(2)
        await over_http(school())
        rss_settled = memory_kib(server.pid)["VmRSS"]
        found = await lineage.recipients(db, RecipientsQuestion(args.category, as_of))
    http_ms, bare_ms, httpx_ms = percentiles(http_s), percentiles(bare_s), percentiles(httpx_s)
    hit_ms, hit_bare_ms = percentiles(hit_s), percentiles(hit_bare_s)
    paths = sum(len(r.paths) for r in found)
    print(
        f"recipients(category: {args.category!r}, asOf: {args.as_of}) on {args.schools} "
        f"schools, {args.requests} requests each, interleaved (random school as controller):"
    )
    print(f"{'':28}{'p50':>10}{'p95':>10}{'p99':>10}")
    for name, row in (("HTTP (uvicorn + GraphQL)", http_ms), ("bare driver (traversal)", bare_ms)):
        print(f"{name:28}" + "".join(f"{row[k]:>8.1f}ms" for k in ("p50", "p95", "p99")))
    print(
        f"{'ratio HTTP / driver':28}"
        + "".join(f"{http_ms[k] / bare_ms[k]:>10.2f}" for k in ("p50", "p95", "p99"))
    )
    print(
        f"{'HTTP through httpx':28}"
        + "".join(f"{httpx_ms[k]:>8.1f}ms" for k in ("p50", "p95", "p99"))
        + f"  (ratio {httpx_ms['p50'] / bare_ms['p50']:.2f} at p50)"
    )
    print(
        "client CPU per request, inside the HTTP timing: lean client "
        f"{client_cpu['raw'] / args.requests * 1000:.2f} ms, httpx "
        f"{client_cpu['httpx'] / args.requests * 1000:.2f} ms"
    )
    print(
        f"{'answered from the cache':28}"
        + "".join(f"{hit_ms[k]:>8.1f}ms" for k in ("p50", "p95", "p99"))
        + "  (10 repeated questions, each request a hit)"
    )
    print(
        f"{'ratio cached HTTP / driver':28}"
        + "".join(f"{hit_ms[k] / hit_bare_ms[k]:>10.2f}" for k in ("p50", "p95", "p99"))
    )
    print(f"Cypher round trips per operation: {trips} (executed; the response cache adds 1)")
    every_ratio = statistics.median(every_http) / statistics.median(every_bare)
    every_hit_ratio = statistics.median(every_hit) / statistics.median(every_hit_bare)
    print(
        f"every controller: {len(found)} recipients, {paths} paths; median HTTP "
        f"{statistics.median(every_http) * 1000:.0f} ms, driver "
        f"{statistics.median(every_bare) * 1000:.0f} ms over {len(every_http)} requests each; "
        f"ratio {every_ratio:.2f}; answered from the cache: median "
        f"{statistics.median(every_hit) * 1000:.0f} ms, ratio {every_hit_ratio:.2f}"
    )
    print(
        f"registry VmRSS: {rss_before / 1024:.0f} MiB before the every-controller answers, "
        f"{rss_after / 1024:.0f} MiB after, {rss_settled / 1024:.0f} MiB 2 s later"
    )
    return [
        Result(
            "recipients, one controller: HTTP p50 / driver p50",
            http_ms["p50"] / bare_ms["p50"],
            "x",
            1.3,
        ),
        Result(
            "recipients, one controller, from the response cache: HTTP p50 / driver p50",
            hit_ms["p50"] / hit_bare_ms["p50"],
            "x",
            1.3,
        ),
        Result("recipients, one controller: Cypher round trips", trips, "", 3),
        Result("recipients, every controller: HTTP / driver", every_ratio, "x", 2.0),
        Result(
            "recipients, every controller, from the response cache: HTTP / driver",
            every_hit_ratio,
            "x",
            2.0,
        ),
        Result("memory after large answers / before", rss_settled / rss_before, "x", 1.1),
    ]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """This benchmark's options."""
    parser.add_argument("--schools", type=int, default=100)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--all-requests", type=int, default=3, help="every-controller requests")
    parser.add_argument("--category", default="safeguarding")
    parser.add_argument("--as-of", default="2022-06-01")


async def _loaded(settings: Neo4jSettings, schools: int) -> None:
    async with open_database(settings) as db:
        await db.ping()
        await load(db, schools)


Measure = Callable[[Neo4jSettings, Registry, argparse.Namespace], Coroutine[Any, Any, list[Result]]]


def run_on_synthetic(
    name: str,
    doc: str | None,
    add_options: Callable[[argparse.ArgumentParser], None],
    measure_with: Measure,
) -> None:
    """The command line of a benchmark over the synthetic register: parse its options, load the
    register into a Neo4j (kept with --home), serve it, and measure."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    add_options(parser)
    parser.add_argument("--home", type=Path, help="Neo4j home to keep between runs")
    args = parser.parse_args()
    header(name, sys.argv[1:])
    with neo4j(args.home, heap="3g", page_cache="2g") as settings:
        asyncio.run(_loaded(settings, args.schools))
        with registry(settings) as server:
            asyncio.run(measure_with(settings, server, args))


def main() -> None:
    """Command line entry point."""
    run_on_synthetic("bench.lineage", __doc__, add_arguments, measure)


if __name__ == "__main__":
    main()
