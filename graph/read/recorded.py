"""The register as recorded at a past moment: the time-dependent questions answered from it.

`recordedAt` picks the record (rebuilt from the change log by graph.read.snapshots, the one
rebuild `ropa notice --recorded-at` and the exports use too); `asOf` stays the day the
processing is valid in that record. Today's record is answered by the Cypher statements of
lineage, activities and engagements; a past record is not in the graph, so its answers come
from the rebuilt entities, through the same record readers, the Python half of validity
(schema.compliance.validity, the twin of graph.read.validity) and the same path building
(lineage.from_rows). Only the registers in the caller's scope are rebuilt, so nothing of
another register is read.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from neo4j import AsyncManagedTransaction

from graph import from_document
from graph import model as m
from graph.database import Database
from graph.read import controller_registers, lineage, record_cache
from graph.read.activities import activity_record, disclosure_record
from graph.read.catalogue import ReferenceData, reference_from_rows
from graph.read.engagements import engagement_record
from graph.read.organisations import organisation, system
from graph.read.record_cache import RecordCache
from graph.read.refs import Answer, resolve_recorded
from graph.read.snapshots import Horizon, Snapshot, covered, register_snapshots
from graph.to_document import document_from_snapshots, sub_processors_of
from schema import document as d
from schema.compliance.validity import applies_on, engagement_in_force
from schema.graphql.records import (
    ActivityFilter,
    ActivityRecord,
    DisclosureFilter,
    DisclosureRecord,
    EngagementRecord,
    OrganisationRecord,
    RecipientsQuestion,
    RefKind,
    SystemRecord,
)
from schema.node_properties import field_props
from schema.sub_processor_list import NoticeTerms


@dataclass(frozen=True)
class Record:
    """The registers' entities as recorded at a moment, as one document and as records."""

    doc: d.RopaDocument
    organisations: dict[str, OrganisationRecord]
    activities: dict[str, ActivityRecord]
    disclosures: dict[str, DisclosureRecord]
    engagements: dict[str, EngagementRecord]
    # Per disclosure: the law each cited basis rests on for it (the hops' citations).
    laws: dict[str, list[dict[str, Any]]]
    systems: dict[str, SystemRecord]
    reference: ReferenceData


def _targets(entity: m.Entity, rel: str) -> list[str]:
    return sorted({link.target for link in entity.links if link.type == rel})


def _laws(entity: m.Entity, rel: str) -> list[dict[str, Any]]:
    """What each cited basis rests on for this use, as the statements read it off the links."""
    out = []
    for link in entity.links:
        props = dict(link.props)
        if link.type == rel and props.get("restsOn") is not None:
            out.append(
                {
                    "basis": link.target,
                    "restsOn": list(props["restsOn"]),
                    "provisions": list(props.get("provisions") or ()),
                }
            )
    return sorted(out, key=lambda law: str(law["basis"]))


