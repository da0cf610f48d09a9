"""`ropa subscribers export|erase EMAIL`: access and erasure requests of e-mail subscribers.

The registry keeps, of a subscriber, only the address, the processor followed, whether it is
confirmed, whether it wants a digest, and when it subscribed and confirmed: `export` prints
all of it as JSON; `erase` shows what it will delete, then deletes it with any mail waiting
for the address (with --yes; without it, nothing is deleted).
"""

from __future__ import annotations

import json
import sys

import click

from graph import mail
from graph.database import Database
from schema.subscriptions import InvalidEmail, Subscription, normalise_email
from services.cli.database import run_db
from services.cli.exit_codes import Exit
from services.cli.settings import CliSettings


def _address(text: str) -> str:
    try:
        return normalise_email(text)
    except InvalidEmail as invalid:
        click.echo(str(invalid), err=True)
        sys.exit(Exit.INVALID)


def _json(found: Subscription) -> dict[str, object]:
    return {
        "email": found.email,
        "processor": found.processor_id,
        "confirmed": found.confirmed,
        "digest": found.digest,
        "subscribedAt": found.created_at.isoformat(),
        "confirmedAt": found.confirmed_at.isoformat() if found.confirmed_at else None,
    }


async def _by_email(db: Database, email: str) -> list[Subscription]:
    return await db.read(mail.by_email_in, email)


@click.group()
def subscribers() -> None:
    """E-mail subscribers: what is kept about an address, and its erasure."""


@subscribers.command(name="export")
@click.argument("email")
def export_command(email: str) -> None:
    """Print, as JSON, everything kept about EMAIL (an access request)."""
    address = _address(email)
    found = run_db(CliSettings(), lambda db: _by_email(db, address))
    click.echo(json.dumps({"email": address, "subscriptions": [_json(s) for s in found]}, indent=2))


@subscribers.command(name="erase")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Delete (without it, only show what would be)")
def erase_command(email: str, yes: bool) -> None:
    """Erase EMAIL: every subscription of it and any mail waiting for it."""
    address = _address(email)
    settings = CliSettings()
    found = run_db(settings, lambda db: _by_email(db, address))
    if not found:
        click.echo(f"{address}: nothing is kept about this address")
        return
    for s in found:
        state = "confirmed" if s.confirmed else "not confirmed"
        click.echo(f"- erase the subscription of {s.email} to {s.processor_id} ({state})")
    if not yes:
        click.echo(f"{address}: {len(found)} subscription(s) would be erased; rerun with --yes")
        return

    async def erase(db: Database) -> int:
        return await db.write(mail.erase_in, address)

    erased = run_db(settings, erase)
    click.echo(f"{address}: erased {erased} subscription(s) and the mail waiting for them")
