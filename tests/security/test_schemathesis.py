"""Schema-driven fuzzing: schemathesis generates queries and mutations from the registry's own
GraphQL schema and sends them, with a DPO's token, to `ropa serve registry` in production mode
on the example. Whatever it sends, the registry answers without a 5xx and without an unexpected
(masked, INTERNAL_SERVER_ERROR) error: bad input is refused with a coded error."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import graphql
import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.core.result import Err
from schemathesis.graphql import nodes

from graph.database import Database
from graph.settings import Neo4jSettings
from schema.graphql.errors import INTERNAL
from schema.graphql.schema import build_schema

from .conftest import DPO_TOKEN, Server, serve

# Examples per root field: ~40 fields, so a few hundred cases in total, under a minute here.
EXAMPLES_PER_FIELD = 8

# Our custom scalars: mostly well-formed values (so that queries get past argument parsing and
# reach the resolvers), some arbitrary text (so that parsing the scalar is fuzzed too).
_TEXT = st.text(max_size=12)
schemathesis.graphql.scalar(
    "Date",
    st.one_of(st.dates().map(lambda d: d.isoformat()), _TEXT).map(nodes.String),
)
schemathesis.graphql.scalar(
    "DateTime",
    st.one_of(st.datetimes().map(lambda d: d.isoformat() + "Z"), _TEXT).map(nodes.String),
)
schemathesis.graphql.scalar(
    "JSON", st.one_of(_TEXT.map(nodes.String), st.integers().map(nodes.Int))
)


@pytest.fixture(scope="module")
def fuzzed(example: Database, neo4j_settings: Neo4jSettings) -> Iterator[Server]:
    """A production-mode registry on the example; no rate limit (every case is one caller)."""
    with serve(neo4j_settings, {"ROPA_RATE_LIMIT": ""}) as server:
        yield server


def _unexpected(body: Any) -> list[Any]:
    errors = body.get("errors") if isinstance(body, dict) else None
    return [e for e in errors or [] if (e.get("extensions") or {}).get("code") == INTERNAL]


def test_generated_operations_never_fail_unexpectedly(fuzzed: Server) -> None:
    """Every generated operation gets an answer, data or coded errors, never a 500 or an
    INTERNAL_SERVER_ERROR; a failing case prints the query it sent."""
    # The served schema has introspection off (production), so it is read from the code.
    schema = schemathesis.graphql.from_file(build_schema().as_str())
    operations = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        operations.append(result.ok())
    assert len(operations) > 10
    sent: list[str] = []
    outcomes: Counter[str] = Counter()
    started = time.monotonic()
    with httpx.Client(
        base_url=fuzzed.url, timeout=30, headers={"Authorization": f"Bearer {DPO_TOKEN}"}
    ) as client:
        for operation in operations:

            @settings(
                max_examples=EXAMPLES_PER_FIELD,
                derandomize=True,
                database=None,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy())
            def check(case: Any) -> None:
                query = case.body
                graphql.parse(query)  # a generated case is a valid document
                sent.append(query)
                response = client.post("/graphql", json={"query": query})
                assert response.status_code < 500, (
                    f"{response.status_code} for\n{query}\n{response.text[:2000]}"
                )
                body = response.json()
                codes = {
                    str((e.get("extensions") or {}).get("code")) for e in body.get("errors") or []
                }
                outcomes.update(codes or {"data"})
                unexpected = _unexpected(body)
                assert not unexpected, f"unexpected error for\n{query}\n{unexpected}"

            check()
    took = time.monotonic() - started
    print(
        f"schemathesis: {len(sent)} cases on {len(operations)} root fields in {took:.1f} s; "
        f"outcomes {dict(outcomes)}"
    )
    assert len(sent) >= 2 * len(operations)
    # The token works and cases reach the resolvers: not everything is refused at the door.
    assert outcomes["data"] >= len(sent) // 4, outcomes
