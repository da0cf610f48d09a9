"""The shipped example as the tests read it: the school's register with the register School
Transition Limited keeps as its processor, which declares the school's sub-processors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from graph import from_document, register, register_set
from graph.database import Database
from graph.register import Plan
from schema.document import RopaDocument
from schema.document_merge import merge
from schema.validation import load_document

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SCHOOL = EXAMPLES / "allestree-woodlands.yaml"
STL = EXAMPLES / "school-transition-limited.yaml"
# The school's record: its register first, then the one its processor keeps.
SCHOOL_RECORD = (SCHOOL, STL)


def school_record() -> RopaDocument:
    """The school's record read from both files, as `ropa check --file A --file B` reads it."""
    joined = merge([load_document(path) for path in SCHOOL_RECORD])
    if joined.conflicts:
        raise AssertionError([c.render() for c in joined.conflicts])
    return joined.document


async def apply_school_record(db: Database, actor: str = "tests") -> list[Plan]:
    """Apply both registers, as `ropa apply A B` does; each register's plan."""
    docs = [load_document(path) for path in SCHOOL_RECORD]
    return await register_set.apply_all(
        db, [(d.register_info.id, from_document.entities(d)) for d in docs], actor
    )


def stl_changed(engagement: str, purpose: str) -> RopaDocument:
    """STL's register with one engagement's purpose changed."""
    stl = load_document(STL)
    changed = [
        e.model_copy(update={"purpose": purpose}) if e.id == engagement else e
        for e in stl.engagements
    ]
    return stl.model_copy(update={"engagements": changed})


async def apply_one(
    db: Database, doc: RopaDocument, actor: str = "tests", at: dt.datetime | None = None
) -> Plan:
    """Apply one register document on its own, as `ropa apply FILE` does."""
    entities = from_document.entities(doc)
    return await register.apply(db, doc.register_info.id, entities, actor, occurred_at=at)


async def apply_the_move(
    db: Database, actor: str = "tests", at: tuple[dt.datetime | None, ...] = (None, None, None)
) -> None:
    """A deployment's history across issue 14's change, each file applied on its own: the old
    school file (copying STL's engagements, as the school's register), then STL's register,
    then the new school file, which no longer declares them."""
    for doc, when in zip(
        (school_record(), load_document(STL), load_document(SCHOOL)), at, strict=True
    ):
        await apply_one(db, doc, actor, when)
