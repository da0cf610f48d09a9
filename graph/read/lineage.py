"""Lineage: who receives a category of data, along which paths, on a given day.

One Cypher statement answers a question, whatever its depth:

1. from the controller (or every controller), the disclosures (kind `disclosure`) that carry
   the asked category or a category below it;
2. from the organisations those reach, every organisation reachable within MAX_HOPS - 2 more
   hops along onward disclosures and active engagements in force (a superset of where the
   paths can go: the category and the processor's role are checked at the last step and here);
3. from each of these, its onward disclosures that carry the data and its engagements of
   sub-processors that cover it, each once, whatever the number of paths through it;
4. the organisations on all of these, once each, and (when asked for) the activities and
   engagements on them, so that the GraphQL fields of a path need no further read;
5. (when asked for) the reference data (graph.read.catalogue), which the categories and legal
   bases of the hops name, in the same read.

Paths are then extended here, hop level by hop level, from those rows: an engagement only
from an organisation that received the data as a processor, never revisiting an organisation.
Every pattern is anchored on a unique-index seek (hinted, so that the planner never prefers a
scan on a small graph) and expands single relationships, category hierarchies bounded at 8
levels, or the reach of step 2, bounded at MAX_HOPS - 2.

What counts as carrying the data:
- a disclosure carries it when one of its categories is the asked one or below it. A flow of a
  broader category (say `pupil-data` as a whole) does not count for a narrower question: the
  register says what a flow carries, and a whole-record flow should list what it contains;
- an engagement covers it when one of its categories is the asked one, below it or above it
  (a sub-processor handling all pupil data handles the safeguarding part of it);
- an engagement recorded for an activity applies only to data of that activity.
- on `as_of`, disclosures and activities are valid when validFrom <= as_of <= validUntil
  (open ends allowed) and, if they recur, within an occurrence; engagements when active and
  the same holds of since and until (graph.read.validity, the one predicate).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from graph.database import Database, Runner
from graph.read.activities import (
    ACTIVITY_MAP,
    ACTIVITY_PROPERTIES_MAP,
    activity_record,
    property_keys,
)
from graph.read.catalogue import REFERENCE_CALLS, ReferenceData, reference_from_rows
from graph.read.engagements import ENGAGEMENT_MAP, ENGAGEMENT_PROPERTIES_MAP, engagement_record
from graph.read.organisations import organisation
from graph.read.properties import own_field
from graph.read.validity import DATED_E, DATED_X, VALID_A, VALID_D, VALID_X
from graph.read.values import citations
from schema.document import Flow
from schema.errors import ErrorCode, NotFound, RopaError
from schema.graphql.records import (
    ActivityRecord,
    AssumptionRecord,
    CitationRecord,
    EngagementRecord,
    HopKind,
    HopRecord,
    OrganisationRecord,
    RecipientRecord,
    RecipientsQuestion,
)

MAX_HOPS = 6
MAX_PATHS = 50_000

_VALID_D = VALID_D
_VALID_A = VALID_A
_HOP = """{hop: d.id, source: source.id, target: target.id, activity: a.id,
          role: d.recipientRole, condition: d.condition, assumptions: d.assumptions,
          assumptionsAbout: d.assumptionsAbout,
          categories: COLLECT { MATCH (d)-[:CARRIES]->(c:DataCategory)-[:PART_OF*0..8]->(asked)
                                RETURN DISTINCT c.id AS id ORDER BY id },
          bases: COLLECT { MATCH (d)-[:UNDER]->(b:LegalBasis) RETURN b.id AS id ORDER BY id },
          laws: COLLECT { MATCH (d)-[u:UNDER]->(b:LegalBasis) WHERE u.restsOn IS NOT NULL
                          RETURN {basis: b.id, restsOn: u.restsOn, provisions: u.provisions} },
          ours: EXISTS { (a)-[:CONTROLLED_BY|JOINT_CONTROLLER|PROCESSOR]->(source) },
          controller: COLLECT { MATCH (a)-[:CONTROLLED_BY]->(o:Organisation) RETURN o.id }}"""

_FIRST_FROM = (
    """
