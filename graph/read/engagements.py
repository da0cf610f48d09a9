"""Engagements of sub-processors by processors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from graph.database import Database, Runner
from graph.read.properties import own_fields
from graph.read.validity import DATED_E
from graph.read.values import first
from schema import document as d
from schema.graphql.records import EngagementRecord
from schema.sub_processor_list import NoticeTerms

# An engagement `e` as one map (what `engagement_record` reads), also embedded by the lineage.
ENGAGEMENT_MAP = """{
  props: e {.*},
  processor: head(COLLECT { MATCH (e)-[:ENGAGED_BY]->(p:Organisation) RETURN p.id }),
  subProcessor: head(COLLECT { MATCH (e)-[:SUB_PROCESSOR]->(s:Organisation) RETURN s.id }),
  categories: COLLECT { MATCH (e)-[:COVERS]->(c:DataCategory) RETURN c.id ORDER BY c.id },
  activity: COLLECT { MATCH (e)-[:FOR_ACTIVITY]->(a:ProcessingActivity) RETURN a.id },
  registers: COLLECT { MATCH (reg:Register)-[:DECLARES]->(e) RETURN reg.id ORDER BY reg.id },
  activityRegisters: COLLECT {
    MATCH (e)-[:FOR_ACTIVITY]->(:ProcessingActivity)<-[:DECLARES]-(reg:Register)
    RETURN DISTINCT reg.id AS registerId ORDER BY registerId
  }
}"""
# Only the node's own properties and its two organisations, for the lineage's hops whose
# `engagement` selection asks no more: such records are incomplete (no categories, no
# activity) and are never cached for other fields. Their registers are only those of the
# scope's `$registers` (none when every register may be read): all the scope check asks is
# whether the two lists meet the scope, and an engagement of a shared processor is declared by
# every school that uses it (100 registers each over 1,000 schools, 0.6 ms of one controller's
# read).
ENGAGEMENT_PROPERTIES_MAP = """{
  props: e {.*},
  processor: head(COLLECT { MATCH (e)-[:ENGAGED_BY]->(p:Organisation) RETURN p.id }),
  subProcessor: head(COLLECT { MATCH (e)-[:SUB_PROCESSOR]->(s:Organisation) RETURN s.id }),
  categories: [], activity: [],
  registers: COLLECT {
    MATCH (reg:Register)-[:DECLARES]->(e) WHERE reg.id IN $registers
    RETURN reg.id ORDER BY reg.id
  },
  activityRegisters: COLLECT {
    MATCH (e)-[:FOR_ACTIVITY]->(:ProcessingActivity)<-[:DECLARES]-(reg:Register)
    WHERE reg.id IN $registers
    RETURN DISTINCT reg.id AS registerId ORDER BY registerId
  }
}"""
_ENGAGEMENT_FIELDS = (
    """
MATCH (e)-[:ENGAGED_BY]->(:Organisation)
MATCH (e)-[:SUB_PROCESSOR]->(sub:Organisation)
RETURN sub.name AS subName, """
    + ENGAGEMENT_MAP
    + " AS engagement\n"
)
_ENGAGEMENTS_BY_ID = "UNWIND $ids AS id MATCH (e:Engagement {id: id})" + _ENGAGEMENT_FIELDS
# In force on a day: active, and the day within since..until (either end may be open). A
# proposed engagement is not yet in force, whatever its `since`; a withdrawn one no longer is.
_IN_FORCE = (
    """
