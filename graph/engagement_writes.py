"""Engagements changed one at a time (the GraphQL mutations), through `ropa apply`'s write path.

Each request is turned into the entity a ROPA document would give: the current engagement is
read back as a document engagement (`graph.to_document`), changed, validated by the document
model, and made an entity again by `graph.from_document`. `register.upsert_entities_in` then
writes it with the steps and the change event of `register.apply_in`. So a mutation and an
`ropa apply` of a document that makes the same change record the same event (but the actor).

Who may make the change (schema.access.policy): a processor that keeps its own register (a
register owned by it) owns its engagements; else the registers declaring the engagement (for
a new one: declaring the processor) own it. The principal must be a `dpo` (or `admin`) of one
of the owning registers, else `Forbidden`, with nothing written.

Which register declares what a mutation creates: every owning register in the principal's
scope, so that `ropa plan` of each of their documents shows the new engagement (and a
sub-processor created with it) until the document is brought up to date. The change event names
the first of them (by id) and belongs to all. A processor that no register declares is refused.

Everything is resolved and checked inside the write transaction, after the change lock; a
refused request raises `InvalidInput` and writes nothing. A transaction retried after a commit
it did not see finds its work done and writes nothing more.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from neo4j import AsyncManagedTransaction
from pydantic import BaseModel, ValidationError

from graph import changes, from_document, register, write_refs
from graph import model as m
from graph.database import Database
from graph.read.properties import own_fields
from graph.to_document import document_from_snapshots
from schema import document as d
from schema.access.policy import engagement_owners, require_change, writable_registers
from schema.access.principal import Principal
from schema.audit import Author
from schema.change_requests import EngagementUpdate, EngageRequest, FieldProblem, InvalidInput
from schema.graphql.records import EngagementRecord
from schema.node_properties import to_props

_OF_PAIR = """
MATCH (e:Engagement)-[:ENGAGED_BY]->(:Organisation {id: $processor})
MATCH (e)-[:SUB_PROCESSOR]->(:Organisation {id: $subProcessor})
RETURN e.key AS key
"""

# The registers a processor keeps itself (Article 30(2)): those it owns.
_OWN_REGISTERS = """
MATCH (reg:Register)-[:OWNED_BY]->(:Organisation {id: $organisation})
RETURN reg.id AS register
ORDER BY register
"""

# Proposed engagements whose effective date has come: the notifier makes them active.
_DUE_PROPOSALS = """
MATCH (e:Engagement {status: 'proposed'})
WHERE e.since IS NOT NULL AND e.since <= $today
RETURN e.id AS id
ORDER BY e.since, e.id
LIMIT $limit
"""

# A register for building one entity the way a document would; never written.
_SCRATCH = d.RegisterInfo(id="scratch", name="scratch", owner="scratch")
# The document fields behind each input field of the API.
_INPUT_FIELDS = {
    "purpose": "purpose",
    "data_categories": "categories",
    "location": "location",
    "since": "since",
    "until": "until",
    "status": "status",
    "name": "subProcessor",
    "country": "subProcessorCountry",
}
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class EngagementWrite:
    """The engagement after the request, and the changes made (none: nothing needed to be)."""

    engagement: EngagementRecord
    changes: tuple[register.Change, ...] = ()


def _validated(build: Callable[[], M], problems: list[FieldProblem], whole: str) -> M | None:
    """`build()`, or None with its validation errors added to `problems` as input fields.

    An error of the model as a whole (an end before the start) is put on the field `whole`.
    """
    try:
        return build()
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            loc = error["loc"]
            field = _INPUT_FIELDS.get(str(loc[0]), str(loc[0])) if loc else whole
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(FieldProblem(field, f"{field}: {message}"))
        return None


def _single(doc: d.RopaDocument, kind: str) -> m.Entity:
    return next(e for e in from_document.entities(doc) if e.kind == kind)


def engagement_entity(engagement: d.Engagement) -> m.Entity:
    """The entity `graph.from_document` makes of a document's engagement."""
    return _single(d.RopaDocument(register_info=_SCRATCH, engagements=[engagement]), m.ENGAGEMENT)


def organisation_entity(organisation: d.Organisation) -> m.Entity:
    """The entity `graph.from_document` makes of a document's organisation."""
    doc = d.RopaDocument(register_info=_SCRATCH, organisations=[organisation])
    return _single(doc, m.ORGANISATION)


def engagement_record(engagement: d.Engagement) -> EngagementRecord:
    """What the API shows of a document engagement."""
    props = {**to_props(engagement), "id": engagement.id}
    return EngagementRecord(
        **own_fields(EngagementRecord, d.Engagement, props),
        processor_id=engagement.processor,
        sub_processor_id=engagement.sub_processor,
        category_ids=tuple(sorted(set(engagement.data_categories))),
        activity_id=engagement.activity,
    )


def _same(a: m.Entity, b: m.Entity) -> bool:
    return a.props == b.props and a.links == b.links


async def _registers_of(tx: AsyncManagedTransaction, kind: str, entity_id: str) -> list[str]:
    return await register.declaring_registers(tx, m.entity_key(kind, entity_id))