def _records(doc: d.RopaDocument, declared: dict[str, set[str]]) -> Record:
    """The document's entities as the records the graph readers make of the same nodes."""
    out = Record(doc, {}, {}, {}, {}, {}, {}, reference_from_rows([], [], []))
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entity in from_document.entities(doc):
        props: dict[str, Any] = {**entity.props, "id": entity.id}
        registers = sorted(declared.get(entity.key, ()))
        if entity.kind in (m.DATA_CATEGORY, m.DATA_SUBJECT):
            rows[entity.kind].append({"props": props, "parent": _targets(entity, "PART_OF")})
        elif entity.kind == m.LEGAL_BASIS:
            rows[entity.kind].append({"props": props, "restsOn": _targets(entity, "RESTS_ON")})
        elif entity.kind == m.SYSTEM:
            out.systems[entity.id] = system(
                {
                    "props": props,
                    "operator": _targets(entity, "OPERATED_BY"),
                    "registers": registers,
                }
            )
        elif entity.kind == m.ORGANISATION:
            out.organisations[entity.id] = organisation(props, registers)
        elif entity.kind == m.ACTIVITY:
            processors = [
                {**dict(link.props), "organisation": link.target}
                for link in sorted(entity.links, key=lambda link: (link.type, link.target))
                if link.type == "PROCESSOR"
            ]
            out.activities[entity.id] = activity_record(
                {
                    "props": props,
                    "controller": _targets(entity, "CONTROLLED_BY"),
                    "joint": _targets(entity, "JOINT_CONTROLLER"),
                    "processors": processors,
                    "subjects": _targets(entity, "CONCERNS"),
                    "categories": _targets(entity, "PROCESSES"),
                    "bases": _targets(entity, "LAWFUL_BASIS"),
                    "laws": _laws(entity, "LAWFUL_BASIS"),
                    "systems": _targets(entity, "USES_SYSTEM"),
                    "registers": registers,
                }
            )
        elif entity.kind == m.DISCLOSURE:
            out.laws[entity.id] = _laws(entity, "UNDER")
            out.disclosures[entity.id] = disclosure_record(
                {
                    "props": props,
                    "activity": _targets(entity, "IN_ACTIVITY")[0],
                    "source": _targets(entity, "FROM")[0],
                    "recipient": _targets(entity, "TO")[0],
                    "categories": _targets(entity, "CARRIES"),
                    "bases": _targets(entity, "UNDER"),
                    "laws": _laws(entity, "UNDER"),
                    "system": _targets(entity, "VIA"),
                    "registers": registers,
                }
            )
        elif entity.kind == m.ENGAGEMENT:
            out.engagements[entity.id] = engagement_record(
                {
                    "props": props,
                    "processor": _targets(entity, "ENGAGED_BY")[0],
                    "subProcessor": _targets(entity, "SUB_PROCESSOR")[0],
                    "categories": _targets(entity, "COVERS"),
                    "activity": _targets(entity, "FOR_ACTIVITY"),
                    "registers": registers,
                    "activityRegisters": sorted(
                        {
                            r
                            for a in _targets(entity, "FOR_ACTIVITY")
                            for r in declared.get(m.entity_key(m.ACTIVITY, a), ())
                        }
                    ),
                }
            )
    reference = reference_from_rows(
        rows[m.DATA_CATEGORY], rows[m.DATA_SUBJECT], rows[m.LEGAL_BASIS]
    )
    return dataclasses.replace(out, reference=reference)


# What is read of a register outside the scope when sub-processor lists are public.
_PUBLIC_KINDS = frozenset({m.ENGAGEMENT, m.ORGANISATION, m.DATA_CATEGORY})


async def _rebuilt(
    tx: AsyncManagedTransaction,
    registers: list[str] | None,
    recorded_at: dt.datetime,
    lists: bool,
    cache: RecordCache[object],
) -> Record:
    upto = await covered(tx, recorded_at)
    # The horizon names the record exactly (graph.read.record_cache): kept, it is never stale.
    key = (None if registers is None else tuple(registers), lists, upto)
    found = cache.get(key)
    if isinstance(found, Record):
        return found
    built = await _rebuild(tx, registers, upto, recorded_at, lists)
    cache.put(key, built)
    return built


async def _rebuild(
    tx: AsyncManagedTransaction,
    registers: list[str] | None,
    upto: Horizon,
    recorded_at: dt.datetime,
    lists: bool,
) -> Record:
    # The registers the horizon names, so that the record is the one its key says.
    every = list(upto.registers)
    wanted = set(every if registers is None else registers)
    merged: dict[str, Snapshot] = {}
    declared: dict[str, set[str]] = defaultdict(set)
    states: dict[str, dict[str, Snapshot]] = {}
    for register in every:
        if register not in wanted and not lists:
            continue
        state = await register_snapshots(tx, register, upto=upto)
        if m.entity_key(m.REGISTER, register) not in state:
            continue  # not yet recorded then
        states[register] = state
        for key, snap in state.items():
            if register not in wanted and snap["kind"] not in _PUBLIC_KINDS:
                continue
            merged.setdefault(key, snap)
            if register in wanted:
                merged[key] = snap
            declared[key].add(register)
    if not lists:
        # Lists are not public, but the sub-processing of the processing read is (its
        # controller's: ReadScope.reads_engagement), from the registers its processors kept.
        processors = controller_registers.processors_of(states.values())
        outside = [r for r in every if r not in states]
        kept = await controller_registers.kept_then(tx, outside, processors, upto)
        for register, state in kept.items():
            for key in sub_processors_of(state, merged):
                merged[key] = state[key]
                declared[key].add(register)
    for register in states:
        merged.pop(m.entity_key(m.REGISTER, register), None)
    info = d.RegisterInfo(id="recorded", name="as recorded", owner="recorded")
    doc = document_from_snapshots(info, merged.values(), f"record at {recorded_at.isoformat()}")
    return _records(doc, declared)


