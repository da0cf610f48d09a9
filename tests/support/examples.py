"""The shipped example as the tests read it: the school's register with the register School
Transition Limited keeps as its processor, which declares the school's sub-processors."""

from __future__ import annotations

from pathlib import Path

from graph import from_document, register_set
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