async def own_registers(tx: AsyncManagedTransaction, organisation: str) -> list[str]:
    """The ids of the registers `organisation` owns (keeps itself), in order."""
    result = await tx.run(_OWN_REGISTERS, organisation=organisation)
    return [record["register"] async for record in result]


async def owners(
    tx: AsyncManagedTransaction, processor: str, engagement_id: str | None
) -> list[str]:
    """The registers owning an engagement of `processor` (None: a new one), by the rule above."""
    if engagement_id is None:
        declaring = await _registers_of(tx, m.ORGANISATION, processor)
    else:
        declaring = await _registers_of(tx, m.ENGAGEMENT, engagement_id) or await _registers_of(
            tx, m.ORGANISATION, processor
        )
    return engagement_owners(await own_registers(tx, processor), declaring)


async def _write(
    tx: AsyncManagedTransaction,
    registers: list[str],
    entities: list[m.Entity],
    engagement: d.Engagement,
    actor: Author,
) -> EngagementWrite:
    plan = await register.upsert_entities_in(tx, registers, entities, actor)
    return EngagementWrite(engagement_record(engagement), tuple(plan.changes))


async def engage_in(
    tx: AsyncManagedTransaction, request: EngageRequest, principal: Principal
) -> EngagementWrite:
    """Engage a sub-processor (created, named as given, if no organisation has that id or name).

    An engagement of the same pair identical in every field is the one asked for: it is
    returned and nothing is written (which also makes a retried transaction harmless).
    """
    await changes.lock(tx)
    problems: list[FieldProblem] = []
    processor, named_several = await write_refs.organisation(
        tx, request.processor, "processor", problems
    )
    sub, ambiguous = await write_refs.organisation(
        tx, request.sub_processor, "subProcessor", problems
    )
    categories = await write_refs.categories(tx, request.categories, problems)
    registers: list[str] = []
    if processor is None and not named_several:
        problems.append(
            FieldProblem("processor", f"no organisation with id or name '{request.processor}'")
        )
    elif processor is not None:
        owning = await owners(tx, processor, None)
        if not owning:
            problems.append(
                FieldProblem("processor", f"no register declares the organisation '{processor}'")
            )
        else:
            require_change(principal, owning, f"the sub-processors of '{processor}'")
            registers = writable_registers(principal, owning)
        if sub == processor:
            problems.append(FieldProblem("subProcessor", "a processor cannot engage itself"))
    new_org: d.Organisation | None = None
    if sub is None and not ambiguous:
        new_org = _validated(
            lambda: d.Organisation(
                id="new", name=request.sub_processor, country=request.sub_processor_country
            ),
            problems,
            "subProcessor",
        )
    draft = _validated(
        lambda: d.Engagement(
            id="new",
            processor=processor or "new",
            sub_processor=sub or "new",
            purpose=request.purpose,
            data_categories=categories,
            location=request.location,
            since=request.since,
            status=request.status,
            notice_date=request.announced_on,
        ),
        problems,
        "since",
    )
    if problems or draft is None or processor is None:
        raise InvalidInput(problems)
    entities: list[m.Entity] = []
    if new_org is not None:
        sub = await write_refs.free_id(tx, m.ORGANISATION, write_refs.slug(new_org.name))
        entities.append(organisation_entity(new_org.model_copy(update={"id": sub})))
    elif sub is not None:
        same = await _identical(tx, draft)
        if same is not None:
            return EngagementWrite(engagement_record(same))
    assert sub is not None
    engagement = draft.model_copy(
        update={
            "id": await write_refs.free_id(tx, m.ENGAGEMENT, write_refs.slug(f"{processor}-{sub}")),
            "sub_processor": sub,
        }
    )
    entities.append(engagement_entity(engagement))
    return await _write(tx, registers, entities, engagement, principal)


async def _identical(tx: AsyncManagedTransaction, draft: d.Engagement) -> d.Engagement | None:
    """An engagement of the draft's pair identical to it in every field but the id, if any."""
    result = await tx.run(_OF_PAIR, processor=draft.processor, subProcessor=draft.sub_processor)
    keys = [record["key"] async for record in result]
    for entity in sorted((await register.entities_in(tx, keys)).values(), key=lambda e: e.id):
        candidate = draft.model_copy(update={"id": entity.id})
        if _same(engagement_entity(candidate), entity):
            return candidate
    return None


async def _current(
    tx: AsyncManagedTransaction, engagement_id: str
) -> tuple[m.Entity, d.Engagement]:
    key = m.entity_key(m.ENGAGEMENT, engagement_id)
    found = (await register.entities_in(tx, [key])).get(key)
    if found is None:
        raise InvalidInput([FieldProblem("id", f"no engagement with id '{engagement_id}'")])
    doc = document_from_snapshots(_SCRATCH, [found.snapshot()], source=key)
    return found, doc.engagements[0]


async def _authorise(
    tx: AsyncManagedTransaction, current: d.Engagement, principal: Principal
) -> None:
    owning = await owners(tx, current.processor, current.id)
    require_change(principal, owning, f"the engagement '{current.id}'")


