"""Lineage: who receives a category of data, along which paths, on a given day.

The traversal expands a frontier one hop per query, so an answer costs at most MAX_HOPS read
transactions whatever the size of the graph:

1. from the controller (or every controller), the disclosures (kind `disclosure`) that carry
   the asked category or a category below it;
2. from each recipient reached so far: if it received as a processor, its engagements of
   sub-processors that cover the data; and, whoever it is, its onward disclosures that carry
   the data.

The query of a level takes the distinct (organisation, received-as-processor) states of the
frontier, not the paths, so its cost does not grow with the number of paths; paths are
extended here, and never revisit an organisation. Every pattern is anchored on a unique-index
seek (hinted, so that the planner never prefers a scan on a small graph) and expands single
relationships, or category hierarchies bounded at 8 levels.

What counts as carrying the data:
- a disclosure carries it when one of its categories is the asked one or below it. A flow of a
  broader category (say `pupil-data` as a whole) does not count for a narrower question: the
  register says what a flow carries, and a whole-record flow should list what it contains;
- an engagement covers it when one of its categories is the asked one, below it or above it
  (a sub-processor handling all pupil data handles the safeguarding part of it);
- an engagement recorded for an activity applies only to data of that activity.
- on `as_of`, disclosures and activities are valid when validFrom <= as_of <= validUntil
  (open ends allowed); engagements when active and since <= as_of <= until.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from neo4j import AsyncManagedTransaction

from graph.database import Database
from graph.read.organisations import organisation
from schema.errors import RopaError
from schema.graphql.records import (
    HopKind,
    HopRecord,
    OrganisationRecord,
    RecipientRecord,
    RecipientsQuestion,
)

MAX_HOPS = 6
MAX_PATHS = 50_000

_HOP_COLUMNS = """
RETURN d.id AS hop, source.id AS source, target.id AS target,
       source {.*} AS sourceProps, target {.*} AS targetProps,
       a.id AS activity, d.recipientRole AS role, d.condition AS condition,
       COLLECT { MATCH (d)-[:CARRIES]->(c:DataCategory)-[:PART_OF*0..8]->(asked)
                 RETURN DISTINCT c.id AS id ORDER BY id } AS categories,
       COLLECT { MATCH (d)-[:UNDER]->(b:LegalBasis) RETURN b.id AS id ORDER BY id } AS bases
"""

FIRST_HOPS_FROM = (
    """
MATCH (asked:DataCategory {id: $category})
USING INDEX SEEK asked:DataCategory(id)
MATCH (source:Organisation {id: $controller})<-[:FROM]-(d:Disclosure {kind: 'disclosure'})
USING INDEX SEEK source:Organisation(id)
WHERE (d.validFrom IS NULL OR d.validFrom <= $asOf)
  AND (d.validUntil IS NULL OR d.validUntil >= $asOf)
  AND EXISTS { (d)-[:CARRIES]->(:DataCategory)-[:PART_OF*0..8]->(asked) }
MATCH (d)-[:IN_ACTIVITY]->(a:ProcessingActivity)
WHERE (a.validFrom IS NULL OR a.validFrom <= $asOf)
  AND (a.validUntil IS NULL OR a.validUntil >= $asOf)
MATCH (d)-[:TO]->(target:Organisation)"""
    + _HOP_COLUMNS
)

FIRST_HOPS_ALL = (
    """
MATCH (asked:DataCategory {id: $category})
USING INDEX SEEK asked:DataCategory(id)
MATCH (c:DataCategory)-[:PART_OF*0..8]->(asked)
MATCH (c)<-[:CARRIES]-(d:Disclosure {kind: 'disclosure'})
WHERE (d.validFrom IS NULL OR d.validFrom <= $asOf)
  AND (d.validUntil IS NULL OR d.validUntil >= $asOf)
WITH DISTINCT asked, d
MATCH (d)-[:IN_ACTIVITY]->(a:ProcessingActivity)
WHERE (a.validFrom IS NULL OR a.validFrom <= $asOf)
  AND (a.validUntil IS NULL OR a.validUntil >= $asOf)
