"""Webhook throughput: `python -m bench.webhooks [--endpoints K] [--changes N]`.

Starts a private Neo4j (or, with --external, uses the one NEO4J_* names), K receivers on
loopback in a child process, registers K endpoints, records N sub-processor changes through the
real write path, then starts the notifier and times how long it takes every receiver to get
every change. Prints deliveries per second, and checks each receiver saw them in order.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import sys
import tempfile
import time
from collections.abc import Coroutine, Sequence
from multiprocessing.sharedctypes import SynchronizedArray
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bench.common import header
from graph import from_document, migrate, register, webhooks
from graph.database import Database, open_database
from graph.neo4j_server import LocalNeo4j, free_port
from graph.secret_box import SecretBox, new_key
from graph.settings import Neo4jSettings
from graph.webhook_targets import WebhookTargetSettings
from schema.validation import parse_document
from schema.webhook_url import TargetPolicy
from services.notifier.delivery import Notifier
from services.notifier.sender import Sender, client
from services.notifier.settings import NotifierSettings

_OK = b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n"


async def _receive(
    port: int, slot: int, counts: SynchronizedArray[int], disorder: SynchronizedArray[int]
) -> None:
    last = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal last
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                sequence = json.loads(await reader.readexactly(length))["data"]["sequence"]
                if sequence <= last:
                    disorder[slot] += 1
                last = sequence
                counts[slot] += 1
                writer.write(_OK)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def _receivers(
    ports: Sequence[int], counts: SynchronizedArray[int], disorder: SynchronizedArray[int]
) -> None:
    async def main() -> None:
        await asyncio.gather(*(_receive(p, i, counts, disorder) for i, p in enumerate(ports)))

    asyncio.run(main())


def _document(engagements: int, version: int, changed: int) -> str:
    processors = [f"proc-{p}" for p in range(4)]
    return json.dumps(
        {
            "version": "ropa/v1",
            "register": {"id": "bench", "name": "Benchmark", "owner": "bench-school"},
            "organisations": [
                {"id": o, "name": o, "kind": "company"}
                for o in ["bench-school", "bench-host", *processors]
            ],
            "engagements": [
                {
                    "id": f"bench-{i}",
                    "processor": processors[i % len(processors)],
                    "sub_processor": "bench-host",
                    # The first `changed` engagements get the new version's purpose.
                    "purpose": f"Hosting v{version if i < changed else 0}",
                }
                for i in range(engagements)
            ],
        }
    )


async def _apply(db: Database, text: str) -> int:
    doc = parse_document(text)
    plan = await register.apply(db, "bench", from_document.entities(doc), "bench")
    return len(plan.changes)


async def _run(args: argparse.Namespace, neo4j: Neo4jSettings) -> dict[str, Any]:
    ports = [free_port() for _ in range(args.endpoints)]
    ctx = multiprocessing.get_context("spawn")
    counts: SynchronizedArray[int] = ctx.Array("q", args.endpoints)
    disorder: SynchronizedArray[int] = ctx.Array("q", args.endpoints)
    receivers = ctx.Process(target=_receivers, args=(ports, counts, disorder), daemon=True)
    receivers.start()
    settings = NotifierSettings(
        neo4j=neo4j,
        webhook_targets=WebhookTargetSettings(allow_loopback=True),
        checkpoint_every=args.checkpoint_every,
        poll_interval=0.05,
    )
    try:
        async with open_database(settings.neo4j) as db:
            await migrate.migrate(db)
            per_tx = args.per_transaction
            await _apply(db, _document(per_tx, 0, 0))
            policy = TargetPolicy(allow_loopback=True)
            # Secrets encrypted as in production, so that opening them is part of the cost.
            box = SecretBox([new_key()])
            endpoints = [
                (
                    await webhooks.register(
                        db, f"http://127.0.0.1:{p}/", None, "bench", policy, box=box
                    )
                )
                for p in ports
            ]
            started = time.monotonic()
            recorded = 0
            for version in range(1, args.changes // per_tx + 1):
                recorded += await _apply(db, _document(per_tx, version, per_tx))
            write_seconds = time.monotonic() - started
            async with client(settings.timeout, settings.concurrency) as http:
                sender = Sender(http, settings.policy, settings.timeout)
                notifier = Notifier(db, settings, sender, box)
                started = time.monotonic()
                loop = asyncio.create_task(notifier.run())
                # The counts live in the receivers' process: polling is the way to read them.
                while min(counts[:]) < recorded:  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
                seconds = time.monotonic() - started
                loop.cancel()
                await notifier.aclose()
            for registration in endpoints:
                await webhooks.remove(db, registration.endpoint.id)
    finally:
        receivers.terminate()
    total = sum(counts[:])
    return {
        "endpoints": args.endpoints,
        "changes": recorded,
        "checkpoint_every": args.checkpoint_every,
        "write_seconds": round(write_seconds, 2),
        "deliver_seconds": round(seconds, 2),
        "deliveries": total,
        "deliveries_per_second": round(total / seconds),
        "changes_per_second_per_endpoint": round(recorded / seconds),
        "out_of_order": sum(disorder[:]),
    }


def _loop_run(work: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
    # uvloop when uvicorn[standard] brought it, as `ropa serve` runs the notifier on it.
    try:
        import uvloop
    except ImportError:
        return asyncio.run(work)
    return uvloop.run(work)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print its numbers as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--endpoints", type=int, default=4)
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--per-transaction", type=int, default=100)
    parser.add_argument("--checkpoint-every", type=int, default=20)
    parser.add_argument("--external", action="store_true", help="use the Neo4j NEO4J_* names")
    args = parser.parse_args(argv)
    header("bench.webhooks", list(sys.argv[1:] if argv is None else argv))
    if args.external:
        result = _loop_run(_run(args, Neo4jSettings()))
    else:
        with tempfile.TemporaryDirectory(prefix="ropa-bench-") as home:
            server = LocalNeo4j(home=Path(home), port=free_port(), heap="1g", page_cache="512m")
            password = server.start()
            try:
                neo4j = Neo4jSettings(uri=server.uri, password=SecretStr(password))
                result = _loop_run(_run(args, neo4j))
            finally:
                server.stop()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
