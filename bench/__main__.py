"""`make bench`: a short run of every benchmark on one Neo4j, then one table of the targets.

    python -m bench [--schools 30] [--subscribers 100] [--changes 20]

The lineage, list and throughput benchmarks share one synthetic register; the subscription
benchmark replaces it with its own small register, so it runs last. Sizes are small so that
the whole run takes a few minutes; the modules' own defaults (and the sizes in the issue) are
for a quiet machine. Each benchmark prints its command line and the load average beside its
numbers. Not a test: nothing here fails when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys

from bench import lineage, lists, recorded, subscriptions, throughput
from bench.common import Result, header, load_average, neo4j, registry, say


def _args(module: object, argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)  # type: ignore[attr-defined]
    return parser.parse_args(argv)


def table(results: list[Result]) -> str:
    """The results as a Markdown table against their targets."""
    lines = ["| measure | value | target | met |", "| --- | --- | --- | --- |"]
    for r in results:
        target = "" if r.target is None else f"{'>=' if r.higher else '<='} {r.target:g}{r.unit}"
        met = {None: "", True: "yes", False: "NO"}[r.met]
        lines.append(f"| {r.name} | {r.value:.2f}{r.unit} | {target} | {met} |")
    return "\n".join(lines)


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--schools", type=int, default=30)
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--changes", type=int, default=20)
    given = parser.parse_args()
    header("bench", sys.argv[1:])
    schools = ["--schools", str(given.schools)]
    argv = {
        "lineage": [*schools, "--requests", "60", "--warmup", "10", "--all-requests", "2"],
        "lists": [*schools, "--requests", "30", "--warmup", "5"],
        "recorded": [*schools, "--requests", "20", "--warmup", "3", "--admin-requests", "2"],
        "throughput": [*schools, "--seconds", "5", "--rounds", "1"],
        "subscriptions": [
            *("--subscribers", str(given.subscribers), "--changes", str(given.changes)),
            *("--interval", "1", "--warmup", "2"),
        ],
    }
    modules = {
        "lineage": lineage,
        "lists": lists,
        "recorded": recorded,
        "throughput": throughput,
        "subscriptions": subscriptions,
    }
    runs = {name: _args(modules[name], argv[name]) for name in argv}
    results: list[Result] = []
    with neo4j(heap="2g", page_cache="1g") as settings:
        asyncio.run(lineage._loaded(settings, given.schools))
        header("bench.lineage", argv["lineage"])
        with registry(settings) as server:
            results += asyncio.run(lineage.measure(settings, server, runs["lineage"]))
            header("bench.lists", argv["lists"])
            results += asyncio.run(lists.measure(settings, server, runs["lists"]))
            header("bench.recorded", argv["recorded"])
            results += asyncio.run(recorded.measure(settings, server, runs["recorded"]))
        header("bench.throughput", argv["throughput"])
        with registry(settings, workers=runs["throughput"].workers) as server:
            results += asyncio.run(throughput.measure(settings, server, runs["throughput"]))
        say("the subscription benchmark replaces the graph with its own register")
        header("bench.subscriptions", argv["subscriptions"])
        results += asyncio.run(subscriptions.measure(settings, runs["subscriptions"]))
    print(
        f"\n$ python -m bench {shlex.join(sys.argv[1:])}; load average at the end: {load_average()}"
    )
    print(table(results))


if __name__ == "__main__":
    main()
