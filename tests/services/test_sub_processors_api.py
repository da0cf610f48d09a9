"""`subProcessors`: a processor's sub-processors as they stood on a day."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from graph.database import Database

pytestmark = pytest.mark.neo4j

Post = Callable[..., Awaitable[dict[str, Any]]]

SUB_PROCESSORS = """
query ($processor: String!, $asOf: Date) {
  subProcessors(processor: $processor, asOf: $asOf) {
    id
    processor { id }
    subProcessor { id name }
    purpose
    categories { id }
    location
    since
    until
    status
    noticeDate
    activity { id }
  }
}
"""


async def _names(data: Post, processor: str, as_of: str | None) -> list[str]:
    found = await data(SUB_PROCESSORS, processor=processor, asOf=as_of)
    return [e["subProcessor"]["name"] for e in found["subProcessors"]]


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("2022-02-13", []),
        (
            "2022-02-14",
            [
                "Derby City Council",
                "Link ICT Services Limited",
                "School Development Support Agency",
            ],
        ),
        (
            "2023-02-13",
            [
                "Derby City Council",
                "Link ICT Services Limited",
                "School Development Support Agency",
            ],
        ),
        (
            "2026-12-01",
            [
                "Derby City Council",
                "Link ICT Services Limited",
                "School Development Support Agency",
            ],
        ),
    ],
    ids=["day-before", "first-day", "last-day-of-the-first-year", "2026-12-01"],
)
async def test_school_transition_limited_before_during_and_after(
    example: Database, data: Post, as_of: str | None, expected: list[str]
) -> None:
    assert await _names(data, "school-transition-limited", as_of) == expected


async def test_engagement_fields(example: Database, data: Post) -> None:
    found = await data(SUB_PROCESSORS, processor="School Transition Limited", asOf="2022-06-01")
    link = next(e for e in found["subProcessors"] if e["id"] == "stl-link-ict")
    assert link["processor"] == {"id": "school-transition-limited"}
    assert link["status"] == "ACTIVE"
    assert (link["since"], link["until"], link["noticeDate"]) == (
        "2022-02-14",
        None,
        "2022-02-14",
    )
    assert link["location"] == "United Kingdom"
    assert link["activity"] == {"id": "post16-transfer"}
    assert {"safeguarding", "medical", "technical-data"} <= {c["id"] for c in link["categories"]}
    assert link["purpose"]


async def test_an_organisation_without_engagements_has_none(example: Database, data: Post) -> None:
    assert await _names(data, "dfe", "2022-06-01") == []


async def test_unknown_processor(example: Database, graphql: Post) -> None:
    body = await graphql(SUB_PROCESSORS, processor="Acme Portals", asOf=None)
    [error] = body["errors"]
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert "'Acme Portals'" in error["message"]
