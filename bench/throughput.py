"""Benchmark throughput: requests per second of one controller's `recipients` at concurrency 1
and at concurrency 16, against `ropa serve registry --workers N` (default: one per core).

    python -m bench.throughput --schools 1000 --workers 2

Loads the synthetic register as bench.lineage does (or reuses it), starts the registry with N
uvicorn workers, and for each concurrency sends requests for random schools from that many
concurrent clients for `--seconds`, counting the answers; each request is executed (a fresh
variable keeps it out of the response cache). Not a test.

The client shares the machine's cores with the registry and Neo4j, so its own CPU per request
is taken from what the registry can use. Each concurrent client is one keep-alive connection
of the lean client bench.rawhttp (about 0.5 ms of CPU per request); `--client httpx` sends
through one httpx pool instead (about 2.5-3 ms per request), as earlier runs did.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from bench.common import (
    Registry,
    Result,
    children,
    cpu_seconds,
    fresh,
    header,
    listening_pid,
    load_average,
    machine_busy_seconds,
    neo4j,
    registry,
)
from bench.lineage import QUERY, _loaded
from bench.rawhttp import RawClient
from graph.settings import Neo4jSettings


async def requests_per_second(
    url: str,
    concurrency: int,
    seconds: float,
    schools: int,
    args: argparse.Namespace,
    pid: int,
    neo4j_pid: int | None = None,
) -> float:
    """Answers per second from `concurrency` clients asking for `seconds`."""
    rng = random.Random(concurrency)
    done = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    raws = [RawClient(url, timeout=120) for _ in range(concurrency)]
    async with (
        httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as http,
        contextlib.AsyncExitStack() as stack,
    ):
        for raw in raws:
            await stack.enter_async_context(raw)

        async def ask(raw: RawClient, payload: dict[str, object]) -> None:
            if args.client == "httpx":
                response = await http.post("/graphql", json=payload)
                status, body = response.status_code, response.json()
            else:
                status, body = await raw.post_json("/graphql", payload)
            if status != 200 or not isinstance(body, dict) or "errors" in body:
                raise RuntimeError(f"registry answered {status}")

        async def client(raw: RawClient, until: float) -> None:
            nonlocal done
            while time.monotonic() < until:
                variables = {
                    "category": args.category,
                    "asOf": args.as_of,
                    "controller": f"school-{rng.randrange(schools)}",
                }
                await ask(raw, {"query": QUERY, "variables": fresh(variables)})
                done += 1

        # Warm every worker's connections and caches first.
        await asyncio.gather(*(client(raw, time.monotonic() + 1.0) for raw in raws))
        done = 0
        workers = children(pid) or [pid]
        before = _cpu(workers, neo4j_pid)
        started = time.monotonic()
        await asyncio.gather(*(client(raw, started + seconds) for raw in raws))
        elapsed = time.monotonic() - started
        used = [(b - a) / elapsed for a, b in zip(before, _cpu(workers, neo4j_pid), strict=True)]
        # Where the two cores went: the workers (are they balanced?), this client, Neo4j, and
        # the rest (whatever else runs on the machine).
        *per_worker, client_share, database, machine = used
        rest = machine - sum(per_worker) - client_share - database
        shares = " + ".join(f"{w:.2f}" for w in per_worker)
        rate = done / elapsed
        # CPU per answer, which the load of others on the machine disturbs less than rates.
        per_answer = f"workers {sum(per_worker) / max(rate, 1e-9) * 1000:.1f} ms"
        if neo4j_pid:
            parts = f", Neo4j {database:.2f}, the rest (others) {rest:.2f}"
            per_answer += f", Neo4j {database / max(rate, 1e-9) * 1000:.1f} ms"
        else:
            parts = f", the rest (Neo4j, others) {rest:.2f}"
        print(
            f"  concurrency {concurrency}: {rate:.1f} req/s; cores busy {machine:.2f} "
            f"of {os.cpu_count()}: workers {shares}, this client {client_share:.2f}{parts}; "
            f"CPU per answer: {per_answer}"
        )
        return rate


def _cpu(workers: list[int], neo4j_pid: int | None) -> list[float]:
    # Each worker's CPU seconds, then this process's, Neo4j's (0 when it cannot be seen), and
    # the whole machine's.
    database = cpu_seconds(neo4j_pid) if neo4j_pid else 0.0
    return [
        *(cpu_seconds(w) for w in workers),
        time.process_time(),
        database,
        machine_busy_seconds(),
    ]


async def measure(
    settings: Neo4jSettings, server: Registry, args: argparse.Namespace
) -> list[Result]:
    """Requests per second at concurrency 1 and 16, interleaved over `--rounds`."""
    rates: dict[int, list[float]] = {1: [], 16: []}
    neo4j_pid = listening_pid(urlsplit(settings.uri).port or 7687)
    if args.warmup > 0:
        # A Neo4j just started (a kept --home is reopened) answers its first few hundred
        # questions several times slower (page cache, plans, the JIT): 40-49 ms of its CPU per
        # answer in the first round at concurrency 1, 10-16 ms after, which favoured the ratio.
        print(f"  warm-up, not counted ({args.warmup:.0f} s at concurrency 16):")
        await requests_per_second(
            server.url, 16, args.warmup, args.schools, args, server.pid, neo4j_pid
        )
    for _ in range(args.rounds):
        for concurrency in rates:
            rate = await requests_per_second(
                server.url, concurrency, args.seconds, args.schools, args, server.pid, neo4j_pid
            )
            rates[concurrency].append(rate)
    one, sixteen = (sum(r) / len(r) for r in rates.values())
    print(
        f"recipients (one controller) with {args.workers} worker(s), client {args.client}, "
        f"{args.rounds} x "
        f"{args.seconds:.0f} s per concurrency: concurrency 1 {one:.1f} req/s, concurrency 16 "
        f"{sixteen:.1f} req/s, ratio {sixteen / one:.2f} (load average now {load_average()})"
    )
    return [
        Result(
            f"throughput: concurrency 16 / 1, {args.workers} workers",
            sixteen / one,
            "x",
            1.8,
            higher=True,
        )
    ]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """This benchmark's options."""
    parser.add_argument("--schools", type=int, default=100)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seconds", type=float, default=10.0, help="per concurrency and round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--warmup", type=float, default=10.0, help="seconds of requests before the rounds"
    )
    parser.add_argument("--category", default="safeguarding")
    parser.add_argument("--as-of", default="2022-06-01")
    parser.add_argument(
        "--client", choices=("lean", "httpx"), default="lean", help="what sends the requests"
    )


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add_arguments(parser)
    parser.add_argument("--home", type=Path, help="Neo4j home to keep between runs")
    args = parser.parse_args()
    header("bench.throughput", sys.argv[1:])
    with neo4j(args.home, heap="3g", page_cache="2g") as settings:
        asyncio.run(_loaded(settings, args.schools))
        with registry(settings, workers=args.workers) as server:
            asyncio.run(measure(settings, server, args))


if __name__ == "__main__":
    main()
