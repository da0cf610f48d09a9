"""`ropa document upgrade FILE`: rewrite a ropa/v1 document in the ropa/v2 form, plan first.

The rewrite is shown as a unified diff; it is written only with `--write`, and then atomically
(a temporary file beside FILE, flushed, then renamed over it), so FILE is either the old text or
the new one. The new text is validated before anything is written.
"""

from __future__ import annotations

import difflib
import os
import sys
import tempfile
from pathlib import Path

import click

from schema.document_upgrade import upgrade_text
from schema.errors import DocumentInvalid
from schema.validation import parse_document
from schema.yaml_reader import decode
from services.cli.exit_codes import Exit


def _fail(exc: DocumentInvalid, path: Path) -> None:
    for line in exc.render():
        click.echo(line, err=True)
    click.echo(f"{path}: not upgraded; nothing was written", err=True)
    sys.exit(Exit.INVALID)


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@click.group()
def document() -> None:
    """Work on ROPA document files."""


@document.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--write", is_flag=True, help="Write the upgraded document to FILE")
def upgrade(file: Path, write: bool) -> None:
    """Show (and with --write, make) the ropa/v2 form of a ropa/v1 document: each basis of
    an activity or flow cited with the law it rests on for that use."""
    try:
        text = decode(file.read_bytes(), str(file))
        new = upgrade_text(text, str(file))
        if new is not None:
            parse_document(new, f"{file} (upgraded)")
    except OSError as exc:
        click.echo(f"{file}: cannot read: {exc.strerror}", err=True)
        sys.exit(Exit.INVALID)
    except DocumentInvalid as exc:
        _fail(exc, file)
    if new is None:
        click.echo(f"{file}: already ropa/v2; nothing to do")
        return
    click.echo(
        "".join(
            difflib.unified_diff(
                text.splitlines(keepends=True),
                new.splitlines(keepends=True),
                fromfile=str(file),
                tofile=f"{file} (ropa/v2)",
            )
        ),
        nl=False,
    )
    if not write:
        click.echo(f"{file}: this is the plan; run again with --write to write it")
        return
    _write_atomically(file, new)
    click.echo(f"{file}: upgraded to ropa/v2")
