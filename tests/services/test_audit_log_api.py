"""`auditLog`: a register's whole change log over HTTP, a page at a time, cut to scope."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from graph import audit
from graph.database import Database
from tests.services.conftest import DPO_TOKEN, READER_TOKEN, GraphQL

pytestmark = pytest.mark.neo4j

AUDIT_LOG = """
query ($register: String!, $after: String, $first: Int) {
  auditLog(register: $register, after: $after, first: $first) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node {
      id sequence occurredAt registers entityType entityId op before after
      actor { name via subject displayName } prevHash hash
    } }
  }
}
"""
ENGAGE = """
mutation {
  engageSubProcessor(input: {processor: "portal-co", subProcessor: "Mail Co", purpose: "Mail",
                            categories: ["pupil-data"], since: "2024-09-01"}) {
    engagement { id } errors { message }
  }
}
"""


def _code(body: dict[str, Any]) -> str:
    return str(body["errors"][0]["extensions"]["code"])


async def test_the_whole_log_of_a_register_in_pages_with_actors(
    change_register: Database, as_dpo: GraphQL
) -> None:
    await as_dpo(ENGAGE)
    first = (await as_dpo(AUDIT_LOG, register="school", first=3))["auditLog"]
    total = first["totalCount"]
    assert total >= 5
    assert first["pageInfo"]["hasNextPage"]
    assert not first["pageInfo"]["hasPreviousPage"]
    pages, after = [first], first["pageInfo"]["endCursor"]
    while pages[-1]["pageInfo"]["hasNextPage"]:
        pages.append((await as_dpo(AUDIT_LOG, register="school", after=after))["auditLog"])
        after = pages[-1]["pageInfo"]["endCursor"]
    events = [edge["node"] for page in pages for edge in page["edges"]]
    assert len(events) == total
    assert [e["sequence"] for e in events] == sorted(e["sequence"] for e in events)
    # Loading the document (the CLI, as the fixture does) and the mutation, each with its actor.
    assert {"Organisation", "Engagement", "Register"} <= {e["entityType"] for e in events}
    assert events[0]["actor"] == {
        "name": "tests",
        "via": "CLI",
        "subject": None,
        "displayName": None,
    }
    mutation = [e for e in events if e["actor"]["name"] == "dpo-alice"]
    assert {(e["actor"]["via"], e["op"]) for e in mutation} == {("TOKEN", "CREATED")}
    created = next(e for e in mutation if e["entityType"] == "Engagement")
    assert created["before"] is None
    assert created["after"]["props"]["purpose"] == "Mail"
    assert all(e["registers"] == ["school"] for e in events)
    assert all(len(e["hash"]) == 64 for e in events)
    assert all(
        b["prevHash"] == a["hash"]
        for a, b in itertools.pairwise(events)
        if b["sequence"] == a["sequence"] + 1
    )
    assert (await audit.verify(change_register)).intact


async def test_only_principals_whose_scope_holds_the_register_read_it(
    change_register: Database, as_user: Callable[[str | None], GraphQL]
) -> None:
    anonymous = await as_user(None)(AUDIT_LOG, register="school")
    assert _code(anonymous) == "UNAUTHENTICATED"
    reader = await as_user(READER_TOKEN)(AUDIT_LOG, register="school", first=1)
    assert "errors" not in reader
    assert reader["data"]["auditLog"]["edges"][0]["node"]["actor"]["name"] == "tests"
    outside = await as_user(DPO_TOKEN)(AUDIT_LOG, register="another-school")
    assert _code(outside) == "FORBIDDEN"
    assert outside["data"] is None
    absent = await as_user(DPO_TOKEN)(AUDIT_LOG, register="allestree-woodlands")
    assert _code(absent) == "NOT_FOUND"
    too_many = await as_user(DPO_TOKEN)(AUDIT_LOG, register="school", first=501)
    assert _code(too_many) == "BAD_USER_INPUT"
    forged = await as_user(DPO_TOKEN)(AUDIT_LOG, register="school", after="nonsense")
    assert _code(forged) == "BAD_USER_INPUT"
