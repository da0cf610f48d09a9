"""`changes`: the recorded sub-processor changes, in order, a page at a time."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.applications import Starlette

from graph import from_document, register
from graph.database import Database
from schema.validation import load_document, parse_document
from tests.services.conftest import CHANGES_REGISTER, GraphQL

pytestmark = pytest.mark.neo4j

CHANGES = """
query ($processor: String, $after: ID, $first: Int) {
  changes(processor: $processor, after: $after, first: $first) {
    id sequence type occurredAt effectiveFrom actor
    processor { id name }
    subProcessor { id name }
    before { id purpose status since until categoryIds categories { name } processor { id } }
    after { id purpose status since until categoryIds categories { name } subProcessor { name } }
  }
}
"""
ENGAGE = """
mutation ($input: EngageSubProcessorInput!) {
  engageSubProcessor(input: $input) { engagement { id } errors { message } }
}
"""


async def _engage(as_dpo: GraphQL, sub: str, purpose: str = "Mail") -> str:
    payload = await as_dpo(
        ENGAGE,
        input={
            "processor": "portal-co",
            "subProcessor": sub,
            "purpose": purpose,
            "categories": ["pupil-data"],
            "since": "2024-09-01",
        },
    )
    engagement_id: str = payload["engageSubProcessor"]["engagement"]["id"]
    return engagement_id


async def test_the_history_in_order_with_both_states(
    change_register: Database, as_dpo: GraphQL
) -> None:
    await _engage(as_dpo, "mail-co")
    await as_dpo(
        'mutation { endEngagement(id: "portal-hosting", until: "2025-08-31") { errors { field } } }'
    )
    found = (await as_dpo(CHANGES))["changes"]
    assert [(c["type"], c["after"]["id"]) for c in found] == [
        ("ADDED", "portal-hosting"),
        ("ADDED", "portal-co-mail-co"),
        ("REMOVED", "portal-hosting"),
    ]
    assert [c["sequence"] for c in found] == sorted(c["sequence"] for c in found)
    assert [c["actor"] for c in found] == ["tests", "dpo-alice", "dpo-alice"]
    first, added, ended = found
    assert first["before"] is None
    assert first["processor"] == {"id": "portal-co", "name": "Portal Co Ltd"}
    assert first["subProcessor"] == {"id": "hosting-co", "name": "Hosting Co Ltd"}
    assert first["effectiveFrom"] == "2022-02-14"
    assert added["after"]["subProcessor"] == {"name": "Mail Co Ltd"}
    assert added["after"]["categories"] == [{"name": "Pupil data"}]
    assert ended["before"]["until"] is None
    assert ended["after"]["until"] == "2025-08-31"
    assert ended["effectiveFrom"] == "2025-09-01"  # the first day it no longer applies
    assert ended["before"]["processor"] == {"id": "portal-co"}
    assert ended["after"]["status"] == "ACTIVE"


async def test_pages_follow_the_cursor(change_register: Database, as_dpo: GraphQL) -> None:
    for n in range(5):
        await _engage(as_dpo, "mail-co", purpose=f"Mail {n}")
    everything = [c["id"] for c in (await as_dpo(CHANGES, first=500))["changes"]]
    assert len(everything) == 6
    pages: list[str] = []
    after = None
    while True:
        page = (await as_dpo(CHANGES, after=after, first=2))["changes"]
        if not page:
            break
        assert len(page) <= 2
        pages.extend(c["id"] for c in page)
        after = page[-1]["id"]
    assert pages == everything


async def test_one_processors_changes(change_register: Database, as_dpo: GraphQL) -> None:
    doc = load_document(CHANGES_REGISTER)
    other = doc.model_dump(by_alias=True, mode="json")
    other["organisations"].append({"id": "other-co", "name": "Other Co", "kind": "company"})
    other["engagements"].append(
        {
            "id": "other-mail",
            "processor": "other-co",
            "sub_processor": "mail-co",
            "since": "2023-01-01",
        }
    )
    text = json.dumps(other)
    changed = parse_document(text)
    await register.apply(change_register, "school", from_document.entities(changed), "tests")
    by_name = (await as_dpo(CHANGES, processor="OTHER CO"))["changes"]
    by_id = (await as_dpo(CHANGES, processor="portal-co"))["changes"]
    assert [c["after"]["id"] for c in by_name] == ["other-mail"]
    assert [c["after"]["id"] for c in by_id] == ["portal-hosting"]


async def test_a_removed_sub_processor_still_renders(
    change_register: Database, as_dpo: GraphQL
) -> None:
    doc = load_document(CHANGES_REGISTER)
    data = doc.model_dump(by_alias=True, mode="json")
    data["organisations"] = [o for o in data["organisations"] if o["id"] != "hosting-co"]
    data["engagements"] = []
    text = json.dumps(data)
    await register.apply(
        change_register, "school", from_document.entities(parse_document(text)), "tests"
    )
    found = (await as_dpo(CHANGES))["changes"]
    assert [c["type"] for c in found] == ["ADDED", "REMOVED"]
    assert [c["subProcessor"] for c in found] == [
        {"id": "hosting-co", "name": "Hosting Co Ltd"}
    ] * 2
    assert found[1]["after"] is None
    assert found[1]["before"]["id"] == "portal-hosting"


@pytest.mark.parametrize(
    ("variables", "code", "message"),
    [
        ({"first": 0}, "BAD_USER_INPUT", "first: must be between 1 and 500, not 0"),
        ({"first": 501}, "BAD_USER_INPUT", "first: must be between 1 and 500, not 501"),
        ({"processor": "Nobody Ltd"}, "NOT_FOUND", "no organisation with id or name 'Nobody Ltd'"),
        (
            {"after": "no-such-event"},
            "BAD_USER_INPUT",
            "after: no change event with id 'no-such-event'",
        ),
    ],
)
async def test_bad_arguments(
    change_register: Database,
    as_user: Any,
    variables: dict[str, Any],
    code: str,
    message: str,
) -> None:
    body = await as_user(None)(CHANGES, **variables)
    (error,) = body["errors"]
    assert (error["extensions"]["code"], error["message"]) == (code, message)


async def test_a_page_costs_few_round_trips(
    change_register: Database, dpo_app: Starlette, as_dpo: GraphQL
) -> None:
    for n in range(20):
        await _engage(as_dpo, f"Sub {n} Ltd")
    database: Database = dpo_app.state.database
    before = database.round_trips
    found = (await as_dpo(CHANGES, processor="Portal Co Ltd", first=100))["changes"]
    # Resolving the processor, the page, the organisations, the categories.
    assert database.round_trips - before <= 4
    assert len(found) == 21
    assert {c["subProcessor"]["name"] for c in found} >= {"Sub 0 Ltd", "Sub 19 Ltd"}
