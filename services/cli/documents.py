"""The ROPA documents a command reads from files: `FILE...` and `--file FILE` (repeatable),
each a YAML document or a folder of them.

Each document is a register. `validate`, `plan` and `apply` take every one as its own
register; `check`, `export` and `notice` read them as one record (`schema.document_merge`), so
that the school's register with School Transition Limited's shows the school's lineage through
STL's sub-processors.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from graph import to_document
from schema.document import RopaDocument
from schema.document_merge import Merged, merge, registers_not_given
from schema.errors import DocumentInvalid
from schema.validation import load_document
from services.cli.exit_codes import Exit

F = TypeVar("F", bound=Callable[..., Any])

_PATH = click.Path(path_type=Path)


def files_arguments(function: F) -> F:
    """`FILE...` and `--file FILE` (repeatable): the command gets both, as `files` and
    `file_options`; `paths` joins them."""
    function = click.option(
        "--file",
        "file_options",
        type=_PATH,
        multiple=True,
        help="A ROPA document, or a folder of them (*.yaml); may be given several times",
    )(function)
    return click.argument("files", nargs=-1, type=_PATH)(function)


def _err(message: str) -> None:
    click.echo(message, err=True)


def paths(*groups: Sequence[Path]) -> list[Path]:
    """The files named, in order, each folder replaced by its `*.yaml` and `*.yml` files."""
    found: list[Path] = []
    for path in (p for group in groups for p in group):
        if path.is_dir():
            inside = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
            if not inside:
                raise click.BadParameter(f"{path}: a folder with no *.yaml file", param_hint="FILE")
            found.extend(inside)
        else:
            found.append(path)
    return found


def load_all(files: Sequence[Path]) -> list[RopaDocument]:
    """Every document, validated; exit INVALID (nothing written) after printing every
    problem of every file, if any is invalid."""
    documents: list[RopaDocument] = []
    invalid = False
    for path in files:
        try:
            documents.append(load_document(path))
        except DocumentInvalid as exc:
            for line in exc.render():
                _err(line)
            _err(f"{path}: invalid, {len(exc.problems)} problem(s); nothing was written")
            invalid = True
    if invalid:
        sys.exit(Exit.INVALID)
    registers = [doc.register_info.id for doc in documents]
    twice = sorted({r for r in registers if registers.count(r) > 1})
    if twice:
        _err(f"error: register {', '.join(twice)} is given twice; give each register once")
        sys.exit(Exit.INVALID)
    return documents


def merged(documents: Sequence[RopaDocument]) -> Merged:
    """The documents as one record (exit INVALID if the union does not hold together); each
    entity they describe differently is a warning on stderr."""
    try:
        joined = merge(documents, " + ".join(d.register_info.id for d in documents))
    except DocumentInvalid as exc:
        for line in exc.render():
            _err(line)
        _err("the documents given do not fit together as one record")
        sys.exit(Exit.INVALID)
    for conflict in joined.conflicts:
        _err(f"warning: {conflict.render()}")
    return joined


def record(files: Sequence[Path], controller: str | None) -> RopaDocument:
    """The record read from `files`: every document joined, cut to `controller` (an id;
    default: the first document's owner when several are given).

    Each processor of the record that keeps a register not among the files is a note on
    stderr: the record lacks its sub-processors.
    """
    documents = load_all(files)
    doc = merged(documents).document
    if controller is None and len(documents) > 1:
        controller = doc.register_info.owner
    if controller is not None:
        doc = to_document.for_controller(doc, controller)
    for line in registers_not_given(doc, documents):
        _err(f"note: {line}; give it with another --file")
    return doc