MATCH (asked:DataCategory {id: $category})
USING INDEX SEEK asked:DataCategory(id)
CALL (asked) {
  MATCH (source:Organisation {id: $controller})<-[:FROM]-(d:Disclosure {kind: 'disclosure'})
  USING INDEX SEEK source:Organisation(id)
  WHERE """
    + _VALID_D
    + """
    AND EXISTS { (d)-[:CARRIES]->(:DataCategory)-[:PART_OF*0..8]->(asked) }
    AND ($registers IS NULL
         OR EXISTS { MATCH (reg:Register)-[:DECLARES]->(d) WHERE reg.id IN $registers })
  MATCH (d)-[:IN_ACTIVITY]->(a:ProcessingActivity)
  WHERE """
    + _VALID_A
    + """
  MATCH (d)-[:TO]->(target:Organisation)
  RETURN collect("""
    + _HOP
    + """) AS first
}"""
)

_FIRST_ALL = (
    """
MATCH (asked:DataCategory {id: $category})
USING INDEX SEEK asked:DataCategory(id)
CALL (asked) {
  MATCH (c:DataCategory)-[:PART_OF*0..8]->(asked)
  MATCH (c)<-[:CARRIES]-(d:Disclosure {kind: 'disclosure'})
  WHERE """
    + _VALID_D
    + """
    AND ($registers IS NULL
         OR EXISTS { MATCH (reg:Register)-[:DECLARES]->(d) WHERE reg.id IN $registers })
  WITH DISTINCT asked, d
  MATCH (d)-[:IN_ACTIVITY]->(a:ProcessingActivity)
  WHERE """
    + _VALID_A
    + """
  MATCH (d)-[:FROM]->(source:Organisation)
  MATCH (d)-[:TO]->(target:Organisation)
  RETURN collect("""
    + _HOP
    + """) AS first
}"""
)

# The registers declaring an organisation `n`: every one, or (`$organisationRegisters`) only
# those a scope's checks look at. A shared processor is declared by every school that uses it
# (934 registers on one controller's paths over 1,000 schools: a quarter of its read, session
# 27), while a caller reading every register needs none of them. A short list is sought by id.
_DECLARING_N = """CASE
  WHEN $organisationRegisters IS NULL
    THEN COLLECT { MATCH (reg:Register)-[:DECLARES]->(n) RETURN reg.id }
  WHEN size($organisationRegisters) <= 32
    THEN COLLECT { UNWIND $organisationRegisters AS registerId
                   MATCH (reg:Register {id: registerId})-[:DECLARES]->(n) RETURN reg.id }
  ELSE COLLECT { MATCH (reg:Register)-[:DECLARES]->(n) WHERE reg.id IN $organisationRegisters
                 RETURN reg.id }
END"""

# Steps 2 to 4, after either first step. `$transitive` false skips steps 2 and 3.
_ONWARD = (
    """