MATCH (:Organisation {id: $processor})<-[:ENGAGED_BY]-(e:Engagement)
WHERE e.status = 'active' AND """
    + DATED_E
    + _ENGAGEMENT_FIELDS
)


# Every engagement of the processor, whatever its status or dates (the public list's history).
_OF_PROCESSOR = (
    "MATCH (:Organisation {id: $processor})<-[:ENGAGED_BY]-(e:Engagement)" + _ENGAGEMENT_FIELDS
)

# The organisations that engage sub-processors: the processors whose lists are public.
_PROCESSORS = """
MATCH (o:Organisation)<-[:ENGAGED_BY]-(e:Engagement)
WITH o, count(e) AS engagements
RETURN o.id AS id, engagements
ORDER BY toLower(o.name), o.id
"""

# Each controller's appointment of these processors, with the registers that keep it.
_NOTICE_TERMS = """
UNWIND $processors AS processor
MATCH (a:ProcessingActivity)-[r:PROCESSOR]->(:Organisation {id: processor})
RETURN processor, a.id AS activity, r.noticePeriodDays AS notice,
       r.objectionWindowDays AS window,
       COLLECT { MATCH (reg:Register)-[:DECLARES]->(a) RETURN reg.id ORDER BY reg.id } AS registers
ORDER BY processor, activity
"""


def engagement_record(record: Mapping[str, Any]) -> EngagementRecord:
    """The record of an engagement read as ENGAGEMENT_MAP (or ENGAGEMENT_PROPERTIES_MAP)."""
    p = record["props"]
    return EngagementRecord(
        **own_fields(EngagementRecord, d.Engagement, p),
        processor_id=record["processor"],
        sub_processor_id=record["subProcessor"],
        category_ids=tuple(record["categories"]),
        activity_id=first(record["activity"]),
        registers=tuple(record.get("registers") or ()),
        activity_registers=tuple(record.get("activityRegisters") or ()),
    )


async def _engagements(
    tx: Runner, /, query: str, **params: Any
) -> list[tuple[str, EngagementRecord]]:
    result = await tx.run(query, **params)
    return [(record["subName"], engagement_record(record["engagement"])) async for record in result]


async def engagements_by_id(db: Database, ids: list[str]) -> dict[str, EngagementRecord]:
    """The engagements with these ids (one read transaction)."""
    return {e.id: e for _, e in await db.read_one(_engagements, _ENGAGEMENTS_BY_ID, ids=ids)}


async def in_force(db: Database, processor_id: str, as_of: dt.date) -> list[EngagementRecord]:
    """The processor's engagements in force on `as_of`, by sub-processor name (one read
    transaction)."""
    found = await db.read_one(_engagements, _IN_FORCE, processor=processor_id, asOf=as_of)
    return [e for _, e in sorted(found, key=lambda pair: (pair[0].lower(), pair[1].id))]


async def of_processor(db: Database, processor_id: str) -> list[EngagementRecord]:
    """Every engagement of the processor, by sub-processor name (one read transaction)."""
    found = await db.read_one(_engagements, _OF_PROCESSOR, processor=processor_id)
    return [e for _, e in sorted(found, key=lambda pair: (pair[0].lower(), pair[1].id))]


async def _processors(tx: Runner) -> list[str]:
    result = await tx.run(_PROCESSORS)
    return [record["id"] async for record in result]


async def processors(db: Database) -> list[str]:
    """The ids of the organisations that engage sub-processors, by name (one read)."""
    return await db.read_one(_processors)


async def notice_terms_in(tx: Runner, processor_ids: list[str]) -> list[NoticeTerms]:
    """The contract terms of every appointment of these processors (in a transaction)."""
    result = await tx.run(_NOTICE_TERMS, processors=processor_ids)
    return [
        NoticeTerms(
            processor_id=record["processor"],
            activity_id=record["activity"],
            registers=tuple(record["registers"]),
            notice_period_days=record["notice"],
            objection_window_days=record["window"],
        )
        async for record in result
    ]


async def notice_terms(db: Database, processor_ids: list[str]) -> list[NoticeTerms]:
    """The contract terms of every appointment of these processors (one read)."""
    return await db.read_one(notice_terms_in, processor_ids)


async def engagement_in(tx: Runner, engagement_id: str) -> EngagementRecord | None:
    """The engagement with this id, read in the caller's transaction; None if there is none."""
    found = await _engagements(tx, _ENGAGEMENTS_BY_ID, ids=[engagement_id])
    return found[0][1] if found else None
