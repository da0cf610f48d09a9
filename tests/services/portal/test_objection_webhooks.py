"""Objections by webhook: an objection is a change event the notifier sends, in sequence order
with the sub-processor changes, signed, to the endpoints whose scope may see it (the objecting
register's and the processor's own register's), and a notifier killed by kill -9 mid-batch
loses none of them."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from typing import Any

import pytest
from neo4j import AsyncManagedTransaction
from pydantic import SecretStr

from graph import changes, engagement_writes, from_document, objections, register, webhooks
from graph.database import Database
from graph.secret_box import SecretBox
from schema.access.principal import Principal, Role, admin
from schema.change_requests import EngagementUpdate
from schema.validation import parse_document
from schema.webhook_url import TargetPolicy
from services.notifier import payload
from tests.services.conftest import ADMIN_TOKEN, DPO_TOKEN, ELSEWHERE_DPO_TOKEN, GraphQL
from tests.services.notifier.conftest import (
    MakeReceiver,
    Receiver,
    RunNotifier,
    StartNotifier,
    eventually,
    verify_all,
)
from tests.services.portal.conftest import TODAY, day, document

pytestmark = pytest.mark.neo4j

LOOPBACK = TargetPolicy(allow_loopback=True)
# The key tests/conftest.py gives every component of the test session.
BOX = SecretBox.from_setting(SecretStr(os.environ["ROPA_SECRET_KEY"]), required=True)
SCHOOL_DPO = Principal(name="dpo-school", role=Role.DPO, registers=frozenset({"school"}))
NOTICE_TYPES = ("Engagement", "Objection")


def _registers(extra_engagements: int = 0) -> list[dict[str, Any]]:
    """The school's register (with `extra_engagements` more announced ones), the processor's
    own (Article 30(2)) register, and another school's, which uses another processor."""
    school = document()
    template = next(e for e in school["engagements"] if e["id"] == "portal-stats")
    for n in range(extra_engagements):
        school["engagements"].append(copy.deepcopy(template) | {"id": f"portal-extra-{n}"})
    portal_own = {
        "version": "ropa/v1",
        "register": {"id": "portal-own", "name": "Portal Co's register", "owner": "portal-co"},
        "organisations": [
            {
                "id": "portal-co",
                "name": "Portal Co Ltd",
                "kind": "company",
                "dpo": {"name": "Pat Portal", "email": "dpo@portal-co.example"},
            }
        ],
    }
    elsewhere = {
        "version": "ropa/v1",
        "register": {"id": "elsewhere", "name": "Another school", "owner": "other-school"},
        "organisations": [
            {"id": "other-school", "name": "Other School", "kind": "school"},
            {"id": "other-proc", "name": "Other Processor Ltd", "kind": "company"},
            {"id": "hosting-co", "name": "Hosting Co Ltd", "kind": "company"},
        ],
        "engagements": [
            {
                "id": "other-hosting",
                "processor": "other-proc",
                "sub_processor": "hosting-co",
                "purpose": "Hosting",
                "since": day(-100),
            }
        ],
    }
    return [school, portal_own, elsewhere]


async def _apply(db: Database, doc: dict[str, Any]) -> None:
    parsed = parse_document(json.dumps(doc))
    await register.apply(db, parsed.register_info.id, from_document.entities(parsed), "tests")


async def _expected(db: Database, after: int, keep: Any) -> list[int]:
    """The sequences of the notices after `after` that `keep(event)` selects, read straight
    from the change log (independently of graph.webhooks)."""
    out: list[int] = []
    while events := await db.read(changes.read_after, after, 500):
        out += [e.sequence for e in events if e.entity_type in NOTICE_TYPES and keep(e)]
        after = events[-1].sequence
    return out


def _by_type(receiver: Receiver) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for delivery in receiver.accepted():
        out.setdefault(delivery.json["type"], []).append(delivery.json["data"])
    return out


