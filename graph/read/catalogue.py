"""The register's small reference sets, read whole: data categories, data subjects, legal bases.

They are shared by every register in the graph (a few dozen entries, whatever the number of
schools), so one query fetches all three and every hierarchy question is answered from memory.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graph.database import Database, Runner
from graph.read.properties import own_fields
from graph.read.values import first
from schema import document as d
from schema.graphql.records import CategoryRecord, LegalBasisRecord, SubjectRecord

# The three sets as subqueries giving `categories`, `subjects` and `bases` (each empty unless
# $withReference): the whole of the statement below, or a part of a larger one that brings
# them with its own answer (graph.read.lineage), so that they cost no round trip of their own.
REFERENCE_CALLS = """
CALL () {
  MATCH (category:DataCategory) WHERE $withReference
  RETURN collect({props: category {.*},
                  parent: COLLECT { MATCH (category)-[:PART_OF]->(p:DataCategory)
                                    RETURN p.id }}) AS categories
}
CALL () {
  MATCH (subject:DataSubjectCategory) WHERE $withReference
  RETURN collect({props: subject {.*},
                  parent: COLLECT { MATCH (subject)-[:PART_OF]->(p:DataSubjectCategory)
                                    RETURN p.id }}) AS subjects
}
CALL () {
  MATCH (basis:LegalBasis) WHERE $withReference
  RETURN collect({props: basis {.*},
                  restsOn: COLLECT { MATCH (basis)-[:RESTS_ON]->(s:LegalBasis)
                                     RETURN s.id ORDER BY s.id }}) AS bases
}
"""
# The scans of whole labels those make: the reference sets are small whatever the register's
# size (tests/graph/test_lineage_plans.py allows these and no other).
REFERENCE_SCANS = frozenset(
    {"category:DataCategory", "subject:DataSubjectCategory", "basis:LegalBasis"}
)
_REFERENCE = REFERENCE_CALLS + "RETURN categories, subjects, bases\n"


@dataclass(frozen=True)
class ReferenceData:
    """Every data category, data subject category and legal basis, by id."""

    categories: Mapping[str, CategoryRecord]
    subjects: Mapping[str, SubjectRecord]
    legal_bases: Mapping[str, LegalBasisRecord]


def _children(parents: Mapping[str, str | None]) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = defaultdict(list)
    for child, parent in sorted(parents.items()):
        if parent is not None:
            out[parent].append(child)
    return {k: tuple(v) for k, v in out.items()}


def _categories(rows: list[dict[str, Any]]) -> dict[str, CategoryRecord]:
    parents = {row["props"]["id"]: first(row["parent"]) for row in rows}
    children = _children(parents)
    out = {}
    for row in rows:
        p = row["props"]
        out[p["id"]] = CategoryRecord(
            **own_fields(CategoryRecord, d.DataCategory, p),
            parent_id=parents[p["id"]],
            children_ids=children.get(p["id"], ()),
        )
    return out


def _subjects(rows: list[dict[str, Any]]) -> dict[str, SubjectRecord]:
    parents = {row["props"]["id"]: first(row["parent"]) for row in rows}
    children = _children(parents)
    return {
        row["props"]["id"]: SubjectRecord(
            **own_fields(SubjectRecord, d.DataSubjectCategory, row["props"]),
            parent_id=parents[row["props"]["id"]],
            children_ids=children.get(row["props"]["id"], ()),
        )
        for row in rows
    }


def _legislation(basis: str, kinds: Mapping[str, str], rests: Mapping[str, list[str]]) -> list[str]:
    # Depth-first over RESTS_ON; `seen` stops a (mis-modelled) cycle from looping.
    out: list[str] = []
    seen: set[str] = set()
    stack = [basis]
    while stack:
        current = stack.pop()
        if current in seen or current not in kinds:
            continue
        seen.add(current)
        if kinds[current] == d.LegalBasisKind.STATUTE.value:
            out.append(current)
        stack.extend(reversed(rests.get(current, [])))
    return out


def _legal_bases(rows: list[dict[str, Any]]) -> dict[str, LegalBasisRecord]:
    kinds = {row["props"]["id"]: row["props"]["kind"] for row in rows}
    titles = {row["props"]["id"]: row["props"]["title"] for row in rows}
    rests = {row["props"]["id"]: list(row["restsOn"]) for row in rows}
    out = {}
    for row in rows:
        p = row["props"]
        out[p["id"]] = LegalBasisRecord(
            **own_fields(LegalBasisRecord, d.LegalBasis, p),
            rests_on_ids=tuple(rests[p["id"]]),
            legislation=tuple(titles[s] for s in _legislation(p["id"], kinds, rests)),
        )
    return out


_Rows = tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]
# The last reference sets built, with the rows they were built from. Every lineage question
# whose selection shows categories or legal bases reads the same few dozen rows, and building
# their records took 0.58 ms a request over the 1,000-school register; comparing the rows takes
# 7 µs. Equal rows give equal (frozen) records, so the answer is the same.
_last: list[tuple[_Rows, ReferenceData]] = []


def reference_from_rows(
    categories: list[dict[str, Any]], subjects: list[dict[str, Any]], bases: list[dict[str, Any]]
) -> ReferenceData:
    """The reference sets from rows shaped as _REFERENCE returns them ({props, parent} and
    {props, restsOn}): the graph's, or a past record's (graph.read.recorded). The rows are
    kept until other rows are given, to be compared: they must not be changed afterwards."""
    rows = (categories, subjects, bases)
    if _last and _last[0][0] == rows:
        return _last[0][1]
    found = ReferenceData(
        categories=_categories(categories),
        subjects=_subjects(subjects),
        legal_bases=_legal_bases(bases),
    )
    _last[:] = [(rows, found)]
    return found


async def _read(tx: Runner) -> ReferenceData:
    record = await (await tx.run(_REFERENCE, withReference=True)).single(strict=True)
    return reference_from_rows(record["categories"], record["subjects"], record["bases"])


async def reference_data(db: Database) -> ReferenceData:
    """Every category, data subject category and legal basis (one read transaction)."""
    return await db.read_one(_read)
