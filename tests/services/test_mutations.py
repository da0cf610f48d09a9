"""The engagement mutations over the API: what they write, what they refuse, who they name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from graph import changes
from graph.database import Database
from tests.services.conftest import GraphQL

pytestmark = pytest.mark.neo4j

ENGAGEMENT = """
  engagement {
    id processor { id name } subProcessor { id name country }
    purpose categories { id } location since until status
  }
  errors { field message }
"""
ENGAGE = (
    """
mutation ($input: EngageSubProcessorInput!) {
  engageSubProcessor(input: $input) {"""
    + ENGAGEMENT
    + "}}"
)
UPDATE = (
    """
mutation ($id: ID!, $input: UpdateEngagementInput!) {
  updateEngagement(id: $id, input: $input) {"""
    + ENGAGEMENT
    + "}}"
)
END = (
    """
mutation ($id: ID!, $until: Date!) {
  endEngagement(id: $id, until: $until) {"""
    + ENGAGEMENT
    + "}}"
)
SUB_PROCESSORS = """
query ($asOf: Date) {
  subProcessors(processor: "Portal Co Ltd", asOf: $asOf) { id subProcessor { name } }
}
"""
MAIL = {
    "processor": "portal co ltd",
    "subProcessor": "Mail Co Ltd",
    "purpose": "Sending e-mail",
    "categories": ["Contact details"],
    "location": "United Kingdom",
    "since": "2024-09-01",
}


async def _head(db: Database) -> int:
    return await db.read(changes.last_sequence)


async def test_engage_by_names(change_register: Database, as_dpo: GraphQL) -> None:
    payload = (await as_dpo(ENGAGE, input=MAIL))["engageSubProcessor"]
    assert payload["errors"] == []
    assert payload["engagement"] == {
        "id": "portal-co-mail-co",
        "processor": {"id": "portal-co", "name": "Portal Co Ltd"},
        "subProcessor": {"id": "mail-co", "name": "Mail Co Ltd", "country": None},
        "purpose": "Sending e-mail",
        "categories": [{"id": "contact-details"}],
        "location": "United Kingdom",
        "since": "2024-09-01",
        "until": None,
        "status": "ACTIVE",
    }
    listed = await as_dpo(SUB_PROCESSORS, asOf="2024-09-01")
    assert [e["id"] for e in listed["subProcessors"]] == ["portal-hosting", "portal-co-mail-co"]
    before = await as_dpo(SUB_PROCESSORS, asOf="2024-08-31")
    assert [e["id"] for e in before["subProcessors"]] == ["portal-hosting"]


async def test_an_unknown_sub_processor_is_created(
    change_register: Database, as_dpo: GraphQL
) -> None:
    given = MAIL | {"subProcessor": "Cloud Backup Ltd", "subProcessorCountry": "GB"}
    engagement = (await as_dpo(ENGAGE, input=given))["engageSubProcessor"]["engagement"]
    assert engagement["id"] == "portal-co-cloud-backup-ltd"
    assert engagement["subProcessor"] == {
        "id": "cloud-backup-ltd",
        "name": "Cloud Backup Ltd",
        "country": "GB",
    }
    found = await as_dpo('{ organisation(ref: "cloud backup ltd") { id kind } }')
    assert found["organisation"] == {"id": "cloud-backup-ltd", "kind": "OTHER"}


async def test_every_change_event_names_the_token(
    change_register: Database, as_dpo: GraphQL
) -> None:
    head = await _head(change_register)
    await as_dpo(ENGAGE, input=MAIL)
    await as_dpo(UPDATE, id="portal-hosting", input={"purpose": "Hosting and backups"})
    await as_dpo(END, id="portal-hosting", until="2025-08-31")
    events = await change_register.read(changes.read_after, head, 10)
    assert [(e.entity_id, e.op, e.actor) for e in events] == [
        ("portal-co-mail-co", "CREATED", "dpo-alice"),
        ("portal-hosting", "UPDATED", "dpo-alice"),
        ("portal-hosting", "UPDATED", "dpo-alice"),
    ]


async def test_update_changes_only_what_it_names(
    change_register: Database, as_dpo: GraphQL
) -> None:
    payload = await as_dpo(
        UPDATE,
        id="portal-hosting",
        input={"categories": ["pupil-data", "contact-details"], "status": "PROPOSED"},
    )
    engagement = payload["updateEngagement"]["engagement"]
    assert engagement["categories"] == [{"id": "contact-details"}, {"id": "pupil-data"}]
    assert (engagement["purpose"], engagement["location"], engagement["status"]) == (
        "Hosting",
        "United Kingdom",
        "PROPOSED",
    )


async def test_end_sets_the_last_day(change_register: Database, as_dpo: GraphQL) -> None:
    payload = await as_dpo(END, id="portal-hosting", until="2025-08-31")
    engagement = payload["endEngagement"]["engagement"]
    assert (engagement["until"], engagement["status"]) == ("2025-08-31", "ACTIVE")
    in_force = await as_dpo(SUB_PROCESSORS, asOf="2025-08-31")
    ended = await as_dpo(SUB_PROCESSORS, asOf="2025-09-01")
    assert [len(in_force["subProcessors"]), len(ended["subProcessors"])] == [1, 0]


async def test_a_future_since_is_advance_notice(change_register: Database, as_dpo: GraphQL) -> None:
    payload = await as_dpo(ENGAGE, input=MAIL | {"since": "2099-01-01", "status": "PROPOSED"})
    assert payload["engageSubProcessor"]["engagement"]["since"] == "2099-01-01"
    assert payload["engageSubProcessor"]["engagement"]["status"] == "PROPOSED"


@pytest.mark.parametrize(
    ("mutation", "variables", "errors"),
    [
        (
            ENGAGE,
            {"input": MAIL | {"processor": "Nobody Ltd"}},
            [{"field": "processor", "message": "no organisation with id or name 'Nobody Ltd'"}],
        ),
        (
            ENGAGE,
            {"input": MAIL | {"categories": ["Contact details", "Shoe size"]}},
            [{"field": "categories", "message": "no data category with id or name 'Shoe size'"}],
        ),
        (
            ENGAGE,
            {"input": MAIL | {"purpose": "  "}},
            [{"field": "purpose", "message": "purpose: String should have at least 1 character"}],
        ),
        (
            END,
            {"id": "portal-hosting", "until": "2022-02-13"},
            [
                {
                    "field": "until",
                    "message": "until 2022-02-13 is before the engagement's since 2022-02-14",
                }
            ],
        ),
        (
            UPDATE,
            {"id": "no-such-engagement", "input": {"purpose": "x"}},
            [{"field": "id", "message": "no engagement with id 'no-such-engagement'"}],
        ),
        (
            END,
            {"id": "no-such-engagement", "until": "2025-01-01"},
            [{"field": "id", "message": "no engagement with id 'no-such-engagement'"}],
        ),
    ],
    ids=[
        "unknown-processor",
        "unknown-category",
        "empty-purpose",
        "until-before-since",
        "unknown-engagement",
        "end-unknown",
    ],
)
async def test_expected_failures_come_back_in_errors_with_nothing_written(
    change_register: Database,
    as_user: Callable[[str | None], GraphQL],
    mutation: str,
    variables: dict[str, Any],
    errors: list[dict[str, Any]],
) -> None:
    from tests.services.conftest import DPO_TOKEN

    head = await _head(change_register)
    body = await as_user(DPO_TOKEN)(mutation, **variables)
    assert "errors" not in body
    (payload,) = body["data"].values()
    assert payload == {"engagement": None, "errors": errors}
    assert await _head(change_register) == head


async def test_an_engagement_already_ended_is_refused(
    change_register: Database, as_dpo: GraphQL
) -> None:
    await as_dpo(END, id="portal-hosting", until="2025-08-31")
    head = await _head(change_register)
    again = await as_dpo(END, id="portal-hosting", until="2025-08-31")
    other = await as_dpo(END, id="portal-hosting", until="2025-12-31")
    assert again["endEngagement"]["errors"] == []
    assert other["endEngagement"] == {
        "engagement": None,
        "errors": [
            {"field": "id", "message": "engagement 'portal-hosting' already ended on 2025-08-31"}
        ],
    }
    assert await _head(change_register) == head


async def test_invalid_values_are_graphql_errors(change_register: Database, as_user: Any) -> None:
    from tests.services.conftest import DPO_TOKEN

    body = await as_user(DPO_TOKEN)(ENGAGE, input=MAIL | {"since": "1 March 2024"})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "since" in body["errors"][0]["message"]