async def test_an_objection_reaches_the_webhooks_that_may_see_it(
    db: Database, receivers: MakeReceiver, run_notifier: RunNotifier
) -> None:
    for doc in _registers():
        await _apply(db, doc)
    everything, school, processor, elsewhere = (receivers() for _ in range(4))
    regs = {
        "everything": await webhooks.register(db, everything.url, None, "admin", LOOPBACK, box=BOX),
        "school": await webhooks.register(
            db, school.url, "portal-co", "dpo", LOOPBACK, frozenset({"school"}), box=BOX
        ),
        "processor": await webhooks.register(
            db, processor.url, "portal-co", "dpo", LOOPBACK, frozenset({"portal-own"}), box=BOX
        ),
        "elsewhere": await webhooks.register(
            db, elsewhere.url, None, "dpo", LOOPBACK, frozenset({"elsewhere"}), box=BOX
        ),
    }
    start = regs["everything"].endpoint.cursor
    await engagement_writes.update(
        db, "portal-stats", EngagementUpdate(purpose="Usage statistics v2"), admin("tests")
    )
    found = await objections.object_to(
        db, "portal-stats", "Statistics need no pupil data.", SCHOOL_DPO, TODAY
    )
    assert found.registers == ("school", "portal-own")
    # After the objection: what the other school's endpoint is sent, so that it is seen to
    # have passed the objection over, not to be waiting for it.
    elsewhere_doc = _registers()[2]
    elsewhere_doc["engagements"][0]["purpose"] = "Hosting v2"
    await _apply(db, elsewhere_doc)

    async with run_notifier():
        await eventually(lambda: len(everything.accepted()) >= 3, message="everything")
        await eventually(lambda: len(school.accepted()) >= 2, message="school")
        await eventually(lambda: len(processor.accepted()) >= 1, message="processor's DPO")
        await eventually(lambda: len(elsewhere.accepted()) >= 1, message="elsewhere")

    assert everything.sequences() == await _expected(db, start, lambda e: True)
    objection_event = (await _expected(db, start, lambda e: e.entity_type == "Objection"))[0]
    [data] = _by_type(processor)[payload.OBJECTION_CREATED]
    assert data == {
        "id": data["id"],
        "sequence": objection_event,
        "occurredAt": data["occurredAt"],
        "objection": found.id,
        "engagement": "portal-stats",
        "processor": "portal-co",
        "subProcessor": "stats-co",
        "register": "school",
        "reason": "Statistics need no pupil data.",
    }
    # The processor's DPO gets the objection and nothing of the school's register.
    assert list(_by_type(processor)) == [payload.OBJECTION_CREATED]
    assert [d.json["type"] for d in school.accepted()] == [
        "subprocessor.changed",
        payload.OBJECTION_CREATED,
    ]
    assert [d.json["data"]["processor"] for d in elsewhere.accepted()] == ["other-proc"]
    for name, receiver in (("everything", everything), ("processor", processor)):
        verify_all(regs[name].secret.get_secret_value(), receiver.snapshot())
    # Every endpoint caught up: no objection left pending for the one that may not see it.
    for reg in regs.values():
        stored = await webhooks.get(db, reg.endpoint.id)
        assert stored.cursor == await db.read(changes.last_sequence), reg.endpoint.url


