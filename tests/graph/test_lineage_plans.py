"""The lineage queries seek indexes and bound their expansions, checked on Neo4j's own plans."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from graph.database import Database
from graph.read import explain, lineage
from graph.read.catalogue import REFERENCE_SCANS
from schema.graphql.records import RecipientsQuestion
from tests.support.examples import apply_school_record

pytestmark = pytest.mark.neo4j

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "allestree-woodlands.yaml"
QUESTION = RecipientsQuestion(
    category_id="safeguarding", as_of=dt.date(2022, 6, 1), controller_id="allestree-woodlands"
)
# Where rows may come from: an index seek on a known value, or a subquery's argument. Any
# other leaf (AllNodesScan, NodeByLabelScan, NodeIndexScan, relationship scans) reads a whole
# label, index or graph.
SOURCES = {"NodeUniqueIndexSeek", "NodeIndexSeek", "Argument"}
# A variable-length relationship in a plan's details: [:R*], [r:R*2], [*0..], [:R*..8], [*0..8]
_LENGTH = re.compile(r"\[[^\[\]]*?\*(\d*)(\.\.)?(\d*)\s*\]")


@pytest.fixture
async def example(db: Database) -> Database:
    await apply_school_record(db)
    return db


def unbounded(details: str) -> list[str]:
    """The variable-length relationships in `details` that have no upper bound."""
    return [
        m.group(0)
        for m in _LENGTH.finditer(details)
        if (m.group(2) and not m.group(3)) or not (m.group(1) or m.group(3))
    ]


def test_unbounded_recognises_open_patterns() -> None:
    assert unbounded("(a)-[:PART_OF*]->(b)") == ["[:PART_OF*]"]
    assert unbounded("(a)-[anon_1:PART_OF*0..]->(b) (c)-[*1..3]-(d)") == ["[anon_1:PART_OF*0..]"]
    assert unbounded("(asked)<-[:PART_OF*0..8]-(c) (x)-[:R*2]->(y)") == []
    assert unbounded("target {.*} AS targetProps, n {.name, .*}") == []


@pytest.mark.parametrize(
    ("index", "name"),
    [
        (0, "from a controller"),
        (1, "from every controller"),
        (2, "from a controller, own properties"),
        (3, "from every controller, own properties"),
    ],
)
async def test_lineage_plan_seeks_indexes_and_bounds_expansions(
    example: Database, index: int, name: str
) -> None:
    query, params = lineage.statements(QUESTION)[index]
    ops = await explain.operators(example, query, params)
    # The reference data, asked for with the paths, is read whole by design (and only it).
    scans = {op.details for op in ops if op.leaf and op.name == "NodeByLabelScan"}
    assert scans == REFERENCE_SCANS, f"{name}: scans {scans - REFERENCE_SCANS} whole"
    leaves = {op.name for op in ops if op.leaf and op.details not in REFERENCE_SCANS}
    assert leaves <= SOURCES, f"{name}: reads whole labels or indexes: {leaves - SOURCES}"
    assert "NodeUniqueIndexSeek" in leaves
    expansions = [op for op in ops if op.name.startswith("VarLengthExpand")]
    assert expansions, "the category hierarchy is expected to be expanded"
    assert not [u for op in ops for u in unbounded(op.details)], f"{name}: unbounded expansion"
