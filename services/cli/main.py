"""The `ropa` command: validate, plan and apply ROPA documents; migrate; run the local stack."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from pydantic import ValidationError

from graph import from_document, migrate, register, register_set
from graph.database import Database
from graph.settings import setting_problems
from schema.errors import RopaError
from services.cli import documents
from services.cli.database import run_db
from services.cli.exit_codes import Exit
from services.cli.plan_lines import describe as _describe
from services.cli.plan_lines import summary as _summary
from services.cli.settings import CliSettings


def _err(message: str) -> None:
    click.echo(message, err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Records of Processing Activities (UK GDPR Article 30) in Neo4j."""


def _files(files: tuple[Path, ...], file_options: tuple[Path, ...]) -> list[Path]:
    found = documents.paths(files, file_options)
    if not found:
        raise click.UsageError("give a FILE (or --file FILE), a ROPA document or a folder of them")
    return found


@cli.command()
@documents.files_arguments
def validate(files: tuple[Path, ...], file_options: tuple[Path, ...]) -> None:
    """Check ROPA documents; print every problem as FILE:LINE: path: reason.

    Several documents are also checked as one record: what they share must agree.
    """
    paths = _files(files, file_options)
    docs = documents.load_all(paths)
    for path, doc in zip(paths, docs, strict=True):
        click.echo(
            f"{path}: valid ({len(doc.activities)} activities, {len(doc.flows)} flows, "
            f"{len(doc.engagements)} engagements)"
        )
    if len(docs) > 1:
        documents.merged(docs)


def _desired(paths: list[Path]) -> list[register_set.Desired]:
    docs = documents.load_all(paths)
    if len(docs) > 1:
        # What they share but describe differently would flip on every apply: say so.
        documents.merged(docs)
    return [(doc.register_info.id, from_document.entities(doc)) for doc in docs]


@cli.command()
@documents.files_arguments
def plan(files: tuple[Path, ...], file_options: tuple[Path, ...]) -> None:
    """Show what applying the documents would create, change and remove, register by register."""
    settings = CliSettings()
    desired = _desired(_files(files, file_options))
    for result in run_db(settings, lambda db: register_set.plan_all(db, desired)):
        for change in result.changes:
            click.echo(_describe(change))
        click.echo(
            f"register {result.register}: " + ("no changes" if result.empty else _summary(result))
        )


@cli.command()
@documents.files_arguments
@click.option("--actor", default=None, help="Who makes the change (default: $ROPA_ACTOR or $USER)")
def apply(files: tuple[Path, ...], file_options: tuple[Path, ...], actor: str | None) -> None:
    """Make the graph match the documents (each its own register) in one transaction,
    recording a change event per change."""
    settings = CliSettings()
    desired = _desired(_files(files, file_options))
    who = actor or settings.actor

    async def work(db: Database) -> list[register.Plan]:
        return await register_set.apply_all(db, desired, who, progress=_err)

    for result in run_db(settings, work):
        if result.empty:
            click.echo(f"register {result.register}: already up to date; nothing written")
            continue
        for change in result.changes:
            click.echo(_describe(change))
        click.echo(
            f"register {result.register}: applied: {_summary(result).replace('to ', '')}; "
            f"{len(result.changes)} change events recorded as {who}"
        )


@cli.command(name="migrate")
def migrate_command() -> None:
    """Apply pending database migrations (constraints, indexes). Safe to rerun."""
    settings = CliSettings()
    applied = run_db(settings, lambda db: migrate.migrate(db, report=_err))
    click.echo(f"applied {len(applied)} migration(s)" if applied else "migrations up to date")


@cli.group()
def schema() -> None:
    """The exported contracts in schema/."""


@schema.command(name="export")
@click.option("--check", is_flag=True, help="Exit 1 if an exported file is stale")
def schema_export(check: bool) -> None:
    """Write the document JSON Schema (and the GraphQL SDL, once served) into schema/."""
    from schema.exports import exports

    stale = []
    for path, content in exports().items():
        if path.exists() and path.read_text(encoding="utf-8") == content:
            continue
        stale.append(path)
        if not check:
            path.write_text(content, encoding="utf-8")
            click.echo(f"wrote {path}")
    if check and stale:
        _err("stale: " + ", ".join(str(p) for p in stale) + "; run `ropa schema export`")
        sys.exit(Exit.INVALID)


