"""A list of activities that selects only their own properties reads only those, and answers
the same; the incomplete records it reads answer no other field."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from graph.database import Database
from graph.read.activities import PROPERTY_KEYS
from schema.graphql.activity import ACTIVITY_PROPERTIES

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
