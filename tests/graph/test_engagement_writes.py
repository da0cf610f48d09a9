"""Engagements changed one at a time: the same events as `ropa apply`, nothing half written."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from graph import changes, engagement_writes, from_document, register
from graph import subprocessor_changes as spc
from graph.database import Database
from graph.engagement_writes import EngagementWrite
from schema.access.policy import Forbidden
from schema.access.principal import Principal, Role, Via, admin
from schema.change_requests import EngagementUpdate, EngageRequest, FieldProblem, InvalidInput
from schema.document import EngagementStatus
from schema.graphql.records import AssumptionRecord
from schema.validation import parse_document

pytestmark = pytest.mark.neo4j

ALICE = admin("dpo:alice", Via.TOKEN)
A = admin("a", Via.TOKEN)

HOSTING: dict[str, Any] = {
    "id": "portal-hosting",
    "processor": "portal-co",
    "sub_processor": "hosting-co",
    "purpose": "Hosting",
    "data_categories": ["pupil-data"],
    "location": "United Kingdom",
    "since": "2022-02-14",
    "notice_date": "2022-01-14",
    "assumptions": ["The contract says so"],
}


def _document(
    engagements: list[dict[str, Any]],
    extra_orgs: list[dict[str, Any]] | None = None,
    register_id: str = "school",
    owner: str = "school",
) -> str:
    orgs = [
        {"id": o, "name": o.replace("-", " ").title(), "kind": "company"}
        for o in ("school", "portal-co", "hosting-co", "mail-co")
    ]
    return json.dumps(
        {
            "version": "ropa/v1",
            "register": {"id": register_id, "name": "School", "owner": owner},
            "organisations": orgs + (extra_orgs or []),
            "data_categories": [
                {"id": "pupil-data", "name": "Pupil data"},
                {"id": "contact-details", "name": "Contact details"},
            ],
            "engagements": engagements,
        }
    )


async def _apply(db: Database, text: str, actor: str = "dpo@school") -> register.Plan:
    doc = parse_document(text)
    return await register.apply(db, doc.register_info.id, from_document.entities(doc), actor)


async def _head(db: Database) -> int:
    return await db.read(changes.last_sequence)


async def _events_after(db: Database, after: int) -> list[dict[str, Any]]:
    found = await db.read(changes.read_after, after, 1000)
    return [
        {
            "entity": (e.entity_type, e.entity_id),
            "op": e.op,
            "before": e.before,
            "after": e.after,
            "register": e.register,
        }
        for e in found
    ]


def _engage(**overrides: Any) -> EngageRequest:
    fields: dict[str, Any] = {
        "processor": "Portal Co",
        "sub_processor": "mail-co",
        "purpose": "Sending e-mail",
        "categories": ("Contact details",),
        "since": dt.date(2024, 9, 1),
        "location": "United Kingdom",
    }
    return EngageRequest(**(fields | overrides))


MAIL = {
    "id": "portal-co-mail-co",
    "processor": "portal-co",
    "sub_processor": "mail-co",
    "purpose": "Sending e-mail",
    "data_categories": ["contact-details"],
    "location": "United Kingdom",
    "since": "2024-09-01",
}
BACKUP_ORG = {"id": "cloud-backup-ltd", "name": "Cloud Backup Ltd", "country": "GB"}
BACKUP = {
    "id": "portal-co-cloud-backup-ltd",
    "processor": "portal-co",
    "sub_processor": "cloud-backup-ltd",
    "purpose": "Backups",
    "data_categories": ["pupil-data"],
    "since": "2025-01-01",
    "status": "proposed",
}
UPDATED = HOSTING | {"purpose": "Hosting and backups", "data_categories": ["contact-details"]}
ENDED = UPDATED | {"until": "2025-08-31"}


async def test_mutations_record_the_same_events_as_applying_documents(db: Database) -> None:
    mutations: list[Callable[[], Awaitable[EngagementWrite]]] = [
        lambda: engagement_writes.engage(db, _engage(), ALICE),
        lambda: engagement_writes.update(
            db,
            "portal-hosting",
            EngagementUpdate(purpose="Hosting and backups", categories=("contact-details",)),
            ALICE,
        ),
        lambda: engagement_writes.end(db, "portal-hosting", dt.date(2025, 8, 31), ALICE),
        lambda: engagement_writes.engage(
            db,
            _engage(
                sub_processor="Cloud Backup Ltd",
                sub_processor_country="GB",
                purpose="Backups",
                categories=("pupil-data",),
                since=dt.date(2025, 1, 1),
                location=None,
                status=EngagementStatus.PROPOSED,
            ),
            ALICE,
        ),
    ]
    documents = [
        _document([HOSTING, MAIL]),
        _document([UPDATED, MAIL]),
        _document([ENDED, MAIL]),
        _document([ENDED, MAIL, BACKUP], [BACKUP_ORG]),
    ]

    await _apply(db, _document([HOSTING]))
    by_mutation = []
    for mutate in mutations:
        head = await _head(db)
        await mutate()
        by_mutation.append(await _events_after(db, head))

    await db.write(_wipe_register_data)
    await _apply(db, _document([HOSTING]))
    by_document = []
    for text in documents:
        head = await _head(db)
        await _apply(db, text)
        by_document.append(await _events_after(db, head))

    assert by_mutation == by_document
    assert [[(e["entity"], e["op"]) for e in step] for step in by_mutation] == [
        [(("Engagement", "portal-co-mail-co"), "CREATED")],
        [(("Engagement", "portal-hosting"), "UPDATED")],
        [(("Engagement", "portal-hosting"), "UPDATED")],
        [
            (("Organisation", "cloud-backup-ltd"), "CREATED"),
            (("Engagement", "portal-co-cloud-backup-ltd"), "CREATED"),
        ],
    ]


async def _wipe_register_data(tx: Any) -> None:
    # Keep the change log (and its sequence) so that the two runs read as one history.
    await tx.run("MATCH (n:Entity) DETACH DELETE n")


async def test_mutation_events_name_the_actor_and_the_register(db: Database) -> None:
    await _apply(db, _document([HOSTING]))
    head = await _head(db)
    written = await engagement_writes.engage(db, _engage(), ALICE)
    events = await db.read(changes.read_after, head, 10)
    assert [(e.actor, e.register, e.op) for e in events] == [("dpo:alice", "school", "CREATED")]
    assert written.engagement.id == "portal-co-mail-co"
    assert written.engagement.category_ids == ("contact-details",)
    assert [c.op for c in written.changes] == ["CREATED"]


async def test_a_later_plan_of_the_document_shows_the_drift(db: Database) -> None:
    await _apply(db, _document([HOSTING]))
    await engagement_writes.engage(db, _engage(), ALICE)
    doc = parse_document(_document([HOSTING]))
    plan = await register.plan(db, "school", from_document.entities(doc))
    assert [(c.op, c.entity.key) for c in plan.changes] == [
        ("DELETED", "Engagement:portal-co-mail-co")
    ]


async def test_every_register_declaring_the_processor_declares_the_new_engagement(
    db: Database,
) -> None:
    await _apply(db, _document([HOSTING], register_id="school-b"))
    await _apply(db, _document([HOSTING], register_id="school-a"))
    head = await _head(db)
    await engagement_writes.engage(db, _engage(sub_processor="New Mail Ltd"), ALICE)
    events = await db.read(changes.read_after, head, 10)
    assert {(e.entity_id, e.register) for e in events} == {
        ("new-mail-ltd", "school-a"),
        ("portal-co-new-mail-ltd", "school-a"),
    }
    for register_id in ("school-a", "school-b"):
        doc = parse_document(_document([HOSTING], register_id=register_id))
        plan = await register.plan(db, register_id, from_document.entities(doc))
        assert sorted(c.entity.key for c in plan.by_op("DELETED")) == [
            "Engagement:portal-co-new-mail-ltd",
            "Organisation:new-mail-ltd",
        ]


async def test_the_same_request_again_writes_nothing(db: Database) -> None:
    await _apply(db, _document([HOSTING]))
    first = await engagement_writes.engage(db, _engage(sub_processor="Cloud Backup Ltd"), A)
    head = await _head(db)
    again = await engagement_writes.engage(db, _engage(sub_processor="cloud backup ltd"), A)
    ended = await engagement_writes.end(db, first.engagement.id, dt.date(2025, 1, 1), A)
    head_after_end = await _head(db)
    ended_again = await engagement_writes.end(db, first.engagement.id, dt.date(2025, 1, 1), A)
    assert again.engagement == first.engagement
    assert again.changes == ()
    assert head_after_end == head + 1
    assert ended_again.changes == ()
    assert ended_again.engagement == ended.engagement
    assert await _head(db) == head_after_end


async def test_a_second_different_engagement_of_the_pair_gets_its_own_id(db: Database) -> None:
    await _apply(db, _document([HOSTING]))
    first = await engagement_writes.engage(db, _engage(), A)
    second = await engagement_writes.engage(db, _engage(purpose="Newsletters"), A)
    assert (first.engagement.id, second.engagement.id) == (
        "portal-co-mail-co",
        "portal-co-mail-co-2",
    )


async def _refused(db: Database, write: Any) -> list[FieldProblem]:
    head = await _head(db)
    with pytest.raises(InvalidInput) as caught:
        await write
    assert await _head(db) == head, "a refused request wrote change events"
    return caught.value.problems


async def test_refused_requests_write_nothing(db: Database) -> None:
    await _apply(db, _document([HOSTING]))
    problems = await _refused(
        db,
        engagement_writes.engage(
            db, _engage(processor="Nobody Ltd", categories=("pupil-data", "shoe size")), A
        ),
    )
    assert problems == [
        FieldProblem("categories", "no data category with id or name 'shoe size'"),
        FieldProblem("processor", "no organisation with id or name 'Nobody Ltd'"),
    ]
    problems = await _refused(
        db, engagement_writes.engage(db, _engage(sub_processor="Brand New Ltd", purpose=" "), A)
    )
    assert [p.field for p in problems] == ["purpose"]
    problems = await _refused(
        db, engagement_writes.end(db, "portal-hosting", dt.date(2022, 2, 13), A)
    )
    assert problems == [
        FieldProblem("until", "until 2022-02-13 is before the engagement's since 2022-02-14")
    ]
    problems = await _refused(
        db, engagement_writes.update(db, "no-such", EngagementUpdate(purpose="x"), A)
    )
    assert problems == [FieldProblem("id", "no engagement with id 'no-such'")]
    await engagement_writes.end(db, "portal-hosting", dt.date(2024, 7, 31), A)
    problems = await _refused(
        db, engagement_writes.end(db, "portal-hosting", dt.date(2024, 8, 31), A)
    )
    assert problems == [
        FieldProblem("id", "engagement 'portal-hosting' already ended on 2024-07-31")
    ]
    problems = await _refused(
        db,
        engagement_writes.update(
            db, "portal-hosting", EngagementUpdate(since=dt.date(2024, 8, 1)), A
        ),
    )
    assert problems == [FieldProblem("since", "since: until 2024-07-31 is before since 2024-08-01")]
    problems = await _refused(
        db, engagement_writes.engage(db, _engage(sub_processor="portal-co"), A)
    )
    assert problems == [FieldProblem("subProcessor", "a processor cannot engage itself")]


async def test_an_update_keeps_what_it_does_not_name(db: Database) -> None:
    await _apply(db, _document([HOSTING]))
    written = await engagement_writes.update(
        db, "portal-hosting", EngagementUpdate(status=EngagementStatus.WITHDRAWN), A
    )
    record = written.engagement
    assert (record.status, record.purpose, record.notice_date, record.assumptions) == (
        EngagementStatus.WITHDRAWN,
        "Hosting",
        dt.date(2022, 1, 14),
        (AssumptionRecord("The contract says so"),),
    )
    unchanged = await engagement_writes.update(db, "portal-hosting", EngagementUpdate(), A)
    assert unchanged.changes == ()


def test_slugs() -> None:
    from graph.write_refs import slug

    assert slug("Link ICT Services Ltd.") == "link-ict-services-ltd"
    assert slug("Société Générale") == "societe-generale"
    assert slug("***") == "organisation"
    assert len(slug("x" * 200)) <= 74


def _dpo(*registers: str) -> Principal:
    return Principal(f"dpo-{'-'.join(registers)}", Role.DPO, frozenset(registers))


async def _declaring(db: Database, kind: str, entity_id: str) -> list[str]:
    return await db.read(register.declaring_registers, f"{kind}:{entity_id}")


async def _forbidden(db: Database, write: Awaitable[EngagementWrite]) -> None:
    head = await _head(db)
    with pytest.raises(Forbidden):
        await write
    assert await _head(db) == head, "a forbidden request wrote change events"


async def test_the_declaring_registers_own_an_engagement_of_a_processor_without_one(
    db: Database,
) -> None:
    await _apply(db, _document([HOSTING]))
    await _apply(db, _document([HOSTING], register_id="school-b"))
    update = EngagementUpdate(purpose="Hosting and backups")
    # A dpo of either declaring register may change it; a dpo of neither, or a reader, may not.
    await engagement_writes.update(db, "portal-hosting", update, _dpo("school-b"))
    await _forbidden(db, engagement_writes.update(db, "portal-hosting", update, _dpo("other")))
    reader = Principal("reader", Role.READER, frozenset({"school"}))
    await _forbidden(db, engagement_writes.end(db, "portal-hosting", dt.date(2025, 1, 1), reader))
    # A new engagement is declared by the owning registers in the principal's scope only.
    written = await engagement_writes.engage(db, _engage(), _dpo("school"))
    assert await _declaring(db, "Engagement", written.engagement.id) == ["school"]
    await _forbidden(db, engagement_writes.engage(db, _engage(purpose="X"), _dpo("other")))


async def test_a_processor_that_keeps_its_own_register_owns_its_engagements(
    db: Database,
) -> None:
    await _apply(db, _document([HOSTING]))
    await _apply(db, _document([HOSTING], register_id="portal-register", owner="portal-co"))
    update = EngagementUpdate(purpose="Hosting and backups")
    # The schools that declare the engagement do not own it: the processor's register does.
    await _forbidden(db, engagement_writes.update(db, "portal-hosting", update, _dpo("school")))
    await _forbidden(db, engagement_writes.engage(db, _engage(), _dpo("school")))
    await engagement_writes.update(db, "portal-hosting", update, _dpo("portal-register"))
    written = await engagement_writes.engage(db, _engage(), _dpo("portal-register"))
    assert await _declaring(db, "Engagement", written.engagement.id) == ["portal-register"]
    # The change belongs to the processor's register.
    (event,) = [e for e in await db.read(changes.read_after, 0, 1000)][-1:]
    assert event.registers == ("portal-register",)


async def test_changes_are_read_by_the_registers_they_belong_to(db: Database) -> None:
    # What a webhook registered by a principal of one register is sent (services/notifier).
    await _apply(db, _document([HOSTING]))
    await _apply(db, _document([HOSTING | {"id": "b-hosting"}], register_id="school-b"))

    async def ids(registers: frozenset[str] | None) -> list[str]:
        page = await db.read(spc.changes_page, 0, None, 10, registers)
        return [str((c.after or {}).get("id")) for c in page.changes]

    assert await ids(frozenset({"school"})) == ["portal-hosting"]
    assert await ids(frozenset({"school-b"})) == ["b-hosting"]
    assert await ids(frozenset({"other"})) == []
    assert await ids(None) == ["portal-hosting", "b-hosting"]
