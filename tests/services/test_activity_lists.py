"""A list of activities that selects only their own properties is read without their
relationships, and answers the same; the incomplete records it reads answer no other field."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from graph.database import Database

pytestmark = pytest.mark.neo4j

Post = Callable[..., Awaitable[dict[str, Any]]]


async def test_a_list_of_properties_answers_as_the_full_one(example: Database, data: Post) -> None:
    light = await data('{ activities(asOf: "2022-06-01") { id name controller { id } } }')
    full = await data(
        '{ activities(asOf: "2022-06-01") { id name controller { id } categories { id } } }'
    )
    assert light["activities"]
    assert [(a["id"], a["name"], a["controller"]) for a in full["activities"]] == [
        (a["id"], a["name"], a["controller"]) for a in light["activities"]
    ]
    assert all(a["categories"] for a in full["activities"])


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
