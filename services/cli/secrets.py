"""`ropa secrets`: keys for ROPA_SECRET_KEY, and re-encrypting every stored webhook secret.

Rotating: make a key (`ropa secrets new-key`), give the registry, the notifier and this command
ROPA_SECRET_KEY="NEW,OLD" (the first seals, all open), run `ropa secrets rotate --dry-run` to
see the plan, then `ropa secrets rotate`; once it reports every secret current, drop OLD. The
same command encrypts secrets stored in the clear by earlier versions (or a keyless dev stack).

Exit codes: 0 done (or nothing to do), 1 a key that cannot be used, or a stored secret that no
key opens (nothing is written), 3 Neo4j unreachable.
"""

from __future__ import annotations

import sys
from collections import Counter

import click

from graph import webhooks
from graph.database import Database
from graph.secret_box import SecretBox, SecretKeyInvalid, SecretUnreadable, new_key
from services.cli.database import run_db
from services.cli.exit_codes import Exit
from services.cli.settings import CliSettings


@click.group()
def secrets() -> None:
    """Webhook signing secrets at rest (ROPA_SECRET_KEY)."""


@secrets.command(name="new-key")
def new_key_command() -> None:
    """Print a fresh key for ROPA_SECRET_KEY."""
    click.echo(new_key())


def _summary(plan: list[webhooks.SecretRotation]) -> str:
    counts = Counter(step.action for step in plan)
    return (
        f"{counts['encrypt']} to encrypt (stored in the clear), "
        f"{counts['re-encrypt']} to re-encrypt (under an older key), "
        f"{counts['current']} current"
    )


@secrets.command()
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing")
def rotate(dry_run: bool) -> None:
    """Seal every stored webhook secret under the first key of ROPA_SECRET_KEY."""
    settings = CliSettings()
    try:
        box = SecretBox.from_setting(
            settings.secret_key(), required=True, previous=settings.ropa_secret_key_previous
        )
    except SecretKeyInvalid as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(Exit.INVALID)

    async def work(db: Database) -> list[webhooks.SecretRotation]:
        plan = await db.read(webhooks.rotation_plan_in, box)
        for step in plan:
            if step.action != "current":
                click.echo(f"~ {step.action} webhook {step.endpoint_id}")
        click.echo(f"plan (key {box.key_id}): {_summary(plan)}")
        if dry_run or all(step.action == "current" for step in plan):
            return plan
        return await db.write(webhooks.rotate_in, box)

    try:
        done = run_db(settings, work)
    except SecretUnreadable as exc:
        click.echo(f"error: {exc}; nothing was written", err=True)
        sys.exit(Exit.INVALID)
    changed = sum(step.action != "current" for step in done)
    if dry_run:
        click.echo("dry run: nothing written")
    elif changed:
        click.echo(f"sealed {changed} secret(s) under key {box.key_id}")
    else:
        click.echo("every secret is current; nothing written")
