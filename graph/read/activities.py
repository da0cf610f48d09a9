"""Processing activities and their disclosures."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from graph.database import Database, Runner
from graph.read.properties import light_fields, own_fields
from graph.read.validity import VALID_A, VALID_ACT, VALID_D
from graph.read.values import citations, first, integer, text
from schema import document as d
from schema.graphql.records import (
    ActivityFilter,
    ActivityRecord,
    DisclosureFilter,
    DisclosureRecord,
    ProcessorAppointmentRecord,
)
from schema.node_properties import node_properties

# An activity `a` as one map (what `activity_record` reads), also embedded by the lineage.
ACTIVITY_MAP = """{
  props: a {.*},
  controller: COLLECT { MATCH (a)-[:CONTROLLED_BY]->(o:Organisation) RETURN o.id },
  joint: COLLECT { MATCH (a)-[:JOINT_CONTROLLER]->(o:Organisation) RETURN o.id ORDER BY o.id },
  processors: COLLECT { MATCH (a)-[r:PROCESSOR]->(o:Organisation)
                        RETURN r {.*, organisation: o.id} ORDER BY o.id },
  subjects: COLLECT { MATCH (a)-[:CONCERNS]->(s:DataSubjectCategory) RETURN s.id ORDER BY s.id },
  categories: COLLECT { MATCH (a)-[:PROCESSES]->(c:DataCategory) RETURN c.id ORDER BY c.id },
  bases: COLLECT { MATCH (a)-[:LAWFUL_BASIS]->(b:LegalBasis) RETURN b.id ORDER BY b.id },
  laws: COLLECT { MATCH (a)-[u:LAWFUL_BASIS]->(b:LegalBasis) WHERE u.restsOn IS NOT NULL
                  RETURN {basis: b.id, restsOn: u.restsOn, provisions: u.provisions} },
  systems: COLLECT { MATCH (a)-[:USES_SYSTEM]->(s:System) RETURN s.id ORDER BY s.id },
  registers: COLLECT { MATCH (reg:Register)-[:DECLARES]->(a) RETURN reg.id ORDER BY reg.id }
}"""
_ACTIVITY_FIELDS = "\nRETURN " + ACTIVITY_MAP + " AS activity\n"
_VALID_ACTIVITY = (
    """
WHERE """
    + VALID_A
    + """
  AND ($category IS NULL
       OR EXISTS { (a)-[:PROCESSES]->(:DataCategory)-[:PART_OF*0..8]->
                   (:DataCategory {id: $category}) })
  AND ($basis IS NULL
       OR EXISTS { (a)-[:LAWFUL_BASIS]->(:LegalBasis)-[:RESTS_ON*0..4]->
                   (:LegalBasis {id: $basis}) }
       OR EXISTS { MATCH (a)-[u:LAWFUL_BASIS]->(:LegalBasis) WHERE $basis IN u.restsOn })
"""
)
_ACTIVITIES_BY_ID = "UNWIND $ids AS id MATCH (a:ProcessingActivity {id: id})" + _ACTIVITY_FIELDS
_ACTIVITIES_OF_CONTROLLER = (
    "MATCH (:Organisation {id: $controller})<-[:CONTROLLED_BY|JOINT_CONTROLLER]-"
    "(a:ProcessingActivity)" + _VALID_ACTIVITY + "WITH DISTINCT a" + _ACTIVITY_FIELDS
)
_ALL_ACTIVITIES = "MATCH (a:ProcessingActivity)" + _VALID_ACTIVITY + _ACTIVITY_FIELDS
# Only some of the node's own properties and its controller, for a list whose selection asks
# nothing more: such records are incomplete, and are never cached for other fields.
# The lineage embeds it too, for hops whose `activity` selection asks no more.
ACTIVITY_PROPERTIES_MAP = """{
  props: [key IN $keys | [key, a[key]]],
  controller: COLLECT { MATCH (a)-[:CONTROLLED_BY]->(o:Organisation) RETURN o.id },
  joint: [], processors: [], subjects: [], categories: [], bases: [], laws: [], systems: [],
  registers: COLLECT { MATCH (reg:Register)-[:DECLARES]->(a) RETURN reg.id ORDER BY reg.id }
}"""
# A list's rows are flat, as a bare read's: the values of `$keys` in their order, the
# controller only when the selection asks for it, and the registers its scope is cut by. Each
# value the driver decodes costs the registry's CPU, which a list of hundreds multiplies.
_PROPERTY_ROW = """
RETURN [key IN $keys | a[key]] AS values,
  CASE WHEN $withController
       THEN COLLECT { MATCH (a)-[:CONTROLLED_BY]->(o:Organisation) RETURN o.id }
       ELSE [] END AS controller,
  COLLECT { MATCH (reg:Register)-[:DECLARES]->(a) RETURN reg.id ORDER BY reg.id } AS registers