async def record_at(
    db: Database,
    registers: Iterable[str] | None,
    recorded_at: dt.datetime,
    *,
    lists: bool = False,
) -> Record:
    """The registers (None: every register) as recorded at `recorded_at`, in one read
    transaction; with `lists`, the engagements of every other register too (the public
    sub-processor lists). Rebuilt once per horizon and kept (graph.read.record_cache)."""
    chosen = None if registers is None else sorted(registers)
    return await db.read(_rebuilt, chosen, recorded_at, lists, record_cache.of(db))


def _below(doc: d.RopaDocument, asked: str) -> set[str]:
    """`asked` and every category below it (PART_OF, as the statements follow it)."""
    children: dict[str, list[str]] = defaultdict(list)
    for category in doc.data_categories:
        if category.parent:
            children[category.parent].append(category.id)
    found, todo = {asked}, [asked]
    while todo:
        for child in children[todo.pop()]:
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _above(doc: d.RopaDocument, asked: str) -> set[str]:
    parents = {c.id: c.parent for c in doc.data_categories}
    found: set[str] = set()
    current = parents.get(asked)
    while current and current not in found:
        found.add(current)
        current = parents.get(current)
    return found


def _hop(record: Record, flow: d.Flow, carried: list[str]) -> dict[str, Any]:
    activity = next((a for a in record.doc.activities if a.id == flow.activity), None)
    ours = activity is not None and flow.source in (
        activity.controller,
        *activity.joint_controllers,
        *(p.organisation for p in activity.processors),
    )
    return {
        "ours": ours,
        "controller": [activity.controller] if activity else [],
        "laws": record.laws.get(flow.id, []),
        "hop": flow.id,
        "source": flow.source,
        "target": flow.recipient,
        "activity": flow.activity,
        "role": flow.recipient_role.value,
        "condition": flow.condition,
        **field_props(flow, "assumptions"),
        "categories": carried,
        "bases": sorted(d.basis_ids(flow.legal_bases)),
    }


def trace(record: Record, question: RecipientsQuestion) -> lineage.Lineage:
    """`lineage.trace`'s answer, from the record: the same rows, then the same paths."""
    doc, day = record.doc, question.as_of
    below = _below(doc, question.category_id)
    covering = below | _above(doc, question.category_id)
    valid = {a.id for a in doc.activities if applies_on(a, day)}
    first: list[dict[str, Any]] = []
    onward: list[dict[str, Any]] = []
    for flow in sorted(doc.flows, key=lambda f: f.id):
        carried = sorted(set(flow.data_categories) & below)
        if not carried or flow.activity not in valid or not applies_on(flow, day):
            continue
        if flow.kind is d.FlowKind.DISCLOSURE:
            if question.controller_id in (None, flow.source):
                first.append(_hop(record, flow, carried))
        elif question.transitive:
            onward.append({**_hop(record, flow, carried), "kind": "onward-disclosure"})
    for engagement in doc.engagements if question.transitive else ():
        covered = sorted(set(engagement.data_categories) & covering)
        if not covered or not engagement_in_force(engagement, day):
            continue
        # An activity outside the record read (another register's) is not judged here.
        known = engagement.activity in record.activities
        if engagement.activity is not None and known and engagement.activity not in valid:
            continue
        onward.append(
            {
                "kind": "sub-processing",
                "hop": engagement.id,
                "source": engagement.processor,
                "target": engagement.sub_processor,
                "activity": engagement.activity,
                "role": "processor",
                "condition": None,
                **field_props(engagement, "assumptions"),
                "categories": covered,
                "bases": [],
                "laws": [],
                "ours": True,
                "controller": [],
            }
        )
    return lineage.from_rows(
        first, onward, record.organisations, record.activities, record.engagements
    )


def sub_processors(record: Record, processor_id: str, as_of: dt.date) -> list[EngagementRecord]:
    """The processor's engagements in force on `as_of` in the record, by sub-processor name."""
    names = {o.id: o.name for o in record.doc.organisations}
    found = [
        record.engagements[e.id]
        for e in record.doc.engagements
        if e.processor == processor_id and engagement_in_force(e, as_of)
    ]
    return sorted(found, key=lambda e: (names.get(e.sub_processor_id, "").lower(), e.id))