async def test_the_engagement_shows_objections_only_to_those_who_may_see_them(
    db: Database, as_user: Callable[[str | None], GraphQL]
) -> None:
    school, *others = _registers()
    for engagement in school["engagements"]:
        if engagement["id"] == "portal-stats":
            engagement["status"] = "active"  # in force in 25 days: on the public list then
    for doc in (school, *others):
        await _apply(db, doc)
    await objections.object_to(db, "portal-stats", "No", SCHOOL_DPO, TODAY)
    query = (
        '{ subProcessors(processor: "portal-co", asOf: "' + day(30) + '") '
        "{ id objections { register reason } } }"
    )
    seen = {}
    for who, token in {
        "school's dpo": DPO_TOKEN,
        "admin": ADMIN_TOKEN,
        "anonymous": None,
        "another school's dpo": ELSEWHERE_DPO_TOKEN,
    }.items():
        body = await as_user(token)(query)
        assert "errors" not in body, body
        listed = {e["id"]: e["objections"] for e in body["data"]["subProcessors"]}
        seen[who] = listed["portal-stats"]  # the public list shows the engagement to all
    mine = [{"register": "school", "reason": "No"}]
    assert seen == {
        "school's dpo": mine,
        "admin": mine,
        "anonymous": [],
        "another school's dpo": [],
    }
    # The school's dashboard lists it (registerSummary is cut to the caller's scope).
    summary = await as_user(DPO_TOKEN)(
        '{ registerSummary(controller: "school") '
        "{ objections { register reason engagementId objectedAt } } }"
    )
    [listed] = summary["data"]["registerSummary"]["objections"]
    assert (listed["register"], listed["reason"], listed["engagementId"]) == (
        "school",
        "No",
        "portal-stats",
    )


@pytest.mark.slow
async def test_kill_9_mid_batch_loses_no_objection(
    db: Database, receivers: MakeReceiver, notifier_processes: StartNotifier
) -> None:
    extra = 12
    for doc in _registers(extra_engagements=extra):
        await _apply(db, doc)
    # Slow enough that the kill lands mid-batch.
    everything = receivers(delay=0.05)
    processor = receivers(delay=0.05)
    regs = {
        "everything": await webhooks.register(db, everything.url, None, "admin", LOOPBACK, box=BOX),
        "processor": await webhooks.register(
            db, processor.url, "portal-co", "dpo", LOOPBACK, frozenset({"portal-own"}), box=BOX
        ),
    }
    start = regs["everything"].endpoint.cursor
    # Objections interleaved with sub-processor changes: 24 notices, each its own transaction.
    for n in range(extra):
        the_id = f"portal-extra-{n}"
        await objections.object_to(db, the_id, f"Objection {n}", SCHOOL_DPO, TODAY)
        await engagement_writes.update(
            db, the_id, EngagementUpdate(purpose=f"Statistics v{n}"), admin("tests")
        )
    want = await _expected(db, start, lambda e: True)
    want_objections = await _expected(db, start, lambda e: e.entity_type == "Objection")
    assert (len(want), len(want_objections)) == (2 * extra, extra)

    first = notifier_processes()
    await first.healthy()
    await eventually(lambda: len(everything.accepted()) >= 6, within=60, message="deliveries")
    first.kill()
    killed_at = len(everything.accepted())
    assert killed_at < len(want), "the notifier finished before it was killed; nothing tested"
    second = notifier_processes()
    await second.healthy()
    await eventually(
        lambda: len(everything.accepted()) >= len(want), within=90, message="everything"
    )
    await eventually(
        lambda: len(processor.accepted()) >= len(want_objections), within=60, message="DPO's"
    )
    # De-duplicated by webhook-id: every notice, none missing, none out of order.
    assert everything.sequences() == want
    assert processor.sequences() == want_objections
    assert {d.json["type"] for d in processor.accepted()} == {payload.OBJECTION_CREATED}
    for name, receiver in (("everything", everything), ("processor", processor)):
        verify_all(regs[name].secret.get_secret_value(), receiver.snapshot())


async def test_an_objection_recorded_before_objections_had_registers_is_the_processors_too(
    db: Database,
) -> None:
    for doc in _registers():
        await _apply(db, doc)
    await objections.object_to(db, "portal-stats", "No", SCHOOL_DPO, TODAY)

    async def forget(tx: AsyncManagedTransaction) -> None:
        await tx.run("MATCH (o:Objection) REMOVE o.registers")

    await db.write(forget)
    [found] = (await objections.of_engagements(db, ["portal-stats"]))["portal-stats"]
    assert found.registers == ("school", "portal-own")
