"""`ropa check`, `ropa export` and `ropa notice`: the record's gaps, the record itself, the notice.

Each reads the record from YAML files (`FILE...` or `--file`, repeatable, read as one record:
`services.cli.documents`) or from Neo4j (NEO4J_*), as
it was recorded at `--recorded-at` (default: now; only in the graph), and keeps what is valid on
`--as-of` (default: today).
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from graph import to_document
from graph.database import Database
from graph.read.refs import AmbiguousReference
from schema import recorded_at as moments
from schema.compliance.check import check as run_checks
from schema.compliance.issues import Severity, has_errors
from schema.document import RopaDocument
from schema.errors import DocumentInvalid, NotFound
from schema.notice.assumptions import assumptions as notice_assumptions
from schema.notice.assumptions import mark as mark_assumed
from schema.notice.assumptions import to_markdown as assumptions_markdown
from schema.notice.compose import compose
from schema.notice.draft import NoticeHasPlaceholders, publish
from schema.notice.model import Audience
from schema.notice.render import NoticeFormat
from schema.notice.render import render as render_notice
from schema.ropa_export.formats import ExportFormat
from schema.ropa_export.formats import render as render_export
from schema.ropa_export.records import build_export
from services.cli import documents
from services.cli.database import run_db
from services.cli.exit_codes import Exit
from services.cli.settings import CliSettings

_DATE = click.DateTime(formats=["%Y-%m-%d"])
# The one `--recorded-at` of check, export and notice; `_recorded` reads it.
_RECORDED_AT = click.option(
    "--recorded-at",
    default=None,
    help="Read the record as recorded then (YYYY-MM-DD: its end, or an ISO 8601 moment; "
    "default now), rebuilt from the change log",
)


def _err(message: str) -> None:
    click.echo(message, err=True)


def _day(as_of: dt.datetime | None) -> dt.date | None:
    return as_of.date() if as_of is not None else None


def _recorded(text: str | None, files: list[Path]) -> dt.datetime | None:
    if text is not None and files:
        raise click.UsageError("--recorded-at reads the graph's change log; a file has none")
    try:
        return moments.parse(text, dt.datetime.now(dt.UTC))
    except moments.BadRecordedAt as exc:
        raise click.BadParameter(str(exc), param_hint="--recorded-at") from None


def _from_graph(controller: str | None, at: dt.datetime | None) -> RopaDocument:
    async def read(db: Database) -> RopaDocument:
        return await to_document.controller_document(db, controller, at)

    try:
        return run_db(CliSettings(), read)
    except (NotFound, AmbiguousReference, to_document.ControllerAmbiguous) as exc:
        _err(f"error: {exc}")
        sys.exit(Exit.NOT_FOUND)
    except DocumentInvalid as exc:
        for line in exc.render():
            _err(line)
        sys.exit(Exit.INVALID)


def _document(
    files: list[Path], controller: str | None, at: dt.datetime | None
) -> tuple[RopaDocument, str | None]:
    """The record, and the id of the controller asked for (None: the register's owner).

    In the graph, `controller` is an id or a name in any case, resolved as the API resolves it;
    in files (every one read as one record), an id.
    """
    if files:
        return documents.record(files, controller), controller
    doc = _from_graph(controller, at)
    return doc, (doc.register_info.owner if controller is not None else None)


def _write(data: bytes, output: Path | None) -> None:
    if output is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        output.write_bytes(data)
        _err(f"wrote {output}")


@click.command()
@documents.files_arguments
@click.option("--graph", "from_graph", is_flag=True, help="Check the record held in Neo4j")
@click.option(
    "--controller", default=None, help="Only this controller's activities (id, or name in graph)"
)
@click.option("--as-of", type=_DATE, default=None, help="The day to check (default: today)")
@_RECORDED_AT
def check(
    files: tuple[Path, ...],
    file_options: tuple[Path, ...],
    from_graph: bool,
    controller: str | None,
    as_of: dt.datetime | None,
    recorded_at: str | None,
) -> None:
    """Find compliance gaps in the FILEs (read as one record) or in the graph; exit 1 if any
    is an error."""
    paths = documents.paths(files, file_options)
    if bool(paths) == from_graph:
        raise click.UsageError("give either FILEs (or --file) or --graph")
    day = _day(as_of)
    doc, _ = _document(paths, controller, _recorded(recorded_at, paths))
    when = day or dt.date.today()
    issues = run_checks(doc, when)
    source = " + ".join(map(str, paths)) if paths else f"graph register {doc.register_info.id}"
    for severity in (Severity.ERROR, Severity.WARNING):
        group = [i for i in issues if i.severity is severity]
        if group:
            click.echo(f"{severity.value}s ({len(group)}):")
            for issue in group:
                click.echo(f"  {issue.render()}")
    errors = sum(1 for i in issues if i.severity is Severity.ERROR)
    click.echo(
        f"{source}: {errors} error(s), {len(issues) - errors} warning(s) on {when.isoformat()}"
    )
    if has_errors(issues):
        sys.exit(Exit.INVALID)


@click.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice([f.value for f in ExportFormat]),
    required=True,
    help="ICO template columns as CSV or XLSX, or JSON",
)
@click.option(
    "--controller", default=None, help="Id, or name in the graph (default: the register's owner)"
)
@click.option("--as-of", type=_DATE, default=None, help="What was valid that day (default today)")
@_RECORDED_AT
@documents.files_arguments
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None)
def export(
    fmt: str,
    controller: str | None,
    as_of: dt.datetime | None,
    recorded_at: str | None,
    files: tuple[Path, ...],
    file_options: tuple[Path, ...],
    output: Path | None,
) -> None:
    """Export the record of processing activities (controller and processor records), from
    the graph or from FILEs (read as one record)."""
    day = _day(as_of)
    paths = documents.paths(files, file_options)
    doc, controller_id = _document(paths, controller, _recorded(recorded_at, paths))
    try:
        record = build_export(doc, day or dt.date.today(), controller_id)
    except NotFound as exc:
        _err(f"error: {exc}")
        sys.exit(Exit.NOT_FOUND)
    _write(render_export(record, ExportFormat(fmt)), output)


@click.command()
@click.option(
    "--controller", default=None, help="Id, or name in the graph (default: the register's owner)"
)
@click.option("--audience", type=click.Choice([a.value for a in Audience]), required=True)
@click.option("--format", "fmt", type=click.Choice([f.value for f in NoticeFormat]), default="md")
@click.option("--as-of", type=_DATE, default=None, help="What was valid that day (default today)")
@_RECORDED_AT
@documents.files_arguments
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None)
@click.option(
    "--draft",
    is_flag=True,
    help="Write a draft (marked as one), even if it prints placeholders the record holds",
)
@click.option(
    "--assumptions",
    "assumptions_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Also write, for the DPO (never published), the assumptions the notice rests on",
)
def notice(
    controller: str | None,
    audience: str,
    fmt: str,
    as_of: dt.datetime | None,
    recorded_at: str | None,
    files: tuple[Path, ...],
    file_options: tuple[Path, ...],
    output: Path | None,
    draft: bool,
    assumptions_path: Path | None,
) -> None:
    """Write a privacy notice for an audience from the register.

    A notice that would print a placeholder is refused (exit 10) unless --draft is given.
    """
    day = _day(as_of)
    paths = documents.paths(files, file_options)
    doc, controller_id = _document(paths, controller, _recorded(recorded_at, paths))
    try:
        when = day or dt.date.today()
        found = notice_assumptions(doc, controller_id, Audience(audience), when)
        composed = mark_assumed(compose(doc, controller_id, Audience(audience), when), found)
        written = publish(doc, composed, draft=draft)
    except NotFound as exc:
        _err(f"error: {exc}")
        sys.exit(Exit.NOT_FOUND)
    except NoticeHasPlaceholders as exc:
        _err(f"error: {exc} with --draft")
        sys.exit(Exit.PLACEHOLDERS)
    if assumptions_path is not None:
        _write(assumptions_markdown(found, written.title, when).encode("utf-8"), assumptions_path)
    _write(render_notice(written, NoticeFormat(fmt)).encode("utf-8"), output)