@cli.command()
@click.option(
    "--example",
    "examples",
    type=click.Path(path_type=Path),
    multiple=True,
    help="ROPA document to apply once the database is up (may be given several times; "
    "default: every examples/*.yaml)",
)
@click.option(
    "--fresh",
    is_flag=True,
    help="Start from an empty local database (shows what it deletes, and asks first)",
)
@click.option("--yes", is_flag=True, help="With --fresh: delete without asking")
def dev(examples: tuple[Path, ...], fresh: bool, yes: bool) -> None:
    """Start the local stack (Neo4j, migrations, the examples, the services) in the foreground."""
    from services.cli.devstack import run_dev, shipped_examples

    sys.exit(run_dev(CliSettings(), examples or shipped_examples(), fresh, yes))


@cli.command()
@click.argument("service", type=click.Choice(["registry", "notifier"]))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=None, help="Default: 8000 registry, 8001 notifier")
@click.option("--workers", type=int, default=1, show_default=True)
def serve(service: str, host: str, port: int | None, workers: int) -> None:
    """Serve the registry (GraphQL, feeds) or the notifier (webhook delivery) with uvicorn."""
    from services.cli.allocator import run_on_chosen_allocator

    settings = CliSettings()
    try:
        # Before uvicorn is imported: this may start the command again on jemalloc.
        run_on_chosen_allocator(settings.ropa_allocator)
    except RopaError as exc:
        _err(f"ropa serve {service}: {exc}")
        sys.exit(Exit.INVALID)

    import uvicorn

    from services.observability.logs import LogSettings, dict_config
    from services.observability.workers import shared_by_workers

    # By import string, so that the CLI never imports another service's code.
    try:
        # Workers (spawned, so they inherit the environment) count into one set of metrics.
        with shared_by_workers(workers):
            uvicorn.run(
                f"services.{service}.app:create_app",
                factory=True,
                host=host,
                port=port or (8000 if service == "registry" else 8001),
                workers=workers,
                # X-Forwarded-* are believed only from ROPA_TRUSTED_PROXIES, by the registry.
                proxy_headers=False,
                # The sans-I/O implementation: uvicorn deprecates the legacy "websockets".
                ws="websockets-sansio",
                ws_ping_interval=settings.ropa_ws_ping_interval,
                ws_ping_timeout=settings.ropa_ws_ping_timeout,
                timeout_worker_healthcheck=settings.ropa_worker_healthcheck_timeout,
                # Frames are small JSON: compressing each per subscriber costs more CPU than
                # it saves.
                ws_per_message_deflate=False,
                lifespan="on",
                # JSON lines (or text under `make run`) for the app's loggers and uvicorn's.
                log_config=dict_config(LogSettings()),
            )
    except RopaError as exc:
        # A setting the app factory cannot use (token list, sign-in): one line, not a traceback.
        _err(f"ropa serve {service}: {exc}")
        sys.exit(Exit.INVALID)


def main() -> None:
    """Console entry point."""
    try:
        cli()
    except ValidationError as exc:
        # A setting from the environment that cannot be used: what and why, not a traceback.
        problems = setting_problems(exc)
        if problems is None:
            raise
        for problem in problems:
            _err(f"ropa: setting {problem}")
        sys.exit(Exit.INVALID)


# Compliance commands live in their own module; registered here so `ropa` lists them.
from services.cli.audit import audit  # noqa: E402
from services.cli.compliance import check, export, notice  # noqa: E402
from services.cli.document import document  # noqa: E402
from services.cli.secrets import secrets  # noqa: E402
from services.cli.subscribers import subscribers  # noqa: E402

cli.add_command(check)
cli.add_command(export)
cli.add_command(notice)
cli.add_command(audit)
cli.add_command(subscribers)
cli.add_command(secrets)
cli.add_command(document)