CALL (asked, first) {
  UNWIND first AS h
  WITH DISTINCT asked, h.target AS start
  WHERE $transitive
  MATCH (s:Organisation {id: start})
  USING INDEX SEEK s:Organisation(id)
  MATCH (s) ((:Organisation)<-[:FROM|ENGAGED_BY]-(x WHERE
        (x:Disclosure AND x.kind = 'onward-disclosure' AND """
    + VALID_X
    + """)
     OR (x:Engagement AND x.status = 'active' AND """
    + DATED_X
    + """))
    -[:TO|SUB_PROCESSOR]->(:Organisation)){0,4} (source:Organisation)
  WITH DISTINCT asked, source
  CALL (asked, source) {
    MATCH (source)<-[:FROM]-(d:Disclosure {kind: 'onward-disclosure'})
    WHERE """
    + _VALID_D
    + """
      AND EXISTS { (d)-[:CARRIES]->(:DataCategory)-[:PART_OF*0..8]->(asked) }
      AND ($registers IS NULL
           OR EXISTS { MATCH (reg:Register)-[:DECLARES]->(d) WHERE reg.id IN $registers })
    MATCH (d)-[:IN_ACTIVITY]->(a:ProcessingActivity)
    WHERE """
    + _VALID_A
    + """
    MATCH (d)-[:TO]->(target:Organisation)
    RETURN 'onward-disclosure' AS kind, """
    + _HOP
    + """ AS row
    UNION ALL
    MATCH (source)<-[:ENGAGED_BY]-(e:Engagement {status: 'active'})
    WHERE """
    + DATED_E
    + """
      AND ($engagementRegisters IS NULL
           OR EXISTS { MATCH (reg:Register)-[:DECLARES]->(e)
                       WHERE reg.id IN $engagementRegisters }
           OR EXISTS { MATCH (e)-[:FOR_ACTIVITY]->(:ProcessingActivity)<-[:DECLARES]-(reg:Register)
                       WHERE reg.id IN $engagementRegisters })
    MATCH (e)-[:SUB_PROCESSOR]->(target:Organisation)
    OPTIONAL MATCH (e)-[:FOR_ACTIVITY]->(a:ProcessingActivity)
    WITH asked, source, e, target, a
    WHERE a IS NULL OR ("""
    + _VALID_A
    + """)
    WITH source, e, target, a,
         COLLECT { MATCH (e)-[:COVERS]->(c:DataCategory)
                   WHERE EXISTS { (c)-[:PART_OF*0..8]->(asked) }
                      OR EXISTS { (asked)-[:PART_OF*1..8]->(c) }
                   RETURN c.id AS id ORDER BY id } AS categories
    WHERE size(categories) > 0
    RETURN 'sub-processing' AS kind,
           {hop: e.id, source: source.id, target: target.id, activity: a.id,
            role: 'processor', condition: null, assumptions: e.assumptions,
            assumptionsAbout: e.assumptionsAbout,
            categories: categories, bases: []} AS row
  }
  RETURN collect(row {.*, kind: kind}) AS onward
}
"""
    + REFERENCE_CALLS
    + """
WITH first, onward, categories, subjects, bases,
     [h IN first | h.source] + [h IN first + onward | h.target] AS orgs,
     [h IN first + onward WHERE h.activity IS NOT NULL | h.activity] AS activities,
     [h IN onward WHERE h.kind = 'sub-processing' | h.hop] AS engagements
RETURN first, onward, categories, subjects, bases,
  $controller IS NULL OR EXISTS { (:Organisation {id: $controller}) } AS controllerFound,
  COLLECT { UNWIND orgs AS id WITH DISTINCT id
            MATCH (n:Organisation {id: id})
            RETURN n {.*, registers: """
    + _DECLARING_N
    + """} } AS organisations,
"""
)
# Step 4's activities and engagements, whole (what the loaders hold) ...
_RECORDS = (
    """  COLLECT { UNWIND activities AS id WITH DISTINCT id WHERE $withActivities
            MATCH (a:ProcessingActivity {id: id}) RETURN """
    + ACTIVITY_MAP
    + """ } AS activities,
  COLLECT { UNWIND engagements AS id WITH DISTINCT id WHERE $withEngagements
            MATCH (e:Engagement {id: id}) RETURN """
    + ENGAGEMENT_MAP
    + """ } AS engagements
"""
)
# ... or only their own properties ($keys of an activity), for a selection that asks no more:
# an activity's relationships cost most of an every-controller answer.
_PROPERTY_RECORDS = (
    """  COLLECT { UNWIND activities AS id WITH DISTINCT id WHERE $withActivities
            MATCH (a:ProcessingActivity {id: id}) RETURN """
    + ACTIVITY_PROPERTIES_MAP
    + """ } AS activities,
  COLLECT { UNWIND engagements AS id WITH DISTINCT id WHERE $withEngagements
            MATCH (e:Engagement {id: id}) RETURN """
    + ENGAGEMENT_PROPERTIES_MAP
    + """ } AS engagements
