"""`recordedAt` (the record as recorded then) beside `asOf` (the day the processing is valid):
a flow is removed from the register, and the past is asked both ways, through GraphQL, the CLI
and the HTTP routes, which agree."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from graph import from_document, maintenance, register
from graph.database import Database
from graph.settings import Neo4jSettings
from schema.validation import load_document, parse_document
from services.cli.main import cli
from tests.services.conftest import GraphQL
from tests.support.examples import STL

pytestmark = pytest.mark.neo4j

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "allestree-woodlands.yaml"
FIRST = dt.datetime(2022, 5, 1, 9, tzinfo=dt.UTC)  # the example recorded
REMOVED = dt.datetime(2024, 1, 10, 9, tzinfo=dt.UTC)  # its flow to the police removed
POLICE = "derbyshire-constabulary"
PURPOSE = "Protect children at risk of harm; report crimes against children"

RECIPIENTS = """
query ($asOf: Date, $recordedAt: DateTime) {
  recipients(category: "safeguarding", asOf: $asOf, recordedAt: $recordedAt) {
    organisation { id name }
    paths { hops { disclosure { id purpose } activity { id } } }
  }
}
"""


def _without_police_flow(text: str) -> str:
    start = text.index("  - id: safeguarding-to-police\n")
    end = text.index("  - id: ", start + 10)
    return text[:start] + text[end:]


@pytest.fixture(scope="module")
async def history(session_db: Database) -> Database:
    """The example recorded on 2022-05-01, then its safeguarding flow to the police removed on
    2024-01-10."""
    await maintenance.wipe(session_db)
    # The register School Transition Limited keeps, declaring the school's sub-processors.
    stl = load_document(STL)
    await register.apply(
        session_db, stl.register_info.id, from_document.entities(stl), "dpo", occurred_at=FIRST
    )
    doc = load_document(EXAMPLE)
    entities = from_document.entities(doc)
    await register.apply(session_db, doc.register_info.id, entities, "dpo", occurred_at=FIRST)
    later = parse_document(_without_police_flow(EXAMPLE.read_text(encoding="utf-8")))
    await register.apply(
        session_db, doc.register_info.id, from_document.entities(later), "dpo", occurred_at=REMOVED
    )
    return session_db


async def _police_paths(data: GraphQL, **variables: Any) -> list[str]:
    found = await data(RECIPIENTS, **{"asOf": None, "recordedAt": None, **variables})
    return [
        h["disclosure"]["id"]
        for r in found["recipients"]
        if r["organisation"]["id"] == POLICE
        for p in r["paths"]
        for h in p["hops"]
    ]


async def test_a_removed_flow_is_in_the_record_before_its_removal_only(
    history: Database, data: GraphQL
) -> None:
    before = await _police_paths(data, asOf="2022-06-01", recordedAt="2023-01-01T00:00:00Z")
    after = await _police_paths(data, asOf="2022-06-01", recordedAt="2024-06-01T00:00:00Z")
    # asOf alone asks today's record about 2022: the flow is no longer in it.
    today = await _police_paths(data, asOf="2022-06-01")
    assert before == ["safeguarding-to-police"]
    assert after == []
    assert today == []
    # Its fields come from that record too.
    found = await data(RECIPIENTS, asOf="2022-06-01", recordedAt="2023-01-01T00:00:00Z")
    police = next(r for r in found["recipients"] if r["organisation"]["id"] == POLICE)
    assert police["paths"][0]["hops"][0]["disclosure"]["purpose"] == PURPOSE


async def test_the_other_time_dependent_fields_take_recorded_at(
    history: Database, data: GraphQL
) -> None:
    query = """
    query ($recordedAt: DateTime) {
      disclosures(to: "derbyshire-constabulary", asOf: "2022-06-01", recordedAt: $recordedAt) {
        id
      }
      activities(asOf: "2022-06-01", recordedAt: $recordedAt, category: "safeguarding") { id }
      subProcessors(processor: "school-transition-limited", asOf: "2022-06-01",
                    recordedAt: $recordedAt) { id }
      complianceIssues(asOf: "2022-06-01", recordedAt: $recordedAt) { ruleId entityId }
    }
    """
    then = await data(query, recordedAt="2023-01-01")
    now = await data(query, recordedAt=None)
    assert "safeguarding-to-police" in {d["id"] for d in then["disclosures"]}
    assert "safeguarding-to-police" not in {d["id"] for d in now["disclosures"]}
    assert {a["id"] for a in then["activities"]} == {a["id"] for a in now["activities"]}
    assert len(then["subProcessors"]) == len(now["subProcessors"]) == 3
    # A record read at a moment is the same whether asked as a day or as its end.
    end_of_day = await data(query, recordedAt="2023-01-02T00:00:00Z")
    assert end_of_day == then


@pytest.mark.parametrize(
    ("value", "says"),
    [("2999-01-01T00:00:00Z", "in the future"), ("yesterday", "")],
    ids=["future", "unparseable"],
)
async def test_bad_recorded_at_is_bad_user_input(
    history: Database, graphql: GraphQL, value: str, says: str
) -> None:
    body = await graphql(RECIPIENTS, asOf=None, recordedAt=value)
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert says in error["message"]


async def _ropa(settings: Neo4jSettings, *args: str) -> Any:
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args), env=settings.environment())


async def test_the_cli_and_the_http_routes_agree(
    history: Database, neo4j_settings: Neo4jSettings, client: httpx.AsyncClient
) -> None:
    notice = ("notice", "--controller", "Allestree Woodlands School", "--audience", "parents")
    day = ("--as-of", "2022-06-01", "--draft")
    then = await _ropa(neo4j_settings, *notice, *day, "--recorded-at", "2023-01-01")
    now = await _ropa(neo4j_settings, *notice, *day)
    assert then.exit_code == now.exit_code == 0, (then.output, now.output)
    assert PURPOSE in then.output
    assert PURPOSE not in now.output

    route = "/notices/allestree-woodlands/parents.md"
    page_then = await client.get(route, params={"asOf": "2022-06-01", "recordedAt": "2023-01-01"})
    page_now = await client.get(route, params={"asOf": "2022-06-01"})
    assert page_then.status_code == page_now.status_code == 200
    assert PURPOSE in page_then.text
    assert PURPOSE not in page_now.text

    for bad in ("2999-01-01", "soon"):
        export = await client.get("/export/ropa.json", params={"recordedAt": bad})
        assert export.status_code == 400
        assert export.json()["error"]["code"] == "BAD_USER_INPUT"
        refused = await _ropa(neo4j_settings, "export", "--format", "json", "--recorded-at", bad)
        assert refused.exit_code == 2
        assert "--recorded-at" in refused.output
    exported = await client.get("/export/ropa.json", params={"recordedAt": "2023-01-01"})
    assert exported.status_code == 200