"""
_ACTIVITY_PROPERTIES_OF_CONTROLLER = (
    "MATCH (:Organisation {id: $controller})<-[:CONTROLLED_BY|JOINT_CONTROLLER]-"
    "(a:ProcessingActivity)" + _VALID_ACTIVITY + "WITH DISTINCT a" + _PROPERTY_ROW
)
_ALL_ACTIVITY_PROPERTIES = "MATCH (a:ProcessingActivity)" + _VALID_ACTIVITY + _PROPERTY_ROW
# The node properties behind each field of ActivityRecord that its own properties give.
PROPERTY_KEYS: dict[str, tuple[str, ...]] = {
    "id": ("id",),
    **{
        prop.field: prop.stored_keys()
        for prop in node_properties(d.ProcessingActivity)
        if prop.field in {f.name for f in dataclasses.fields(ActivityRecord)}
    },
    "controller_id": (),
}


def property_keys(fields: Collection[str]) -> list[str]:
    """The node properties that ActivityRecord's `fields` (all in PROPERTY_KEYS) are read from,
    with the id and name every record has (the `$keys` of ACTIVITY_PROPERTIES_MAP)."""
    return sorted({"id", "name"}.union(*(PROPERTY_KEYS[f] for f in fields)))


_DISCLOSURE_FIELDS = """
MATCH (d)-[:IN_ACTIVITY]->(a:ProcessingActivity)
MATCH (d)-[:FROM]->(source:Organisation)
MATCH (d)-[:TO]->(recipient:Organisation)
RETURN d {.*} AS props, a.id AS activity, source.id AS source, recipient.id AS recipient,
  COLLECT { MATCH (d)-[:CARRIES]->(c:DataCategory) RETURN c.id ORDER BY c.id } AS categories,
  COLLECT { MATCH (d)-[:UNDER]->(b:LegalBasis) RETURN b.id ORDER BY b.id } AS bases,
  COLLECT { MATCH (d)-[u:UNDER]->(b:LegalBasis) WHERE u.restsOn IS NOT NULL
            RETURN {basis: b.id, restsOn: u.restsOn, provisions: u.provisions} } AS laws,
  COLLECT { MATCH (d)-[:VIA]->(s:System) RETURN s.id } AS system,
  COLLECT { MATCH (reg:Register)-[:DECLARES]->(d) RETURN reg.id ORDER BY reg.id } AS registers
"""
_DISCLOSURES_BY_ID = "UNWIND $ids AS id MATCH (d:Disclosure {id: id})" + _DISCLOSURE_FIELDS
_DISCLOSURES_OF_ACTIVITIES = (
    "UNWIND $ids AS id MATCH (:ProcessingActivity {id: id})<-[:IN_ACTIVITY]-(d:Disclosure)"
    + _DISCLOSURE_FIELDS
)

# Disclosures in force on a day (their own validity and their activity's), from or to an
# organisation, carrying a category or one below it.
_FIND_DISCLOSURES = (
    """
MATCH (d:Disclosure)-[:IN_ACTIVITY]->(act:ProcessingActivity)
WHERE ($from IS NULL OR EXISTS { (d)-[:FROM]->(:Organisation {id: $from}) })
  AND ($to IS NULL OR EXISTS { (d)-[:TO]->(:Organisation {id: $to}) })
  AND """
    + VALID_D
    + """
  AND """
    + VALID_ACT
    + """
  AND ($category IS NULL
       OR EXISTS { (d)-[:CARRIES]->(:DataCategory)-[:PART_OF*0..8]->
                   (:DataCategory {id: $category}) })
