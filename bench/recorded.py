"""Benchmark `recordedAt`: one school's `recipients` in a past record against today's record.

    python -m bench.recorded --schools 100

Over the synthetic register (bench.synthetic, as bench.lineage loads it), executes the same
`recipients` operation on the registry's own schema and loaders, in this process, as a DPO of
one random school: today's record (answered by the lineage statement) and the record as
recorded at a moment after the load (rebuilt from the change log: graph.read.recorded, the
school's register and the public lists), interleaved, each executed (no response cache here):
the past record rebuilt (the record cache emptied first: graph.read.record_cache), then a new
question (another `asOf`) of the same record, which the record cache holds. Then the same past
question for an admin, whose scope rebuilds every register. Not a test: it
prints numbers, it asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time

from bench.common import Registry, Result, percentiles
from bench.lineage import run_on_synthetic
from graph.database import Database, open_database
from graph.read import record_cache
from graph.settings import Neo4jSettings
from schema.access.principal import Principal, Role, admin
from schema.graphql.schema import build_schema
from services.registry.loaders import build_context

QUERY = """
query ($category: String!, $controller: String, $asOf: Date, $recordedAt: DateTime) {
  recipients(category: $category, controller: $controller, asOf: $asOf,
             recordedAt: $recordedAt) {
    organisation { id name }
    paths { hops { kind from { id } to { id } activity { id } legalBases { id } } }
  }
}
"""


async def _once(db: Database, principal: Principal, variables: dict[str, object]) -> float:
    context = build_context(db)
    context.principal = principal
    started = time.perf_counter()
    result = await build_schema().execute(QUERY, variable_values=variables, context_value=context)
    elapsed = time.perf_counter() - started
    if result.errors:
        raise RuntimeError(f"the operation failed: {result.errors}")
    return elapsed


async def measure(
    settings: Neo4jSettings, server: Registry, args: argparse.Namespace
) -> list[Result]:
    """Time today's and a past record's `recipients`, interleaved; print and return them."""
    rng = random.Random(11)
    moment = dt.datetime.now(dt.UTC).isoformat()
    today_s: list[float] = []
    past_s: list[float] = []
    kept_s: list[float] = []
    every_s: list[float] = []
    async with open_database(settings) as db:
        cache = record_cache.of(db)
        for i in range(args.warmup + args.requests):
            school = f"school-{rng.randrange(args.schools)}"
            dpo = Principal(name="bench", role=Role.DPO, registers=frozenset({school}))
            asked = {"category": args.category, "asOf": args.as_of, "controller": school}
            today = await _once(db, dpo, {**asked, "recordedAt": None})
            cache.clear()
            past = await _once(db, dpo, {**asked, "recordedAt": moment})
            # Another question of the same record: the day after, from the kept record.
            later = (dt.date.fromisoformat(args.as_of) + dt.timedelta(days=1 + i)).isoformat()
            kept = await _once(db, dpo, {**asked, "asOf": later, "recordedAt": moment})
            if i >= args.warmup:
                today_s.append(today)
                past_s.append(past)
                kept_s.append(kept)
        for _ in range(args.admin_requests):
            asked = {"category": args.category, "asOf": args.as_of, "controller": "school-0"}
            cache.clear()
            every_s.append(await _once(db, admin("bench"), {**asked, "recordedAt": moment}))
    today_ms, past_ms, every_ms = percentiles(today_s), percentiles(past_s), percentiles(every_s)
    kept_ms = percentiles(kept_s)
    print(
        f"recipients(category: {args.category!r}, asOf: {args.as_of}, controller: one school) "
        f"on {args.schools} schools, {args.requests} requests each, interleaved, in-process:"
    )
    print(f"{'':36}{'p50':>10}{'p95':>10}{'p99':>10}")
    for name, row in (
        ("today's record (a DPO of the school)", today_ms),
        ("recordedAt (its register rebuilt)", past_ms),
        ("recordedAt (the record cache's)", kept_ms),
        (f"recordedAt, admin ({args.schools} rebuilt)", every_ms),
    ):
        print(f"{name:36}" + "".join(f"{row[k]:>8.1f}ms" for k in ("p50", "p95", "p99")))
    return [
        Result("recipients, one school, today's record: p50", today_ms["p50"], "ms"),
        Result("recipients, one school, recordedAt (past record): p50", past_ms["p50"], "ms"),
        Result(
            "recipients, one school: recordedAt p50 / today's p50",
            past_ms["p50"] / today_ms["p50"],
            "x",
        ),
        Result("recipients, one school, recordedAt (record cached): p50", kept_ms["p50"], "ms"),
        Result(
            "recipients, one school: recordedAt cached p50 / today's p50",
            kept_ms["p50"] / today_ms["p50"],
            "x",
        ),
        Result(
            f"recipients, recordedAt, admin (every register of {args.schools}): p50",
            every_ms["p50"],
            "ms",
        ),
    ]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """This benchmark's options."""
    parser.add_argument("--schools", type=int, default=100)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--admin-requests", type=int, default=3)
    parser.add_argument("--category", default="safeguarding")
    parser.add_argument("--as-of", default="2022-06-01")


def main() -> None:
    """Command line entry point."""
    run_on_synthetic("bench.recorded", __doc__, add_arguments, measure)


if __name__ == "__main__":
    main()
