"""Running a command's work against Neo4j, with the connection failures as one clear line each."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click

from graph.database import Database, open_database
from schema.errors import DatabaseAuthFailed, DatabaseUnavailable
from services.cli.exit_codes import Exit
from services.cli.settings import CliSettings

T = TypeVar("T")


def run_db(settings: CliSettings, work: Callable[[Database], Awaitable[T]]) -> T:
    """Run `work` with a Database; exit with Exit.AUTH_FAILED or Exit.UNAVAILABLE, and a line
    naming the server, when Neo4j refuses the credentials or cannot be reached."""

    async def main() -> T:
        async with open_database(settings.neo4j()) as db:
            return await work(db)

    try:
        return asyncio.run(main())
    except DatabaseAuthFailed as exc:
        click.echo(
            f"error: {exc}; set NEO4J_USER and NEO4J_PASSWORD. Neo4j: {settings.where()}", err=True
        )
        sys.exit(Exit.AUTH_FAILED)
    except DatabaseUnavailable as exc:
        click.echo(f"error: {exc}. Neo4j: {settings.where()}", err=True)
        sys.exit(Exit.UNAVAILABLE)