def _bases_resting_on(doc: d.RopaDocument, basis: str) -> set[str]:
    rests = {b.id: set(b.rests_on) for b in doc.legal_bases}
    found = {basis}
    changed = True
    while changed:
        more = {b for b, on in rests.items() if on & found} - found
        changed = bool(more)
        found |= more
    return found


def activities(record: Record, question: ActivityFilter) -> list[ActivityRecord]:
    """The activities valid on the day that match, by name, as `find_activities` gives them."""
    doc = record.doc
    below = None if question.category_id is None else _below(doc, question.category_id)
    bases = (
        None if question.legal_basis_id is None else _bases_resting_on(doc, question.legal_basis_id)
    )
    found = [
        record.activities[a.id]
        for a in doc.activities
        if applies_on(a, question.as_of)
        and question.controller_id in (None, a.controller, *a.joint_controllers)
        and (below is None or bool(set(a.data_categories) & below))
        and (bases is None or bool(set(d.basis_ids(a.legal_bases)) & bases))
    ]
    return sorted(found, key=lambda a: (a.name.lower(), a.id))


def disclosures(record: Record, question: DisclosureFilter) -> list[DisclosureRecord]:
    """The disclosures in force on the day that match, by id, as `find_disclosures` gives."""
    doc = record.doc
    valid = {a.id for a in doc.activities if applies_on(a, question.as_of)}
    below = None if question.category_id is None else _below(doc, question.category_id)
    return [
        record.disclosures[f.id]
        for f in sorted(doc.flows, key=lambda f: f.id)
        if f.activity in valid
        and applies_on(f, question.as_of)
        and question.from_id in (None, f.source)
        and question.to_id in (None, f.recipient)
        and (below is None or bool(set(f.data_categories) & below))
    ]


def resolve(record: Record, kind: RefKind, ref: str, recorded_at: dt.datetime) -> Answer:
    """What `ref` (an id or a name, any case) named in the record, by the rules the graph's
    resolution follows (graph.read.refs); a NotRecorded that says which record was read."""
    doc = record.doc
    known: list[tuple[str, str]] = {
        RefKind.ORGANISATION: [(o.id, o.name) for o in doc.organisations],
        RefKind.ACTIVITY: [(a.id, a.name) for a in doc.activities],
        RefKind.DATA_CATEGORY: [(c.id, c.name) for c in doc.data_categories],
        RefKind.LEGAL_BASIS: [(b.id, b.title) for b in doc.legal_bases],
    }[kind]
    return resolve_recorded(kind, ref, known, recorded_at)


def notice_terms(record: Record, processor_ids: Iterable[str]) -> dict[str, list[NoticeTerms]]:
    """Each processor's contract terms in the record (as engagements.notice_terms reads them)."""
    wanted = set(processor_ids)
    out: dict[str, list[NoticeTerms]] = defaultdict(list)
    for activity in sorted(record.doc.activities, key=lambda a: a.id):
        for p in activity.processors:
            if p.organisation in wanted:
                out[p.organisation].append(
                    NoticeTerms(
                        processor_id=p.organisation,
                        activity_id=activity.id,
                        registers=record.activities[activity.id].registers,
                        notice_period_days=p.notice_period_days,
                        objection_window_days=p.objection_window_days,
                    )
                )
    return out


def disclosures_of_activities(
    record: Record, activity_ids: Iterable[str]
) -> dict[str, list[DisclosureRecord]]:
    """The record's disclosures of each activity, by id."""
    wanted = set(activity_ids)
    out: dict[str, list[DisclosureRecord]] = defaultdict(list)
    for key in sorted(record.disclosures):
        found = record.disclosures[key]
        if found.activity_id in wanted:
            out[found.activity_id].append(found)
    return out


def processors(record: Record) -> list[str]:
    """The ids of the organisations that engage sub-processors in the record, by name."""
    ids = {e.processor_id for e in record.engagements.values()}
    return sorted(ids, key=lambda i: (_name(record, i).lower(), i))


def engagements_of(record: Record, processor_id: str) -> list[EngagementRecord]:
    """Every engagement of the processor in the record, by sub-processor name (as
    engagements.of_processor gives today's)."""
    found = [e for e in record.engagements.values() if e.processor_id == processor_id]
    return sorted(found, key=lambda e: (_name(record, e.sub_processor_id).lower(), e.id))


def _name(record: Record, org_id: str) -> str:
    found = record.organisations.get(org_id)
    return found.name if found is not None else org_id
