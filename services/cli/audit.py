"""`ropa audit`: check the hash-chained change log, seal what predates it, export a register's log.

Exit codes (services/cli/exit_codes.py): 0 the chain holds (or the work is done), 3 Neo4j
unreachable, 4 unknown register, 5 the chain is broken (verify names the first bad sequence).
"""

from __future__ import annotations

import datetime as dt
import json
import sys

import click

from graph import audit as graph_audit
from graph.database import Database
from services.cli.database import run_db
from services.cli.exit_codes import Exit
from services.cli.settings import CliSettings

_PAGE = 1000


def _err(message: str) -> None:
    click.echo(message, err=True)


@click.group()
def audit() -> None:
    """The audit trail: the hash-chained change log."""


@audit.command()
def verify() -> None:
    """Walk the whole change log and check its hash chain; exit 5 naming the first bad event."""
    result = run_db(CliSettings(), graph_audit.verify)
    if result.broken is not None:
        _err(f"audit chain broken at {result.broken}")
        _err(f"the {result.checked} event(s) before it hold; {result.last} recorded in all")
        sys.exit(Exit.AUDIT_BROKEN)
    click.echo(f"audit chain intact: {result.checked} event(s); head {result.head or '-'}")


@audit.command()
def seal() -> None:
    """Chain the events recorded before the hash chain existed (once, after upgrading)."""
    sealed = run_db(CliSettings(), graph_audit.seal)
    if sealed:
        click.echo(
            f"sealed {sealed} event(s) recorded before the chain; `ropa audit verify` checks"
        )
    else:
        click.echo("nothing to seal: every event is chained")


def _since(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


@audit.command(name="export")
@click.option("--register", "register_id", required=True, help="The register's id")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"]),
    default=None,
    help="Only events recorded from then on (a date is its midnight UTC)",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "json"]),
    default="jsonl",
    show_default=True,
    help="One JSON object a line, or one JSON list",
)
def export_command(register_id: str, since: dt.datetime | None, fmt: str) -> None:
    """Write a register's whole change log to stdout, oldest first, with actors and hashes."""
    start = _since(since)

    async def work(db: Database) -> int:
        exists = await db.read(graph_audit.register_exists, register_id)
        after, written = 0, 0
        if fmt == "json":
            click.echo("[", nl=False)
        while True:
            page = await db.read(graph_audit.register_log_in, register_id, after, _PAGE, start)
            if not exists and not page.total:
                return -1
            for event in page.events:
                line = json.dumps(event.as_json(), sort_keys=True, ensure_ascii=False)
                if fmt == "json":
                    click.echo(("," if written else "") + "\n  " + line, nl=False)
                else:
                    click.echo(line)
                written += 1
            if not page.has_next:
                break
            after = page.events[-1].sequence
        if fmt == "json":
            click.echo("\n]" if written else "]")
        return written

    written = run_db(CliSettings(), work)
    if written < 0:
        _err(f"error: no register '{register_id}' and no change recorded for one")
        sys.exit(Exit.NOT_FOUND)
    _err(f"register {register_id}: {written} event(s)")
