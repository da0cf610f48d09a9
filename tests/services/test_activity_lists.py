"""A list of activities (or organisations) that selects only their own properties reads only those,
and answers the same; the incomplete records it reads answer no other field."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from graph.database import Database
from graph.read.activities import PROPERTY_KEYS
from schema.access.principal import admin
from schema.graphql.activity import ACTIVITY_PROPERTIES
from services.registry.loaders import build_context

pytestmark = pytest.mark.neo4j

Post = Callable[..., Awaitable[dict[str, Any]]]

PROPERTIES = "id name purposes retention dpia { status } validFrom validUntil controller { id }"


def test_every_property_field_names_the_properties_behind_it() -> None:
    assert {f for f in ACTIVITY_PROPERTIES.values() if f} <= PROPERTY_KEYS.keys()


async def test_a_list_of_properties_answers_as_the_full_one(example: Database, data: Post) -> None:
    light = await data(f'{{ activities(asOf: "2022-06-01") {{ {PROPERTIES} }} }}')
    full = await data(
        f'{{ activities(asOf: "2022-06-01") {{ {PROPERTIES} categories {{ id }} }} }}'
    )
    assert light["activities"]
    without = [{k: v for k, v in a.items() if k != "categories"} for a in full["activities"]]
    assert without == light["activities"]
    assert all(a["categories"] for a in full["activities"])
    assert any(a["purposes"] for a in light["activities"])


async def test_the_light_records_answer_no_other_field(example: Database, data: Post) -> None:
    listed = await data('{ activities(asOf: "2022-06-01") { id } }')
    first = listed["activities"][0]["id"]
    both = await data(
        'query ($ref: String!) { activities(asOf: "2022-06-01") { id name }'
        " activity(ref: $ref) { id categories { id } legalBases { id } } }",
        ref=first,
    )
    assert both["activity"]["id"] == first
    assert both["activity"]["categories"]
    assert both["activity"]["legalBases"]


ORGANISATION_FIELDS = "id name kind description website group contact { name email } dpo { name }"


async def test_a_list_of_organisations_answers_as_each_one_read_in_full(
    example: Database, data: Post
) -> None:
    listed = (await data(f"{{ organisations {{ {ORGANISATION_FIELDS} }} }}"))["organisations"]
    assert len(listed) > 5
    one_by_one: list[dict[str, Any]] = []
    for start in range(0, len(listed), 10):  # within the operation's limit of aliases
        batch = listed[start : start + 10]
        each = " ".join(
            f'o{i}: organisation(ref: "{o["id"]}") {{ {ORGANISATION_FIELDS} }}'
            for i, o in enumerate(batch)
        )
        found = await data(f"{{ {each} }}")
        one_by_one += [found[f"o{i}"] for i in range(len(batch))]
    assert one_by_one == listed
    assert any(o["contact"] for o in listed)
    assert any(o["description"] for o in listed)


async def test_the_light_organisation_records_answer_no_other_field(
    example: Database, data: Post
) -> None:
    full = (await data(f"{{ organisations {{ {ORGANISATION_FIELDS} }} }}"))["organisations"]
    known = next(o for o in full if o["contact"] and o["description"])
    both = await data(
        f"query ($ref: String!) {{ organisations {{ id }} organisation(ref: $ref) "
        f"{{ {ORGANISATION_FIELDS} }} }}",
        ref=known["id"],
    )
    assert both["organisation"] == known
    # In that order for certain: the light list read first, then the load of one of them.
    context = build_context(example)
    context.principal = admin("tests")
    listed = await context.reader.organisations(fields={"name"})
    assert all(o.contact is None for o in listed)
    loaded = await context.loaders.organisations.load(known["id"])
    assert loaded is not None
    assert loaded.contact is not None
    assert loaded.description == known["description"]
