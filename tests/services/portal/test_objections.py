"""Announcing, objecting and ending over the API: deadlines from the contract terms, objections
before and after them, proposed engagements taking effect, ends recorded as REMOVED."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from graph import changes, engagement_writes
from graph.database import Database
from tests.services.conftest import DPO_TOKEN, READER_TOKEN, GraphQL
from tests.services.portal.conftest import OBJECTION_WINDOW, TODAY, day

pytestmark = pytest.mark.neo4j

ENGAGEMENT = """
query ($asOf: Date) {
  subProcessors(processor: "portal-co", asOf: $asOf) { id status }
}
"""
OBJECT = """
mutation ($id: ID!, $reason: String!) {
  objectToEngagement(id: $id, reason: $reason) {
    objection { id register reason objectedAt }
    errors { field message }
  }
}
"""
ENGAGE = """
mutation ($input: EngageSubProcessorInput!) {
  engageSubProcessor(input: $input) {
    engagement { id status announcedOn effectiveFrom since noticeDate objectionDeadline }
    errors { field message }
  }
}
"""
OBJECTIONS_OF = """
query {
  changes(processor: "portal-co", first: 100) { id type }
}
"""


async def _events(db: Database, entity_type: str) -> list[changes.ChangeEvent]:
    found = await db.read(changes.read_after, 0, 1000)
    return [e for e in found if e.entity_type == entity_type]


async def test_objection_before_the_deadline(
    portal_register: Database, as_user: Callable[[str | None], GraphQL]
) -> None:
    post = as_user(DPO_TOKEN)
    body = await post(OBJECT, id="portal-stats", reason="  Statistics need no pupil data.  ")
    assert "errors" not in body, body
    payload = body["data"]["objectToEngagement"]
    assert payload["errors"] == []
    objection = payload["objection"]
    assert (objection["register"], objection["reason"]) == (
        "school",
        "Statistics need no pupil data.",
    )
    # A change event, in the same log as everything else, naming the processor.
    (event,) = await _events(portal_register, "Objection")
    assert event.op == "CREATED"
    assert (event.actor, event.actor_via) == ("dpo-alice", "token")
    assert event.after is not None
    assert {"type": "ENGAGED_BY", "to": "Organisation:portal-co"} in event.after["links"]
    # Objecting again is the same objection, and records nothing more.
    again = (await post(OBJECT, id="portal-stats", reason="Again"))["data"]
    assert again["objectToEngagement"]["objection"]["id"] == objection["id"]
    assert len(await _events(portal_register, "Objection")) == 1


async def test_the_engagement_shows_deadline_and_objections(
    portal_register: Database, as_user: Callable[[str | None], GraphQL]
) -> None:
    post = as_user(DPO_TOKEN)
    await post(OBJECT, id="portal-stats", reason="No")
    query = """
    query { activities(controller: "school") { id } }
    """
    assert "errors" not in await post(query)
    found = await post(
        """
        mutation { updateEngagement(id: "portal-stats", input: {}) {
          engagement { announcedOn effectiveFrom objectionDeadline
                       objections { register reason } }
          errors { message } } }
        """
    )
    engagement = found["data"]["updateEngagement"]["engagement"]
    assert engagement == {
        "announcedOn": day(-5),
        "effectiveFrom": day(25),
        "objectionDeadline": day(-5 + OBJECTION_WINDOW),
        "objections": [{"register": "school", "reason": "No"}],
    }


async def test_objection_after_the_deadline(
    portal_register: Database, as_user: Callable[[str | None], GraphQL]
) -> None:
    body = await as_user(DPO_TOKEN)(OBJECT, id="portal-late", reason="Too late?")
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "OBJECTION_WINDOW_CLOSED"
    assert error["message"] == (
        f"engagement 'portal-late' cannot be objected to: objections closed on "
        f"{day(-20 + OBJECTION_WINDOW)} (today is {TODAY.isoformat()})"
    )
    assert await _events(portal_register, "Objection") == []


async def test_objection_refused_to_a_reader_and_for_unknown_engagements(
    portal_register: Database, as_user: Callable[[str | None], GraphQL]
) -> None:
    body = await as_user(READER_TOKEN)(OBJECT, id="portal-stats", reason="No")
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = await as_user(None)(OBJECT, id="portal-stats", reason="No")
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    payload = (await as_user(DPO_TOKEN)(OBJECT, id="no-such", reason="No"))["data"]
    assert payload["objectToEngagement"]["errors"] == [
        {"field": "id", "message": "no engagement with id 'no-such'"}
    ]
    payload = (await as_user(DPO_TOKEN)(OBJECT, id="portal-stats", reason=" "))["data"]
    assert payload["objectToEngagement"]["errors"][0]["field"] == "reason"


async def test_announced_engagement_takes_effect_on_its_day(
    portal_register: Database, as_user: Callable[[str | None], GraphQL]
) -> None:
    post = as_user(DPO_TOKEN)
    new = {
        "processor": "portal-co",
        "subProcessor": "Mail Co Ltd",
        "purpose": "Newsletters",
        "categories": ["contact-details"],
        "since": day(40),
    }
    engagement = (await post(ENGAGE, input=new))["data"]["engageSubProcessor"]["engagement"]
    assert engagement["status"] == "PROPOSED"
    assert engagement["announcedOn"] == engagement["noticeDate"] == TODAY.isoformat()
    assert engagement["effectiveFrom"] == engagement["since"] == day(40)
    assert engagement["objectionDeadline"] == day(OBJECTION_WINDOW)
    # Not in force on its day until it is made active; then it is, through a recorded change.
    listed = (await post(ENGAGEMENT, asOf=day(40)))["data"]["subProcessors"]
    assert engagement["id"] not in [e["id"] for e in listed]
    later = TODAY + dt.timedelta(days=40)
    head = await portal_register.read(changes.last_sequence)
    # Both proposals (portal-late at day 10, the new one at day 40) are due by then.
    assert await engagement_writes.activate_due(portal_register, later, "ropa-notifier") == 3
    assert await engagement_writes.activate_due(portal_register, later, "ropa-notifier") == 0
    listed = (await post(ENGAGEMENT, asOf=day(40)))["data"]["subProcessors"]
    assert {"id": engagement["id"], "status": "ACTIVE"} in listed
    events = await portal_register.read(changes.read_after, head, 100)
    assert [(e.entity_id, e.actor) for e in events] == [
        ("portal-late", "ropa-notifier"),
        ("portal-stats", "ropa-notifier"),
        (engagement["id"], "ropa-notifier"),
    ]


async def test_ending_is_a_removal_from_the_next_day(
    portal_register: Database, as_user: Callable[[str | None], GraphQL]
) -> None:
    post = as_user(DPO_TOKEN)
    end = 'mutation { endEngagement(id: "portal-hosting", until: "%s") { errors { field } } }'
    assert "errors" not in await post(end % day(30))
    found = (await post(OBJECTIONS_OF))["data"]["changes"]
    assert found[-1]["type"] == "REMOVED"
    detail = await post(
        'query { changes(processor: "portal-co", first: 100) { type effectiveFrom } }'
    )
    assert detail["data"]["changes"][-1] == {"type": "REMOVED", "effectiveFrom": day(31)}