MATCH (d)-[:FROM]->(source:Organisation)
MATCH (d)-[:TO]->(target:Organisation)"""
    + _HOP_COLUMNS
)

NEXT_HOPS = """
MATCH (asked:DataCategory {id: $category})
USING INDEX SEEK asked:DataCategory(id)
UNWIND $frontier AS f
MATCH (o:Organisation {id: f.org})
USING INDEX SEEK o:Organisation(id)
CALL (asked, o, f) {
  MATCH (o)<-[:FROM]-(d:Disclosure {kind: 'onward-disclosure'})
  WHERE (d.validFrom IS NULL OR d.validFrom <= $asOf)
    AND (d.validUntil IS NULL OR d.validUntil >= $asOf)
    AND EXISTS { (d)-[:CARRIES]->(:DataCategory)-[:PART_OF*0..8]->(asked) }
  MATCH (d)-[:IN_ACTIVITY]->(a:ProcessingActivity)
  WHERE (a.validFrom IS NULL OR a.validFrom <= $asOf)
    AND (a.validUntil IS NULL OR a.validUntil >= $asOf)
  MATCH (d)-[:TO]->(target:Organisation)
  RETURN 'onward-disclosure' AS kind, d.id AS hop, target.id AS target,
         target {.*} AS targetProps, a.id AS activity, d.recipientRole AS role,
         d.condition AS condition,
         COLLECT { MATCH (d)-[:CARRIES]->(c:DataCategory)-[:PART_OF*0..8]->(asked)
                   RETURN DISTINCT c.id AS id ORDER BY id } AS categories,
         COLLECT { MATCH (d)-[:UNDER]->(b:LegalBasis) RETURN b.id AS id ORDER BY id } AS bases
  UNION ALL
  MATCH (o)<-[:ENGAGED_BY]-(e:Engagement {status: 'active'})
  WHERE f.processor
    AND (e.since IS NULL OR e.since <= $asOf)
    AND (e.until IS NULL OR e.until >= $asOf)
  MATCH (e)-[:SUB_PROCESSOR]->(target:Organisation)
  OPTIONAL MATCH (e)-[:FOR_ACTIVITY]->(a:ProcessingActivity)
  WITH asked, e, target, a
  WHERE a IS NULL
     OR ((a.validFrom IS NULL OR a.validFrom <= $asOf)
         AND (a.validUntil IS NULL OR a.validUntil >= $asOf))
  WITH e, target, a,
       COLLECT { MATCH (e)-[:COVERS]->(c:DataCategory)
                 WHERE EXISTS { (c)-[:PART_OF*0..8]->(asked) }
                    OR EXISTS { (asked)-[:PART_OF*1..8]->(c) }
                 RETURN c.id AS id ORDER BY id } AS categories
  WHERE size(categories) > 0
  RETURN 'sub-processing' AS kind, e.id AS hop, target.id AS target,
         target {.*} AS targetProps, a.id AS activity, 'processor' AS role,
         null AS condition, categories, [] AS bases
}
RETURN f.org AS source, f.processor AS processor, kind, hop, target, targetProps, activity,
       role, condition, categories, bases
