"""Which subscriptions share one execution: the same live document, variables and scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from schema.access.principal import Principal, Role
from services.registry.multiplex import group_key

LIVE = "subscription ($p: String) { subProcessorChanges(processor: $p) { id sequence } }"


@dataclass
class Operation:
    query: str
    variables: dict[str, Any] | None = None
    operation_name: str | None = None


@dataclass
class Context:
    principal: Principal | None = None


def key(op: Operation, principal: Principal | None = None) -> object:
    return group_key(op, Context(principal))  # type: ignore[arg-type]


def test_the_same_live_subscription_shares_a_key() -> None:
    assert key(Operation(LIVE, {"p": "stl"})) == key(Operation(LIVE, {"p": "stl"}))
    assert key(Operation(LIVE, {"p": "stl"})) is not None


def test_variables_and_scope_tell_groups_apart() -> None:
    reader = Principal("a", Role.READER, frozenset({"school-a"}))
    other = Principal("b", Role.READER, frozenset({"school-b"}))
    same_scope = Principal("c", Role.READER, frozenset({"school-a"}))
    assert key(Operation(LIVE, {"p": "stl"})) != key(Operation(LIVE, {"p": "link-ict"}))
    assert key(Operation(LIVE), reader) != key(Operation(LIVE), other)
    assert key(Operation(LIVE), reader) != key(Operation(LIVE))
    # Who they are does not matter, only what they may read.
    assert key(Operation(LIVE), reader) == key(Operation(LIVE), same_scope)


def test_replays_queries_and_broken_documents_run_alone() -> None:
    resume = 'subscription { subProcessorChanges(after: "e-1") { id } }'
    assert key(Operation(resume)) is None
    assert key(Operation("{ organisations { id } }")) is None
    assert key(Operation("subscription {")) is None
    two = "subscription A { subProcessorChanges { id } } query B { organisations { id } }"
    assert key(Operation(two, operation_name="B")) is None
    assert key(Operation(two, operation_name="A")) is not None
