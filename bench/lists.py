"""Benchmark the list fields: `organisations { id name }` (and `activities { id name }`)
through HTTP against a bare Cypher read of the same fields through the driver.

    python -m bench.lists --schools 1000

Loads the synthetic register as bench.lineage does (or reuses it), starts the registry, and
reports p50/p95 of each list through HTTP and through the driver, interleaved. Not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from typing import Any

import httpx

from bench.common import Registry, Result, fresh, percentiles
from bench.lineage import run_on_synthetic
from graph.database import Runner, open_database
from graph.read.validity import VALID_A
from graph.settings import Neo4jSettings

# The bare reads: the same fields of the same nodes, in the same order as the API gives them.
# Activities valid on the day by the registry's own predicate, given a Date as the registry
# gives it: compared with a string, every dated activity dropped out (1 row of 421).
_ORGANISATIONS = """
MATCH (n:Organisation)
RETURN n.id AS id, n.name AS name ORDER BY toLower(n.name), n.id
"""
_ACTIVITIES = (
    "MATCH (a:ProcessingActivity) WHERE "
    + VALID_A
    + " RETURN a.id AS id, a.name AS name ORDER BY toLower(a.name), a.id"
)
_AS_OF = dt.date(2022, 6, 1)
LISTS = {
    "organisations": ("{ organisations { id name } }", _ORGANISATIONS),
    "activities": (f'{{ activities(asOf: "{_AS_OF}") {{ id name }} }}', _ACTIVITIES),
}


async def _rows(tx: Runner, /, query: str, **params: Any) -> list[dict[str, Any]]:
    result = await tx.run(query, **params)
    return [record.data() async for record in result]


async def measure(
    settings: Neo4jSettings, server: Registry, args: argparse.Namespace
) -> list[Result]:
    """Time each list through HTTP and through the driver, interleaved."""
    results: list[Result] = []
    async with (
        open_database(settings) as db,
        httpx.AsyncClient(base_url=server.url, timeout=120) as http,
    ):
        for name in args.lists:
            document, cypher = LISTS[name]

            async def over_http(
                document: str = document, name: str = name, cached: bool = False
            ) -> int:
                body = {"query": document, "variables": {} if cached else fresh({})}
                response = await http.post("/graphql", json=body)
                body = response.json()
                if response.status_code != 200 or "errors" in body:
                    raise RuntimeError(f"registry answered {response.status_code}: {body}")
                return len(body["data"][name])

            async def bare(cypher: str = cypher) -> int:
                # As the registry reads a list: one auto-commit statement.
                return len(await db.read_one(_rows, cypher, asOf=_AS_OF))

            # A ratio means something only if both sides list the same items.
            count, bare_count = await over_http(), await bare()
            if count != bare_count:
                raise RuntimeError(f"{name}: HTTP gave {count} items, the bare read {bare_count}")
            for _ in range(args.warmup):
                await over_http()
                await bare()
            http_s: list[float] = []
            bare_s: list[float] = []
            for _ in range(args.requests):
                for samples, run in ((http_s, over_http), (bare_s, bare)):
                    started = time.perf_counter()
                    await run()
                    samples.append(time.perf_counter() - started)
            hit_s: list[float] = []
            for _ in range(2):  # the cache keeps a question's answer from its second asking
                await over_http(cached=True)
            for _ in range(args.requests):
                started = time.perf_counter()
                await over_http(cached=True)
                hit_s.append(time.perf_counter() - started)
            h, b, hit = percentiles(http_s), percentiles(bare_s), percentiles(hit_s)
            print(
                f"{document} ({count} items), {args.requests} requests each, interleaved: "
                f"HTTP p50 {h['p50']:.1f} ms p95 {h['p95']:.1f} ms; driver p50 {b['p50']:.1f} ms "
                f"p95 {b['p95']:.1f} ms; ratio p50 {h['p50'] / b['p50']:.2f}; from the response "
                f"cache p50 {hit['p50']:.1f} ms, ratio {hit['p50'] / b['p50']:.2f}"
            )
            results.append(
                Result(
                    f"{name} {{ id name }}: HTTP p50 / bare read p50", h["p50"] / b["p50"], "x", 1.5
                )
            )
            results.append(
                Result(
                    f"{name} {{ id name }}, from the response cache: HTTP p50 / bare read p50",
                    hit["p50"] / b["p50"],
                    "x",
                    1.5,
                )
            )
    return results


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """This benchmark's options."""
    parser.add_argument("--schools", type=int, default=100)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--lists", nargs="+", choices=sorted(LISTS), default=sorted(LISTS))


def main() -> None:
    """Command line entry point."""
    run_on_synthetic("bench.lists", __doc__, add_arguments, measure)


if __name__ == "__main__":
    main()