"""


@dataclass(frozen=True)
class Lineage:
    """The recipients, and every organisation on their paths (read along the way)."""

    recipients: list[RecipientRecord]
    organisations: dict[str, OrganisationRecord]


class TooManyPaths(RopaError):
    """The answer would hold more paths than one response should carry."""

    code = "TOO_MANY_PATHS"


@dataclass(frozen=True)
class _Path:
    hops: tuple[HopRecord, ...]
    visited: frozenset[str]
    processor: bool

    @property
    def state(self) -> tuple[str, bool]:
        return self.hops[-1].to_id, self.processor


async def _rows(tx: AsyncManagedTransaction, /, query: str, **params: Any) -> list[dict[str, Any]]:
    result = await tx.run(query, **params)
    return [record.data() async for record in result]


def _first_hop(row: Mapping[str, Any]) -> _Path | None:
    if row["source"] == row["target"]:
        return None
    hop = HopRecord(
        kind=HopKind.DISCLOSURE,
        from_id=row["source"],
        to_id=row["target"],
        activity_id=row["activity"],
        category_ids=tuple(row["categories"]),
        legal_basis_ids=tuple(row["bases"]),
        condition=row["condition"],
        disclosure_id=row["hop"],
    )
    return _Path((hop,), frozenset({hop.from_id, hop.to_id}), row["role"] == "processor")


def _extend(path: _Path, row: Mapping[str, Any]) -> _Path | None:
    if row["target"] in path.visited:
        return None
    last = path.hops[-1]
    if row["kind"] == "sub-processing":
        if row["activity"] is not None and row["activity"] != last.activity_id:
            return None
        hop = HopRecord(
            kind=HopKind.SUB_PROCESSING,
            from_id=last.to_id,
            to_id=row["target"],
            activity_id=row["activity"] or last.activity_id,
            category_ids=tuple(row["categories"]),
            # A sub-processor acts under the basis on which its processor got the data.
            legal_basis_ids=last.legal_basis_ids,
            engagement_id=row["hop"],
        )
    else:
        hop = HopRecord(
            kind=HopKind.ONWARD_DISCLOSURE,
            from_id=last.to_id,
            to_id=row["target"],
            activity_id=row["activity"],
            category_ids=tuple(row["categories"]),
            legal_basis_ids=tuple(row["bases"]),
            condition=row["condition"],
            disclosure_id=row["hop"],
        )
    return _Path((*path.hops, hop), path.visited | {hop.to_id}, row["role"] == "processor")


def _check_size(count: int) -> None:
    if count > MAX_PATHS:
        raise TooManyPaths(
            f"the answer has more than {MAX_PATHS} paths; name a controller or a narrower "
            "category, or ask with transitive: false"
        )


async def trace(db: Database, question: RecipientsQuestion) -> Lineage:
    """Every recipient of the data with its paths, by name, and the organisations on them (at
    most MAX_HOPS read transactions, one per hop level; no writes)."""
    params: dict[str, Any] = {"category": question.category_id, "asOf": question.as_of}
    if question.controller_id is None:
        rows = await db.read(_rows, FIRST_HOPS_ALL, **params)
    else:
        rows = await db.read(_rows, FIRST_HOPS_FROM, controller=question.controller_id, **params)
    orgs = {row["source"]: row["sourceProps"] for row in rows}
    orgs.update((row["target"], row["targetProps"]) for row in rows)
    frontier = [p for p in map(_first_hop, rows) if p is not None]
    paths = list(frontier)
    _check_size(len(paths))
    depth = 1
    while question.transitive and frontier and depth < MAX_HOPS:
        states = sorted({p.state for p in frontier})
        rows = await db.read(
            _rows,
            NEXT_HOPS,
            frontier=[{"org": org, "processor": processor} for org, processor in states],
            **params,
        )
        onward: dict[tuple[str, bool], list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            onward[(row["source"], row["processor"])].append(row)
            orgs[row["target"]] = row["targetProps"]
        frontier = [
            extended
            for path in frontier
            for row in onward.get(path.state, [])
            if (extended := _extend(path, row)) is not None
        ]
        paths.extend(frontier)
        _check_size(len(paths))
        depth += 1
    records = {key: organisation(props) for key, props in orgs.items()}
    return Lineage(_group(paths, records), records)


async def recipients(db: Database, question: RecipientsQuestion) -> list[RecipientRecord]:
    """Every recipient of the data with its paths, by name (see `trace`)."""
    return (await trace(db, question)).recipients


def _group(paths: list[_Path], orgs: Mapping[str, OrganisationRecord]) -> list[RecipientRecord]:
    by_recipient: dict[str, list[tuple[HopRecord, ...]]] = defaultdict(list)
    for path in paths:
        by_recipient[path.hops[-1].to_id].append(path.hops)
    return [
        RecipientRecord(org, tuple(sorted(found, key=_path_key)))
        for org, found in sorted(
            by_recipient.items(), key=lambda item: (orgs[item[0]].name.lower(), item[0])
        )
    ]


def _path_key(hops: tuple[HopRecord, ...]) -> tuple[int, list[tuple[str, str]]]:
    return len(hops), [(h.to_id, h.disclosure_id or h.engagement_id or "") for h in hops]


def statements(question: RecipientsQuestion) -> list[tuple[str, dict[str, Any]]]:
    """The traversal's queries with parameters for `question`, e.g. for EXPLAIN."""
    params: dict[str, Any] = {"category": question.category_id, "asOf": question.as_of}
    frontier = [{"org": question.controller_id or "", "processor": True}]
    return [
        (FIRST_HOPS_FROM, {**params, "controller": question.controller_id or ""}),
        (FIRST_HOPS_ALL, params),
        (NEXT_HOPS, {**params, "frontier": frontier}),
    ]
