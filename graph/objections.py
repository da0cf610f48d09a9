"""Controllers' objections to announced engagements: recorded with their change event.

An `Objection` node (`-[:OBJECTS_TO]->` the engagement) keeps which register objected, why,
when and who. It is written with a change event (entity type `Objection`, op CREATED) in the
same transaction, after the change lock, so the notifier tells the processor's DPO from the
change log as it tells everyone else: by e-mail, and by webhook (`ObjectionNotice`). Both the
node and the event belong to the registers `schema.access.policy.objection_registers` names
(the objecting register and the processor's own), which decide who reads it. A register
objects to an engagement once: asking again returns the first objection and writes nothing (so
a retried transaction is harmless).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from neo4j import AsyncManagedTransaction

from graph import changes
from graph import model as m
from graph.database import Database
from graph.engagement_writes import own_registers
from graph.read import engagements
from schema.access.policy import Forbidden, may_change, objection_registers
from schema.access.principal import Principal
from schema.change_requests import FieldProblem, InvalidInput
from schema.graphql.records import ObjectionRecord
from schema.sub_processor_list import check_objection, objecting_registers

OBJECTION = "Objection"
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:ropa-registry:objections")

_GET = "MATCH (o:Objection {id: $id}) RETURN o {.*} AS props"

_CREATE = """
MATCH (e:Engagement {id: $engagement})
MERGE (o:Objection {id: $id})
ON CREATE SET o.engagement = $engagement, o.register = $register, o.reason = $reason,
              o.objectedAt = datetime($objectedAt), o.actor = $actor, o.registers = $registers
MERGE (o)-[:OBJECTS_TO]->(e)
RETURN o {.*} AS props
"""

# Those belonging to a register (made by it, or to its processor's engagements), newest first;
# made before $before (null: all so far).
_OF_REGISTER = """
MATCH (o:Objection)
WHERE $register IN coalesce(o.registers, [o.register])
  AND ($before IS NULL OR o.objectedAt < datetime($before))
RETURN o {.*} AS props
ORDER BY o.objectedAt DESC, o.id
LIMIT $limit
"""

# With the registers the processor keeps itself, for objections recorded before they carried
# their registers.
_OF_ENGAGEMENTS = """
UNWIND $ids AS id
MATCH (o:Objection {engagement: id})
OPTIONAL MATCH (o)-[:OBJECTS_TO]->(:Engagement)-[:ENGAGED_BY]->(:Organisation)
               <-[:OWNED_BY]-(own:Register)
WITH o, collect(own.id) AS own
RETURN o {.*} AS props, own
ORDER BY o.objectedAt, o.id
"""


def _record(props: dict[str, Any], own: list[str] | None = None) -> ObjectionRecord:
    """The record of an Objection node; `own`: the processor's own registers, which an
    objection recorded before objections carried their registers belongs to as well."""
    moment = props["objectedAt"]
    return ObjectionRecord(
        id=props["id"],
        engagement_id=props["engagement"],
        register_id=props["register"],
        reason=props["reason"],
        objected_at=moment.to_native() if hasattr(moment, "to_native") else moment,
        actor=props["actor"],
        registers=tuple(
            props.get("registers") or objection_registers(props["register"], own or [])
        ),
    )


def objection_id(engagement_id: str, register_id: str) -> str:
    """The one id of a register's objection to an engagement."""
    return str(uuid.uuid5(_NAMESPACE, f"{register_id}/{engagement_id}"))


async def object_in(
    tx: AsyncManagedTransaction,
    engagement_id: str,
    reason: str,
    principal: Principal,
    today: dt.date,
) -> ObjectionRecord:
    """Record the principal's register's objection (write tx).

    InvalidInput for an unknown engagement or an empty reason, Forbidden when none of the
    principal's registers uses the processor for it, ObjectionWindowClosed after the deadline.
    """
    await changes.lock(tx)
    text = reason.strip()
    engagement = await engagements.engagement_in(tx, engagement_id)
    if engagement is None:
        raise InvalidInput([FieldProblem("id", f"no engagement with id '{engagement_id}'")])
    if not text:
        raise InvalidInput([FieldProblem("reason", "reason: say why you object")])
    terms = await engagements.notice_terms_in(tx, [engagement.processor_id])
    mine = [r for r in objecting_registers(engagement, terms) if may_change(principal, r)]
    if not mine:
        raise Forbidden(
            f"'{principal.name}' keeps no register that uses {engagement.processor_id} as a "
            f"processor for engagement '{engagement_id}' (dpo role needed)"
        )
    check_objection(engagement, terms, today)
    register = mine[0]
    the_id = objection_id(engagement_id, register)
    existing = await (await tx.run(_GET, id=the_id)).single()
    if existing is not None:
        return _record(existing["props"])
    now = dt.datetime.now(dt.UTC)
    belongs = objection_registers(register, await own_registers(tx, engagement.processor_id))
    record = await (
        await tx.run(
            _CREATE,
            engagement=engagement_id,
            id=the_id,
            register=register,
            reason=text,
            objectedAt=now.isoformat(),
            actor=principal.name,
            registers=belongs,
        )
    ).single()
    if record is None:
        raise InvalidInput([FieldProblem("id", f"no engagement with id '{engagement_id}'")])
    snapshot = {
        "kind": OBJECTION,
        "id": the_id,
        "props": {"reason": text, "objectedAt": now.isoformat(), "register": register},
        "links": [
            {"type": "OBJECTS_TO", "to": m.entity_key(m.ENGAGEMENT, engagement_id)},
            {"type": "ENGAGED_BY", "to": m.entity_key(m.ORGANISATION, engagement.processor_id)},
            {
                "type": "SUB_PROCESSOR",
                "to": m.entity_key(m.ORGANISATION, engagement.sub_processor_id),
            },
        ],
    }
    event = changes.PendingEvent(OBJECTION, the_id, "CREATED", None, snapshot)
    await changes.append(tx, [event], principal, register, now, belongs)
    return _record(record["props"])


