"""`recipients` whose hops select only their activity's and engagement's own properties reads
only those with the paths, answers as the full read does, and its incomplete records answer
no other field."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from graph.database import Database
from schema.graphql.activity import ACTIVITY_PROPERTIES, ENGAGEMENT_PROPERTIES
from schema.graphql.schema import build_schema

pytestmark = pytest.mark.neo4j

Post = Callable[..., Awaitable[dict[str, Any]]]

OWN_ACTIVITY = "id name purposes retention validFrom controller { id }"
OWN_ENGAGEMENT = "id purpose status since until processor { id } subProcessor { id }"
RECIPIENTS = """
query ($controller: String) {
  recipients(category: "safeguarding", controller: $controller, asOf: "2022-06-01") {
    organisation { id }
    paths { hops { kind to { id } activity { %s } engagement { %s } } }
  }
}
"""


def test_the_own_property_fields_are_fields_of_their_types() -> None:
    types = build_schema()._schema.type_map
    activity = set(types["ProcessingActivity"].fields) | {"__typename"}  # type: ignore[attr-defined]
    engagement = set(types["Engagement"].fields) | {"__typename"}  # type: ignore[attr-defined]
    assert ACTIVITY_PROPERTIES.keys() <= activity
    assert engagement >= ENGAGEMENT_PROPERTIES


def _without(found: dict[str, Any], key: str) -> list[Any]:
    """The recipients with `key` dropped from every hop's activity and engagement."""
    return [
        [
            [
                {
                    **hop,
                    "activity": hop["activity"] and {**hop["activity"], key: None},
                    "engagement": hop["engagement"] and {**hop["engagement"], key: None},
                }
                for hop in path["hops"]
            ]
            for path in recipient["paths"]
        ]
        for recipient in found["recipients"]
    ]


@pytest.mark.parametrize("controller", [None, "allestree-woodlands"])
async def test_own_properties_answer_as_the_full_read(
    example: Database, data: Post, controller: str | None
) -> None:
    light = await data(RECIPIENTS % (OWN_ACTIVITY, OWN_ENGAGEMENT), controller=controller)
    full = await data(
        RECIPIENTS
        % (f"{OWN_ACTIVITY} categories {{ id }}", f"{OWN_ENGAGEMENT} categories {{ id }}"),
        controller=controller,
    )
    hops = [h for r in full["recipients"] for p in r["paths"] for h in p["hops"]]
    assert any(h["engagement"] for h in hops), "the example has sub-processing hops"
    assert all(h["activity"]["categories"] for h in hops if h["activity"])
    assert all(h["engagement"]["categories"] for h in hops if h["engagement"])
    assert any(h["activity"]["purposes"] for h in hops if h["activity"])
    assert _without(full, "categories") == _without(light, "categories")


async def test_the_light_records_answer_no_other_field(example: Database, data: Post) -> None:
    asked = 'category: "safeguarding", asOf: "2022-06-01"'
    both = await data(
        f"{{ light: recipients({asked}) {{ paths {{ hops {{"
        " activity { id } engagement { id } } } }"
        f" full: recipients({asked}) {{ paths {{ hops {{"
        " activity { id categories { id } } engagement { id categories { id } } } } }"
        ' activity(ref: "post16-transfer") { id categories { id } legalBases { id } } }'
    )
    hops = [h for r in both["light"] for p in r["paths"] for h in p["hops"]]
    assert "post16-transfer" in {h["activity"]["id"] for h in hops if h["activity"]}
    assert any(h["engagement"] for h in hops)
    assert both["activity"]["categories"]
    assert both["activity"]["legalBases"]
    full = [h for r in both["full"] for p in r["paths"] for h in p["hops"]]
    assert all(h["activity"]["categories"] for h in full if h["activity"])
    assert any(h["engagement"] for h in full)
    assert all(h["engagement"]["categories"] for h in full if h["engagement"])
