"""Running a piece of CLI work against Neo4j, with an unreachable server as a clean exit."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click

from graph.database import Database, open_database
from schema.errors import DatabaseUnavailable
from services.cli.settings import CliSettings

T = TypeVar("T")

EXIT_UNAVAILABLE = 3


def run_db(settings: CliSettings, work: Callable[[Database], Awaitable[T]]) -> T:
    """`work(db)` on the configured database; exit 3 with a message when Neo4j is unreachable."""

    async def main() -> T:
        async with open_database(settings.neo4j()) as db:
            return await work(db)

    try:
        return asyncio.run(main())
    except DatabaseUnavailable as exc:
        click.echo(f"error: {exc} (NEO4J_URI={settings.neo4j_uri})", err=True)
        sys.exit(EXIT_UNAVAILABLE)