WITH d ORDER BY d.id"""
    + _DISCLOSURE_FIELDS
)


def _processor(props: Mapping[str, Any]) -> ProcessorAppointmentRecord:
    return ProcessorAppointmentRecord(
        organisation_id=props["organisation"],
        contract=text(props, "contract"),
        notice_period_days=integer(props, "noticePeriodDays"),
        objection_window_days=integer(props, "objectionWindowDays"),
    )


def activity_record(record: Mapping[str, Any]) -> ActivityRecord:
    """The record of an activity read as ACTIVITY_MAP (or as its chosen properties)."""
    p = record["props"]
    if isinstance(p, list):  # [key, value] pairs of the properties asked for
        p = {key: value for key, value in p if value is not None}
    return ActivityRecord(
        **own_fields(ActivityRecord, d.ProcessingActivity, p),
        controller_id=first(record["controller"]),
        joint_controller_ids=tuple(record["joint"]),
        processors=tuple(_processor(r) for r in record["processors"]),
        subject_ids=tuple(record["subjects"]),
        category_ids=tuple(record["categories"]),
        legal_basis_ids=tuple(record["bases"]),
        citations=citations(record["bases"], record.get("laws") or []),
        system_ids=tuple(record["systems"]),
        registers=tuple(record.get("registers") or ()),
    )


def disclosure_record(record: Mapping[str, Any]) -> DisclosureRecord:
    """The record of a disclosure read as _DISCLOSURE_FIELDS gives it."""
    return DisclosureRecord(
        **own_fields(DisclosureRecord, d.Flow, record["props"]),
        activity_id=record["activity"],
        from_id=record["source"],
        to_id=record["recipient"],
        category_ids=tuple(record["categories"]),
        legal_basis_ids=tuple(record["bases"]),
        citations=citations(record["bases"], record.get("laws") or []),
        system_id=first(record["system"]),
        registers=tuple(record["registers"]),
    )


async def _activities(tx: Runner, /, query: str, **params: Any) -> list[ActivityRecord]:
    result = await tx.run(query, **params)
    return [activity_record(record["activity"]) async for record in result]


def _property_row(keys: list[str], record: Sequence[Any]) -> ActivityRecord:
    # A _PROPERTY_ROW row: what activity_record makes of a map holding nothing but it.
    values, controller, registers = record
    props = {key: value for key, value in zip(keys, values, strict=True) if value is not None}
    return ActivityRecord(
        **light_fields(ActivityRecord, d.ProcessingActivity, keys)(props),
        controller_id=first(controller),
        registers=tuple(registers),
    )


async def _property_rows(
    tx: Runner, /, query: str, keys: list[str], **params: Any
) -> list[ActivityRecord]:
    result = await tx.run(query, keys=keys, **params)
    return [_property_row(keys, record) async for record in result]


async def _disclosures(tx: Runner, /, query: str, ids: list[str]) -> list[DisclosureRecord]:
    result = await tx.run(query, ids=ids)
    return [disclosure_record(record) async for record in result]


async def activities_by_id(db: Database, ids: list[str]) -> dict[str, ActivityRecord]:
    """The activities with these ids, whatever their validity (one read transaction)."""
    return {a.id: a for a in await db.read_one(_activities, _ACTIVITIES_BY_ID, ids=ids)}


async def find_activities(
    db: Database, question: ActivityFilter, *, fields: Collection[str] | None = None
) -> list[ActivityRecord]:
    """The activities that match, by name (one read transaction).

    A category matches the activities processing it or any category below it; a legal basis
    matches those relying on it or on a basis that rests on it (e.g. a statute). With
    `fields` (of ActivityRecord, all in PROPERTY_KEYS), the records hold only those (and the
    id, name and registers), for a caller that needs no more; the rest is left empty.
    """
    params: dict[str, Any] = {
        "asOf": question.as_of,
        "category": question.category_id,
        "basis": question.legal_basis_id,
    }
    if question.controller_id is not None:
        params["controller"] = question.controller_id
    every = question.controller_id is None
    if fields is None:
        query = _ALL_ACTIVITIES if every else _ACTIVITIES_OF_CONTROLLER
        found = await db.read_one(_activities, query, **params)
    else:
        query = _ALL_ACTIVITY_PROPERTIES if every else _ACTIVITY_PROPERTIES_OF_CONTROLLER
        wanted = "controller_id" in fields
        found = await db.read_one(
            _property_rows, query, property_keys(fields), withController=wanted, **params
        )
    return sorted(found, key=lambda a: (a.name.lower(), a.id))


async def disclosures_by_id(db: Database, ids: list[str]) -> dict[str, DisclosureRecord]:
    """The disclosures with these ids (one read transaction)."""
    return {d.id: d for d in await db.read_one(_disclosures, _DISCLOSURES_BY_ID, ids)}


async def disclosures_of_activities(
    db: Database, ids: list[str]
) -> dict[str, list[DisclosureRecord]]:
    """Each activity's disclosures, by id (one read transaction)."""
    out: dict[str, list[DisclosureRecord]] = defaultdict(list)
    for found in sorted(await db.read_one(_disclosures, _DISCLOSURES_OF_ACTIVITIES, ids), key=_key):
        out[found.activity_id].append(found)
    return out


def _key(found: DisclosureRecord) -> str:
    return found.id


async def find_disclosures(db: Database, question: DisclosureFilter) -> list[DisclosureRecord]:
    """The disclosures in force on the day that match, by id."""
    params = {
        "asOf": question.as_of,
        "from": question.from_id,
        "to": question.to_id,
        "category": question.category_id,
    }
    return await db.read_one(_matching_disclosures, _FIND_DISCLOSURES, **params)


async def _matching_disclosures(tx: Runner, /, query: str, **params: Any) -> list[DisclosureRecord]:
    result = await tx.run(query, **params)
    return [disclosure_record(record) async for record in result]