"""
)

FROM_CONTROLLER = _FIRST_FROM + _ONWARD + _RECORDS
FROM_EVERY_CONTROLLER = _FIRST_ALL + _ONWARD + _RECORDS
FROM_CONTROLLER_PROPERTIES = _FIRST_FROM + _ONWARD + _PROPERTY_RECORDS
FROM_EVERY_CONTROLLER_PROPERTIES = _FIRST_ALL + _ONWARD + _PROPERTY_RECORDS


@dataclass(frozen=True)
class Lineage:
    """The recipients, every organisation on their paths, and (when asked for) the activities
    and engagements on them, all read with the paths; `complete` False when those hold only
    their own properties (asked with `properties`)."""

    recipients: list[RecipientRecord]
    organisations: dict[str, OrganisationRecord]
    activities: dict[str, ActivityRecord] = field(default_factory=dict)
    engagements: dict[str, EngagementRecord] = field(default_factory=dict)
    complete: bool = True
    # Every data category, data subject and legal basis, when asked for with the paths.
    reference: ReferenceData | None = None


class TooManyPaths(RopaError):
    """The answer would hold more paths than one response should carry."""

    code = ErrorCode.TOO_MANY_PATHS


@dataclass(frozen=True)
class _Path:
    hops: tuple[HopRecord, ...]
    visited: frozenset[str]
    processor: bool

    @property
    def state(self) -> tuple[str, bool]:
        return self.hops[-1].to_id, self.processor


async def _answer(tx: Runner, /, query: str, **params: Any) -> dict[str, Any] | None:
    record = await (await tx.run(query, **params)).single()
    # The values as the driver made them: the statement returns no nodes, so `Record.data()`'s
    # walk over every value (a fifth of an every-controller answer's CPU) would change nothing.
    return None if record is None else dict(zip(record.keys(), record, strict=True))


def _basis_of(row: Mapping[str, Any]) -> str | None:
    # A disclosure by the activity's controller (or its processor) rests on the controller's
    # bases; one by anybody else (the DfE sharing from the NPD) is that organisation's own.
    if not row["ours"]:
        return str(row["source"])
    return str(row["controller"][0]) if row["controller"] else None


def _assumptions(row: Mapping[str, Any]) -> tuple[AssumptionRecord, ...]:
    # The row returns the disclosure's (or engagement's) assumption properties under their keys.
    found: tuple[AssumptionRecord, ...] = own_field(HopRecord, Flow, "assumptions", row)
    return found


def _cited(row: Mapping[str, Any], cited: bool) -> tuple[CitationRecord, ...]:
    return citations(row["bases"], row["laws"]) if cited else ()


def _first_hop(row: Mapping[str, Any], cited: bool) -> _Path | None:
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
        assumptions=_assumptions(row),
        citations=_cited(row, cited),
        basis_of_id=_basis_of(row),
    )
    return _Path((hop,), frozenset({hop.from_id, hop.to_id}), row["role"] == "processor")


def _extend(path: _Path, row: Mapping[str, Any], cited: bool) -> _Path | None:
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
            assumptions=_assumptions(row),
            citations=last.citations,
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
            assumptions=_assumptions(row),
            citations=_cited(row, cited),
            basis_of_id=_basis_of(row),
        )
    return _Path((*path.hops, hop), path.visited | {hop.to_id}, row["role"] == "processor")


def _check_size(count: int) -> None:
    if count > MAX_PATHS:
        raise TooManyPaths(
            f"the answer has more than {MAX_PATHS} paths; name a controller or a narrower "
            "category, or ask with transitive: false"
        )


async def trace(
    db: Database,
    question: RecipientsQuestion,
    *,
    activities: bool = False,
    engagements: bool = False,
    properties: Collection[str] | None = None,
    reference: bool = False,
    cited: bool = True,
) -> Lineage:
    """Every recipient of the data with its paths, by name, and the organisations on them (one
    read transaction of one statement; no writes). With `activities` or `engagements`, the
    records of those on the paths come with it: whole, or with `properties` (fields of
    ActivityRecord, all in PROPERTY_KEYS) only those of an activity (and its id, name and
    controller) and only an engagement's own properties and organisations (and, of the
    registers declaring it and its activity, only those in the scope: all its scope check
    needs); with `reference`, every category, data subject and legal basis; without `cited`,
    hops without their citations. Each organisation comes with the registers declaring it:
    every one, or with a scope only those its checks look at (ReadScope.deciding_registers).
    Only the disclosures (and engagements) that the question's scope may read are followed.
    NotFound when the question's category or controller is no id in the graph."""
    scope = question.scope
    registers = None if scope is None else scope.register_list()
    params: dict[str, Any] = {
        "category": question.category_id,
        "controller": question.controller_id,
        "asOf": question.as_of,
        "transitive": question.transitive,
        "withActivities": activities,
        "withEngagements": engagements,
        "withReference": reference,
        # Only flows declared by registers in scope; engagements too, unless lists are public,
        # and those for activities in scope (ReadScope.reads_engagement), wherever declared.
        "registers": registers,
        "engagementRegisters": None if scope is None or scope.lists else registers,
        # Each organisation with the registers declaring it that the scope's checks look at.
        "organisationRegisters": None if scope is None else sorted(scope.deciding_registers()),
    }
    every, of_controller = FROM_EVERY_CONTROLLER, FROM_CONTROLLER
    if properties is not None:
        every, of_controller = FROM_EVERY_CONTROLLER_PROPERTIES, FROM_CONTROLLER_PROPERTIES
        params["keys"] = property_keys(properties)
    statement = every if question.controller_id is None else of_controller
    answer = await db.read_one(_answer, statement, **params)
    if answer is None:
        raise NotFound("data category", question.category_id)
    if not answer["controllerFound"]:
        raise NotFound("organisation", question.controller_id or "")
    # Each organisation comes with the registers declaring it (who may read its contacts).
    records = {
        props["id"]: organisation(props, props["registers"]) for props in answer["organisations"]
    }
    lineage = from_rows(
        answer["first"],
        answer["onward"],
        records,
        {a.id: a for a in map(activity_record, answer["activities"])},
        {e.id: e for e in map(engagement_record, answer["engagements"])},
        complete=properties is None,
        cited=cited,
    )
    if not reference:
        return lineage
    found = reference_from_rows(answer["categories"], answer["subjects"], answer["bases"])
    return replace(lineage, reference=found)


