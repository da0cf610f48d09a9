"""Benchmark `subProcessorChanges`: commit-to-delivery latency with N subscribers on one registry.

    python -m bench.subscriptions --subscribers 1000

Starts its own Neo4j (graph.neo4j_server.LocalNeo4j) unless NEO4J_URI is set (its graph is
replaced), applies a small register, starts one registry under uvicorn (`ropa serve
registry`), and opens N graphql-transport-ws subscribers from a few client processes
(bench.subscribers: raw sockets, to keep the clients' own cost low). It then commits K
engagement changes through `register.apply`, spaced out, and for each subscriber and change
takes the time from the moment the commit returned to the moment the subscriber received the
change (one machine, one clock). It reports p50/p99/max of that latency, deliveries missing,
the registry process's CPU per delivery (and idle, with the subscribers but no change), the
client processes' CPU, and the registry's memory (VmRSS before the subscribers, with them,
after the first 10 measured changes and after all of them, and its peak VmHWM). Not a test:
it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from bench import subscribers
from bench.common import (
    Result,
    children,
    cpu_seconds,
    cpu_split,
    header,
    listening_pid,
    memory_kib,
    neo4j,
    open_sockets,
    registry,
    say,
)
from graph import from_document, maintenance, migrate, register
from graph import subprocessor_changes as spc
from graph.database import Database, open_database
from graph.settings import Neo4jSettings
from schema.validation import parse_document

# What a portal's live view would ask for.
SUBSCRIPTION = """
subscription {
  subProcessorChanges {
    id sequence type occurredAt effectiveFrom
    processor { id name }
    subProcessor { id name }
    after { purpose status since }
  }
}
"""


def _document(revision: int) -> str:
    return json.dumps(
        {
            "version": "ropa/v1",
            "register": {"id": "bench-school", "name": "Bench School", "owner": "bench-school"},
            "organisations": [
                {"id": o, "name": o.replace("-", " ").title(), "kind": "company"}
                for o in ("bench-school", "portal-co", "hosting-co")
            ],
            "data_categories": [{"id": "pupil-data", "name": "Pupil data"}],
            "engagements": [
                {
                    "id": "portal-hosting",
                    "processor": "portal-co",
                    "sub_processor": "hosting-co",
                    "purpose": f"Hosting, revision {revision}",
                    "data_categories": ["pupil-data"],
                    "since": "2022-02-14",
                }
            ],
        }
    )


async def _apply(db: Database, revision: int) -> None:
    doc = parse_document(_document(revision))
    await register.apply(db, "bench-school", from_document.entities(doc), "bench")


# ---- the parent -------------------------------------------------------------------------


@dataclass
class Client:
    """A client process and its pipes."""

    process: subprocess.Popen[str]

    @property
    def stdin(self) -> IO[str]:
        assert self.process.stdin is not None
        return self.process.stdin

    @property
    def stdout(self) -> IO[str]:
        assert self.process.stdout is not None
        return self.process.stdout


def _start_clients(url: str, subscribers: int, processes: int, loop: str) -> list[Client]:
    clients = []
    for p in range(processes):
        count = subscribers // processes + (1 if p < subscribers % processes else 0)
        command = [sys.executable, "-m", "bench.subscriptions", "--client-loop", loop]
        process = subprocess.Popen(
            [*command, "--client", url, "--subscribers", str(count)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        clients.append(Client(process))
    for client in clients:
        line = client.stdout.readline().strip()
        if line != "READY":
            raise RuntimeError(f"a client process failed to start: {line!r}")
    return clients


def _percentile(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


async def measure(settings: Neo4jSettings, args: argparse.Namespace) -> list[Result]:
    """Serve, subscribe, commit, report."""
    async with open_database(settings) as db:
        await migrate.migrate(db, report=say)
        await maintenance.wipe(db)
        await _apply(db, 0)
        # A local Neo4j's process, to tell what the follower's polls cost it.
        port = urlsplit(settings.uri).port
        neo4j_pid = listening_pid(port) if port else None
        neo4j_pids = [neo4j_pid] if neo4j_pid is not None else []
        env = {"ROPA_FOLLOWER_POLL_INTERVAL": str(args.poll_interval)}
        under = ("bench.traced", str(args.tracemalloc)) if args.tracemalloc else ()
        served = registry(
            settings, workers=args.workers, env=env, log=args.registry_log, under=under
        )
        with served as server:
            # With workers, what they use and hold (the parent only supervises them).
            pids = children(server.pid) if args.workers > 1 else [server.pid]
            await asyncio.sleep(1)
            before = _memory(pids)
            say(
                f"registry up (pid {server.pid}, serving {pids}, "
                f"VmRSS {before['VmRSS'] / 1024:.0f} MiB)"
            )
            started = time.monotonic()
            clients = await asyncio.to_thread(
                _start_clients,
                server.ws_url,
                args.subscribers,
                args.client_processes,
                args.client_loop,
            )
            say(f"{args.subscribers} subscribers in {time.monotonic() - started:.1f} s")
            await asyncio.sleep(2)  # subscriptions register after the subscribe message
            with_subscribers = _memory(pids)
            # How the subscribers spread over the workers: the last one served waits for
            # its worker's whole share.
            sockets = [open_sockets(p) for p in pids]
            revision = 1
            for _ in range(args.warmup):
                await _apply(db, revision)
                revision += 1
                await asyncio.sleep(args.interval)
            # What the registry spends with nothing to deliver (its follower's polls, the
            # keepalive pings and pongs of every socket), to tell it from what deliveries cost.
            idle_before = _cpu(pids)
            neo4j_idle_before = _cpu(neo4j_pids)
            await asyncio.sleep(args.idle)
            idle = (_cpu(pids) - idle_before) / args.idle if args.idle else 0.0
            neo4j_idle = (_cpu(neo4j_pids) - neo4j_idle_before) / args.idle if args.idle else 0.0
            start = await db.read(spc.head_sequence)
            cpu_before = _cpu(pids)
            split_before = _split(pids)
            neo4j_before = _cpu(neo4j_pids)
            each_before = [cpu_seconds(p) for p in pids]
            client_pids = [c.process.pid for c in clients]
            client_cpu_before = _cpu(client_pids)
            client_split_before = _split(client_pids)
            measuring = time.monotonic()
            commits: list[float] = []
            after_ten = with_subscribers
            for n in range(args.changes):
                await _apply(db, revision)
                commits.append(time.time())
                revision += 1
                if (n + 1) % 10 == 0:
                    say(f"committed {n + 1}/{args.changes} changes")
                await asyncio.sleep(args.interval)
                if n + 1 == min(10, args.changes):
                    after_ten = _memory(pids)
                    if args.tracemalloc:
                        await _snapshot(pids[0], args.tracemalloc / "0.snapshot")
            await asyncio.sleep(3)
            cpu = _cpu(pids) - cpu_before
            split = _minus(_split(pids), split_before)
            neo4j_cpu = _cpu(neo4j_pids) - neo4j_before
            each = [cpu_seconds(p) - b for p, b in zip(pids, each_before, strict=True)]
            if args.tracemalloc:
                await _snapshot(pids[0], args.tracemalloc / "1.snapshot")
            client_cpu = _cpu(client_pids) - client_cpu_before
            client_split = _minus(_split(client_pids), client_split_before)
            measured = time.monotonic() - measuring
            after = _memory(pids)
            recorded = await db.read(spc.changes_after, start, None, args.changes + 10)
            results = []
            for client in clients:
                client.stdin.write("STOP\n")
                client.stdin.flush()
            for client in clients:
                results.append(json.loads(client.stdout.readline()))
                client.process.wait(timeout=60)
    committed_at = {c.sequence: at for c, at in zip(recorded, commits, strict=True)}
    latencies: list[float] = []
    missing = 0
    failures = [f for r in results for f in r["failures"]]
    # Per change, its first and last arrival after the commit.
    arrivals: dict[int, list[float]] = {seq: [] for seq in committed_at}
    for result in results:
        for received in result["received"]:
            got = {seq: at for seq, at in received if seq in committed_at}
            missing += len(committed_at) - len(got)
            for seq, at in got.items():
                latencies.append(at - committed_at[seq])
                arrivals[seq].append(at - committed_at[seq])
    ms = sorted(x * 1000 for x in latencies) or [float("nan")]
    p50, p99 = (_percentile(ms, q) if len(ms) > 1 else ms[0] for q in (50, 99))
    print(
        f"subProcessorChanges: {args.subscribers} subscribers on {args.workers} registry "
        "process(es) "
        f"({args.client_processes} client processes), {args.changes} changes "
        f"{args.interval} s apart, follower poll interval {args.poll_interval} s"
    )
    print(
        f"commit -> delivery: p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {ms[-1]:.0f} ms over "
        f"{len(latencies)} deliveries; missing {missing}; subscriber failures {len(failures)}"
    )
    snapshots = (("before", before), ("with", with_subscribers), ("ten", after_ten))
    mib = {k: v["VmRSS"] / 1024 for k, v in (*snapshots, ("after", after))}
    print(
        f"registry memory: VmRSS {mib['before']:.0f} MiB before subscribers, "
        f"{mib['with']:.0f} MiB with them, {mib['ten']:.0f} MiB after the first 10 changes, "
        f"{mib['after']:.0f} MiB after all {args.changes}; peak VmHWM "
        f"{after['VmHWM'] / 1024:.0f} MiB"
    )
    deliveries = max(1, len(latencies))
    per_delivery = cpu / deliveries * 1e6
    net = max(0.0, cpu - idle * measured) / deliveries * 1e6
    print(
        f"registry CPU while the changes were delivered: {cpu:.1f} s over {measured:.0f} s, "
        f"{per_delivery:.0f} µs per delivery; idle with the subscribers (no change): "
        f"{idle * 1000:.0f} ms per second, so {net:.0f} µs per delivery above idle"
    )
    if len(pids) > 1:
        print(
            "per worker: "
            + ", ".join(
                f"{n} sockets and {c:.1f} s of CPU" for n, c in zip(sockets, each, strict=True)
            )
        )
    print(
        f"registry CPU user/system: {split[0]:.1f}/{split[1]:.1f} s; client processes' "
        f"user/system: {client_split[0]:.1f}/{client_split[1]:.1f} s"
    )
    print(
        f"client processes' CPU meanwhile: {client_cpu:.1f} s, "
        f"{client_cpu / deliveries * 1e6:.0f} µs per delivery received "
        f"(event loop: {args.client_loop})"
    )
    if neo4j_pids:
        print(
            f"Neo4j CPU: {neo4j_cpu / measured * 1000:.0f} ms per second while measuring, "
            f"{neo4j_idle * 1000:.0f} ms per second idle (the followers' polls)"
        )
    spans = [
        f"{min(a) * 1000:.0f}/{max(a) * 1000:.0f}" if a else "-"
        for _, a in sorted(arrivals.items())
    ]
    print("per change, first/last arrival after the commit (ms): " + " ".join(spans))
    if failures:
        print(f"first failure: {failures[0]}")
    if args.tracemalloc:
        _heap_growth(args.tracemalloc, args.changes - min(10, args.changes), args.subscribers)
    n = args.subscribers
    return [
        Result(f"subscriptions ({n}): commit -> delivery p99", p99, "ms", 500),
        Result(f"subscriptions ({n}): registry CPU per delivery", per_delivery, "µs", 60),
        Result(f"subscriptions ({n}): deliveries missing", missing + len(failures), "", 0),
        Result(
            f"subscriptions ({n}): RSS after {args.changes} changes / after 10",
            mib["after"] / mib["ten"],
            "x",
            1.1,
        ),
    ]


def _cpu(pids: list[int]) -> float:
    return sum(cpu_seconds(p) for p in pids)


def _split(pids: list[int]) -> tuple[float, float]:
    found = [cpu_split(p) for p in pids]
    return sum(u for u, _ in found), sum(s for _, s in found)


def _minus(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    return a[0] - b[0], a[1] - b[1]


def _memory(pids: list[int]) -> dict[str, int]:
    found = [memory_kib(p) for p in pids]
    return {key: sum(f[key] for f in found) for key in ("VmRSS", "VmHWM")}


async def _snapshot(pid: int, path: Path) -> None:
    """Have the traced registry write its next snapshot; wait until it is there."""
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + 300
    while not await asyncio.to_thread(path.exists):
        if time.monotonic() > deadline:
            raise RuntimeError(f"no tracemalloc snapshot at {path}")
        await asyncio.sleep(0.5)


def _heap_growth(folder: Path, changes: int, subscribers: int) -> None:
    """What the heap gained between the snapshot after 10 changes and the last, by line."""
    first = tracemalloc.Snapshot.load(str(folder / "0.snapshot"))
    last = tracemalloc.Snapshot.load(str(folder / "1.snapshot"))
    grown = last.compare_to(first, "lineno")
    total = sum(s.size_diff for s in grown)
    print(
        f"tracemalloc: the heap traced {total / 1024:+.0f} KiB over the last {changes} changes "
        f"({total / max(1, changes * subscribers):+.1f} bytes per delivery); the lines that "
        "grew most:"
    )
    for stat in grown[:10]:
        print(f"  {stat.size_diff / 1024:+8.1f} KiB {stat.count_diff:+7d} blocks  {stat.traceback}")


def _raise_file_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """This benchmark's options."""
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--changes", type=int, default=100, help="changes measured")
    parser.add_argument("--warmup", type=int, default=3, help="changes before measuring")
    parser.add_argument("--interval", type=float, default=3.0, help="seconds between commits")
    parser.add_argument(
        "--poll-interval", type=float, default=0.1, help="the follower's (the registry's default)"
    )
    parser.add_argument(
        "--idle", type=float, default=6.0, help="seconds of registry CPU measured with no change"
    )
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument(
        "--client-loop",
        choices=("uvloop", "asyncio"),
        default="uvloop" if _has_uvloop() else "asyncio",
        help="the client processes' event loop (uvloop, when installed: it costs the "
        "clients less CPU, which they take from the registry on a shared machine)",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="registry processes (`ropa serve --workers`)"
    )
    parser.add_argument("--registry-log", type=Path, help="where the registry's log goes")
    parser.add_argument(
        "--tracemalloc",
        type=Path,
        metavar="DIR",
        help="trace the registry's heap (bench.traced; slow) and show what grew after the "
        "first 10 changes",
    )


def _has_uvloop() -> bool:
    # uvicorn[standard] brings it where it builds (not on Windows or PyPy).
    return importlib.util.find_spec("uvloop") is not None


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add_arguments(parser)
    parser.add_argument("--client", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    _raise_file_limit()
    if args.client:
        work = subscribers.run(args.client, args.subscribers, SUBSCRIPTION)
        if args.client_loop == "uvloop":
            import uvloop

            uvloop.run(work)
        else:
            asyncio.run(work)
        return
    header("bench.subscriptions", sys.argv[1:])
    with neo4j(heap="1g", page_cache="512m") as settings:
        asyncio.run(measure(settings, args))


if __name__ == "__main__":
    main()