async def object_to(
    db: Database, engagement_id: str, reason: str, principal: Principal, today: dt.date
) -> ObjectionRecord:
    """`object_in` in one write transaction."""
    return await db.write(object_in, engagement_id, reason, principal, today)


async def _of(tx: AsyncManagedTransaction, ids: list[str]) -> dict[str, list[ObjectionRecord]]:
    out: dict[str, list[ObjectionRecord]] = {i: [] for i in ids}
    async for row in await tx.run(_OF_ENGAGEMENTS, ids=ids):
        found = _record(row["props"], row["own"])
        out.setdefault(found.engagement_id, []).append(found)
    return out


async def _of_register(
    tx: AsyncManagedTransaction, register: str, limit: int, before: dt.datetime | None
) -> list[ObjectionRecord]:
    moment = None if before is None else before.isoformat()
    result = await tx.run(_OF_REGISTER, register=register, limit=limit, before=moment)
    return [_record(row["props"]) async for row in result]


async def of_register(
    db: Database, register: str, limit: int = 50, before: dt.datetime | None = None
) -> list[ObjectionRecord]:
    """The newest `limit` objections belonging to `register` (made before `before`, if
    given; one read)."""
    return await db.read(_of_register, register, limit, before)


async def of_engagements(db: Database, ids: list[str]) -> dict[str, list[ObjectionRecord]]:
    """The objections to each of these engagements, oldest first (one read)."""
    return await db.read(_of, ids)


@dataclass(frozen=True)
class ObjectionNotice:
    """An objection's change event, as webhooks tell the processor's DPO of it."""

    id: str  # the change event's: the webhook-id
    sequence: int
    occurred_at: dt.datetime
    objection: str
    engagement: str
    processor: str
    sub_processor: str
    register: str
    reason: str
    registers: tuple[str, ...]

    @property
    def readers(self) -> tuple[str, ...]:
        """The registers whose principals hear of it: those it belongs to."""
        return self.registers

    def concerns(self, processor: str | None) -> bool:
        """Whether a reader of `processor`'s changes (None: every processor's) gets it."""
        return processor is None or processor == self.processor

    def as_json(self) -> dict[str, Any]:
        """The JSON form (camelCase) webhooks carry (docs/webhooks.md)."""
        return {
            "id": self.id,
            "sequence": self.sequence,
            "occurredAt": self.occurred_at.isoformat(),
            "objection": self.objection,
            "engagement": self.engagement,
            "processor": self.processor,
            "subProcessor": self.sub_processor,
            "register": self.register,
            "reason": self.reason,
        }


def _target(snapshot: dict[str, Any], link_type: str) -> str | None:
    for link in snapshot.get("links", []):
        if isinstance(link, dict) and link.get("type") == link_type:
            return str(link.get("to", "")).partition(":")[2] or None
    return None


def notice_from_event(event: changes.ChangeEvent) -> ObjectionNotice | None:
    """The objection an event records, or None for events about anything else."""
    if event.entity_type != OBJECTION or event.op != "CREATED" or event.after is None:
        return None
    after = event.after
    engagement = _target(after, "OBJECTS_TO")
    processor = _target(after, "ENGAGED_BY")
    sub_processor = _target(after, "SUB_PROCESSOR")
    if engagement is None or processor is None or sub_processor is None:
        return None
    props = after.get("props", {})
    return ObjectionNotice(
        id=event.id,
        sequence=event.sequence,
        occurred_at=event.occurred_at,
        objection=event.entity_id,
        engagement=engagement,
        processor=processor,
        sub_processor=sub_processor,
        register=str(props.get("register") or event.register or ""),
        reason=str(props.get("reason", "")),
        registers=event.registers,
    )