def from_rows(
    first: Iterable[Mapping[str, Any]],
    onward_rows: Iterable[Mapping[str, Any]],
    records: dict[str, OrganisationRecord],
    activities: dict[str, ActivityRecord],
    engagements: dict[str, EngagementRecord],
    *,
    complete: bool = True,
    cited: bool = True,
) -> Lineage:
    """The lineage from the hop rows the statements give (first disclosures; onward disclosures
    and sub-processing from each organisation): paths extended level by level, grouped by
    recipient (without their citations unless `cited`). The register as recorded
    (graph.read.recorded) gives the same rows."""
    frontier = [p for row in first if (p := _first_hop(row, cited)) is not None]
    paths = list(frontier)
    _check_size(len(paths))
    onward: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in onward_rows:
        onward[row["source"]].append(row)
    depth = 1
    while frontier and depth < MAX_HOPS:
        frontier = [
            extended
            for path in frontier
            for row in onward.get(path.hops[-1].to_id, ())
            if (path.processor or row["kind"] != "sub-processing")
            and (extended := _extend(path, row, cited)) is not None
        ]
        paths.extend(frontier)
        _check_size(len(paths))
        depth += 1
    return Lineage(_group(paths, records), records, activities, engagements, complete=complete)


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
    """The traversal's statements with parameters for `question`, e.g. for EXPLAIN."""
    params: dict[str, Any] = {
        "category": question.category_id,
        "asOf": question.as_of,
        "transitive": question.transitive,
        "withActivities": True,
        "withEngagements": True,
        "withReference": True,
        "organisationRegisters": None,
    }
    light = {**params, "keys": property_keys(())}
    controller = question.controller_id or ""
    return [
        (FROM_CONTROLLER, {**params, "controller": controller}),
        (FROM_EVERY_CONTROLLER, {**params, "controller": None}),
        (FROM_CONTROLLER_PROPERTIES, {**light, "controller": controller}),
        (FROM_EVERY_CONTROLLER_PROPERTIES, {**light, "controller": None}),
    ]