async def _rewrite(
    tx: AsyncManagedTransaction, current: d.Engagement, new: d.Engagement, actor: Author
) -> EngagementWrite:
    key = m.entity_key(m.ENGAGEMENT, current.id)
    registers = await register.declaring_registers(tx, key) or await _registers_of(
        tx, m.ORGANISATION, new.processor
    )
    if not registers:
        raise InvalidInput(
            [FieldProblem("id", f"no register declares the engagement '{current.id}'")]
        )
    return await _write(tx, registers, [engagement_entity(new)], new, actor)


async def update_in(
    tx: AsyncManagedTransaction,
    engagement_id: str,
    update: EngagementUpdate,
    principal: Principal,
) -> EngagementWrite:
    """Change the given fields of an engagement; the others (and its links) stay as they are."""
    await changes.lock(tx)
    _, current = await _current(tx, engagement_id)
    await _authorise(tx, current, principal)
    problems: list[FieldProblem] = []
    categories = (
        await write_refs.categories(tx, update.categories, problems)
        if update.categories is not None
        else None
    )
    given = {
        "purpose": update.purpose,
        "data_categories": categories,
        "location": update.location,
        "since": update.since,
        "status": update.status,
    }
    fields = current.model_dump() | {k: v for k, v in given.items() if v is not None}
    new = _validated(lambda: d.Engagement.model_validate(fields), problems, "since")
    if problems or new is None:
        raise InvalidInput(problems)
    return await _rewrite(tx, current, new, principal)


async def end_in(
    tx: AsyncManagedTransaction, engagement_id: str, until: dt.date, principal: Principal
) -> EngagementWrite:
    """Set the last day of an engagement that has none; its status stays as it is.

    Ending it again on the same day changes nothing (and is no error, so that a retried
    transaction succeeds); an engagement that already has another last day, or was withdrawn,
    is refused.
    """
    await changes.lock(tx)
    _, current = await _current(tx, engagement_id)
    await _authorise(tx, current, principal)
    if current.until == until:
        return EngagementWrite(engagement_record(current))
    problems: list[FieldProblem] = []
    if current.until is not None:
        problems.append(
            FieldProblem("id", f"engagement '{engagement_id}' already ended on {current.until}")
        )
    elif current.status is d.EngagementStatus.WITHDRAWN:
        problems.append(FieldProblem("id", f"engagement '{engagement_id}' is withdrawn"))
    elif current.since is not None and until < current.since:
        problems.append(
            FieldProblem("until", f"until {until} is before the engagement's since {current.since}")
        )
    if problems:
        raise InvalidInput(problems)
    new = d.Engagement.model_validate(current.model_dump() | {"until": until})
    return await _rewrite(tx, current, new, principal)


async def engage(db: Database, request: EngageRequest, principal: Principal) -> EngagementWrite:
    """`engage_in` in one write transaction."""
    return await db.write(engage_in, request, principal)


async def update(
    db: Database, engagement_id: str, changes_: EngagementUpdate, principal: Principal
) -> EngagementWrite:
    """`update_in` in one write transaction."""
    return await db.write(update_in, engagement_id, changes_, principal)


async def end(
    db: Database, engagement_id: str, until: dt.date, principal: Principal
) -> EngagementWrite:
    """`end_in` in one write transaction."""
    return await db.write(end_in, engagement_id, until, principal)


async def _due_proposals(tx: AsyncManagedTransaction, today: dt.date, limit: int) -> list[str]:
    result = await tx.run(_DUE_PROPOSALS, today=today, limit=limit)
    return [record["id"] async for record in result]


async def activate_in(
    tx: AsyncManagedTransaction, engagement_id: str, today: dt.date, actor: str
) -> EngagementWrite:
    """Make a proposed engagement whose `since` has come active (with its change event).

    Anything else (already active, withdrawn, not yet due, gone) is left as it is: a second
    notifier, or a retry, finds nothing to do.
    """
    await changes.lock(tx)
    key = m.entity_key(m.ENGAGEMENT, engagement_id)
    if key not in await register.entities_in(tx, [key]):
        raise InvalidInput([FieldProblem("id", f"no engagement with id '{engagement_id}'")])
    _, current = await _current(tx, engagement_id)
    due = current.since is not None and current.since <= today
    if current.status is not d.EngagementStatus.PROPOSED or not due:
        return EngagementWrite(engagement_record(current))
    new = current.model_copy(update={"status": d.EngagementStatus.ACTIVE})
    return await _rewrite(tx, current, new, actor)


async def activate_due(db: Database, today: dt.date, actor: str, limit: int = 100) -> int:
    """Make every proposed engagement due by `today` active, one transaction each; how many."""
    activated = 0
    for engagement_id in await db.read(_due_proposals, today, limit):
        try:
            done = await db.write(activate_in, engagement_id, today, actor)
        except InvalidInput:
            continue  # taken out of the register meanwhile
        activated += 1 if done.changes else 0
    return activated
