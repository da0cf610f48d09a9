"""`recordedAt` on every time-dependent surface: each GraphQL field that takes `asOf` and each
time-dependent HTTP route takes it (a new one cannot be added without); names are resolved in
the record read; a request mixing records gives each its own loaders; the dashboard's summary,
the portal's pages and the Atom feed read the past record too."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import GraphQLInterfaceType, GraphQLObjectType
from starlette.routing import Mount, Route, WebSocketRoute

from graph import from_document, maintenance, register
from graph.database import Database
from schema.document import RopaDocument
from schema.graphql.schema import build_schema
from schema.validation import load_document
from services.registry.app import create_app
from services.registry.settings import RegistrySettings
from tests.services.conftest import GraphQL

pytestmark = pytest.mark.neo4j

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FIRST = dt.datetime(2022, 5, 1, 9, tzinfo=dt.UTC)
CHANGED = dt.datetime(2024, 1, 10, 9, tzinfo=dt.UTC)
THEN = "2023-01-01"
POLICE = "derbyshire-constabulary"
NHS = "nhs-medical-teams"
GONE = "stl-link-ict"  # STL's engagement of Link ICT, ended (removed) on CHANGED


def _changed(doc: RopaDocument) -> RopaDocument:
    """The school's record after CHANGED: the police and its two flows removed, the NHS teams
    renamed, STL's engagement of Link ICT gone (the school's copy of it too)."""
    return doc.model_copy(
        update={
            "organisations": [
                o.model_copy(update={"name": "NHS health services"}) if o.id == NHS else o
                for o in doc.organisations
                if o.id != POLICE
            ],
            "flows": [f for f in doc.flows if f.recipient != POLICE],
            "engagements": [e for e in doc.engagements if e.id != GONE],
        }
    )


@pytest.fixture(scope="module")
async def history(session_db: Database) -> Database:
    """The school's and STL's registers recorded on FIRST, then changed on CHANGED."""
    await maintenance.wipe(session_db)
    docs = [load_document(EXAMPLES / f) for f in ("allestree-woodlands.yaml",)]
    docs.append(load_document(EXAMPLES / "school-transition-limited.yaml"))
    for doc in docs:
        entities = from_document.entities(doc)
        await register.apply(session_db, doc.register_info.id, entities, "dpo", occurred_at=FIRST)
    for doc in docs:
        later = from_document.entities(_changed(doc))
        await register.apply(session_db, doc.register_info.id, later, "dpo", occurred_at=CHANGED)
    return session_db


def test_every_field_that_takes_as_of_takes_recorded_at() -> None:
    schema = build_schema(show_unexpected_errors=False)._schema
    fields = [
        (f"{type_name}.{name}", field)
        for type_name, kind in schema.type_map.items()
        if isinstance(kind, GraphQLObjectType | GraphQLInterfaceType)
        for name, field in kind.fields.items()
    ]
    missing = [name for name, f in fields if "asOf" in f.args and "recordedAt" not in f.args]
    assert missing == []
    # The walk sees the fields it is about.
    assert schema.query_type is not None
    assert "recordedAt" in schema.query_type.fields["registerSummary"].args


# Every route of the app, time-dependent (with a request that reads a past record) or not.
TIME_DEPENDENT = {
    "/export/ropa.{extension}": "/export/ropa.json?controller=allestree-woodlands",
    "/notices/{controller}/{audience}": "/notices/allestree-woodlands/parents.md",
    "/processors": "/processors",
    "/processors/{processor}": "/processors/school-transition-limited",
    "/feeds/subprocessors/{processor}.atom": "/feeds/subprocessors/school-transition-limited.atom",
}
NOT_TIME_DEPENDENT = {
    "/graphql": "its fields take recordedAt themselves (the test above)",
    "/healthz": "the process",
    "/readyz": "the database and migrations now",
    "/metrics": "the process's counters",
    "/": "a console page; it reads through /graphql",
    "/dashboard": "a console page; it reads through /graphql",
    "/lineage": "a console page; it reads through /graphql",
    "/notices": "the index of notice URLs",
    "/notices/notice.css": "a stylesheet",
    "/favicon.ico": "an icon",
    "/static": "files",
    "/console/static": "files",
    "/portal/static": "files",
    "/auth/login": "sign-in",
    "/auth/logout": "sign-in",
    "/auth/me": "sign-in",
    "/auth/callback": "sign-in",
    "/processors/{processor}/subscribe": "a write (an e-mail subscription)",
    "/subscriptions/confirm": "a write (an e-mail subscription)",
    "/subscriptions/unsubscribe": "a write (an e-mail subscription)",
}


def test_every_route_is_classified(registry_settings: RegistrySettings) -> None:
    paths = {
        route.path
        for route in create_app(registry_settings).routes
        if isinstance(route, Route | WebSocketRoute | Mount)
    }
    unclassified = paths - set(TIME_DEPENDENT) - set(NOT_TIME_DEPENDENT)
    assert not unclassified, (
        f"say whether these depend on time (and take recordedAt): {unclassified}"
    )


@pytest.mark.parametrize("route", sorted(TIME_DEPENDENT))
async def test_each_time_dependent_route_takes_recorded_at(
    history: Database, client: httpx.AsyncClient, route: str
) -> None:
    url = TIME_DEPENDENT[route]
    joined = "&" if "?" in url else "?"
    then = await client.get(f"{url}{joined}recordedAt={THEN}")
    assert then.status_code == 200, then.text
    for bad in ("2999-01-01", "soon"):
        refused = await client.get(f"{url}{joined}recordedAt={bad}")
        assert refused.status_code == 400, (bad, refused.text)
        assert "recordedAt" in refused.text


async def test_names_are_resolved_in_the_record_read(history: Database, graphql: GraphQL) -> None:
    query = """
    query ($to: String, $at: DateTime) {
      disclosures(to: $to, asOf: "2022-06-01", recordedAt: $at) { id }
    }
    """
    removed = await graphql(query, to="Derbyshire Constabulary", at=THEN)
    assert {d["id"] for d in removed["data"]["disclosures"]} == {
        "cctv-to-police",
        "safeguarding-to-police",
    }
    # Removed since: today's record has no such name.
    [gone] = (await graphql(query, to="Derbyshire Constabulary", at=None))["errors"]
    assert gone["extensions"]["code"] == "NOT_FOUND"
    # Renamed since: the old name then, the new one now; the new one did not exist then.
    old = await graphql(query, to="nhs medical teams", at=THEN)
    new = await graphql(query, to="NHS health services", at=None)
    assert old["data"]["disclosures"] == new["data"]["disclosures"] != []
    [unknown] = (await graphql(query, to="NHS health services", at=THEN))["errors"]
    assert unknown["extensions"]["code"] == "NOT_FOUND"
    # A day given as recordedAt is its end, in GraphQL as in the CLI and the HTTP routes.
    assert "in the record as recorded at 2023-01-02T00:00:00+00:00" in unknown["message"], unknown


@pytest.mark.parametrize("first", ["then", "now"])
async def test_one_request_reads_two_records_with_loaders_of_their_own(
    history: Database, data: GraphQL, first: str
) -> None:
    # Both roots load the same organisation; one cache would give both the first one's.
    fields = {
        "then": f'then: disclosures(to: "{NHS}", asOf: "2022-06-01", recordedAt: "{THEN}") '
        "{ id to { name } }",
        "now": f'now: disclosures(to: "{NHS}", asOf: "2022-06-01") {{ id to {{ name }} }}',
    }
    second = "now" if first == "then" else "then"
    found = await data(f"{{ {fields[first]} {fields[second]} }}")
    assert {d["to"]["name"] for d in found["then"]} == {"NHS medical teams"}
    assert {d["to"]["name"] for d in found["now"]} == {"NHS health services"}


async def test_the_summary_reads_the_record_read(history: Database, data: GraphQL) -> None:
    query = """
    query ($at: DateTime) {
      registerSummary(controller: "Allestree Woodlands School", asOf: "2022-06-01",
                      recordedAt: $at, months: 12) {
        recipients latestChanges { occurredAt } changesPerMonth { month count }
      }
    }
    """
    then = (await data(query, at=THEN))["registerSummary"]
    now = (await data(query, at=None))["registerSummary"]
    assert then["recipients"] == now["recipients"] + 1  # the police, removed since
    assert then["latestChanges"]
    assert all(c["occurredAt"] < THEN for c in then["latestChanges"])
    assert any(c["occurredAt"] >= THEN for c in now["latestChanges"])


def _in_force(html: str) -> str:
    """The page's table of the sub-processors in force."""
    return html.split("Sub-processors in force on", 1)[1].split("</table>", 1)[0]


async def test_the_portal_and_the_feed_read_the_record_read(
    history: Database, client: httpx.AsyncClient
) -> None:
    page = "/processors/school-transition-limited"
    then = await client.get(page, params={"asOf": "2022-06-01", "recordedAt": THEN})
    now = await client.get(page, params={"asOf": "2022-06-01"})
    assert "Link ICT" in _in_force(then.text)
    assert "Link ICT" not in _in_force(now.text)
    assert 'id="recorded-at"' in then.text

    feed = "/feeds/subprocessors/school-transition-limited.atom"
    past = await client.get(feed, params={"recordedAt": THEN})
    current = await client.get(feed)
    stamps: dict[str, Any] = {
        "then": past.text.count("<updated>2024-01-10"),
        "now": current.text.count("<updated>2024-01-10"),
    }
    assert stamps["then"] == 0 < stamps["now"]
    assert past.text.count("<entry>") < current.text.count("<entry>")
