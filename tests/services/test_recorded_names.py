"""Names in the record asked for: with `recordedAt` a controller (or processor) is found by the
name it had then, the same way through the CLI, the HTTP routes and GraphQL, and the register
its processor kept then gives its sub-processors.

Brook School keeps a register (`brook`) and uses Brook Portal Ltd, which keeps its own
(`brook-portal`: its engagement of Sub Hosting Ltd for the school's admissions). On CHANGED
the school is taken over: the Brook Academy Trust owns `brook` and controls the admissions,
Brook School is removed from both registers, and the portal company is renamed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from urllib.parse import quote

import httpx
import pytest
from click.testing import CliRunner, Result

from graph import from_document, maintenance, register
from graph.database import Database
from graph.settings import Neo4jSettings
from schema.validation import parse_document
from services.cli.exit_codes import Exit
from services.cli.main import cli
from tests.services.conftest import GraphQL

pytestmark = pytest.mark.neo4j

FIRST = dt.datetime(2022, 5, 1, 9, tzinfo=dt.UTC)
CHANGED = dt.datetime(2024, 1, 10, 9, tzinfo=dt.UTC)
THEN = "2023-01-01"
RECORD_THEN = "in the record as recorded at 2023-01-02T00:00:00+00:00"

_SHARED = """
data_subjects: [{id: brook-pupils, name: Pupils}]
data_categories: [{id: brook-admissions-data, name: Admissions data}]
legal_bases: [{id: brook-art6-1-e, kind: article-6, title: Public task, article: 6(1)(e)}]
activities:
  - id: brook-admissions
    name: Admissions
    controller: CONTROLLER
    processors: [{organisation: brook-portal-co, contract: "https://example.org/contract"}]
    purposes: [Admissions]
    data_subjects: [brook-pupils]
    data_categories: [brook-admissions-data]
    legal_bases: [brook-art6-1-e]
"""
_ORGS = """
organisations:
  - {id: CONTROLLER, name: NAME, kind: school}
  - {id: brook-portal-co, name: PORTAL, kind: company}
"""
_SCHOOL = "version: ropa/v2\nregister: {id: brook, name: Brook, owner: CONTROLLER}\n"
_PORTAL = (
    "version: ropa/v2\nregister: {id: brook-portal, name: Brook portal, owner: brook-portal-co}\n"
)
_ENGAGEMENT = """
  - {id: brook-sub-hosting, name: Sub Hosting Ltd, kind: company}
engagements:
  - id: brook-hosting
    processor: brook-portal-co
    sub_processor: brook-sub-hosting
    activity: brook-admissions
    purpose: Hosting
    data_categories: [brook-admissions-data]
    location: United Kingdom
    since: 2022-01-01
    status: active
"""


def _docs(controller: str, name: str, portal: str) -> list[str]:
    school = _SCHOOL + _ORGS + _SHARED
    processor = _PORTAL + _ORGS.rstrip("\n") + _ENGAGEMENT + _SHARED
    return [
        text.replace("CONTROLLER", controller).replace("NAME", name).replace("PORTAL", portal)
        for text in (school, processor)
    ]


@pytest.fixture(scope="module")
async def history(session_db: Database) -> Database:
    """Both registers recorded on FIRST, then the takeover and the rename on CHANGED."""
    await maintenance.wipe(session_db)
    before = _docs("brook-school", "Brook School", "Brook Portal Ltd")
    after = _docs("brook-trust", "Brook Academy Trust", "Brook Transition Services Ltd")
    for texts, at in ((before, FIRST), (after, CHANGED)):
        for text in texts:
            doc = parse_document(text)
            entities = from_document.entities(doc)
            await register.apply(session_db, doc.register_info.id, entities, "dpo", occurred_at=at)
    return session_db


async def _ropa(settings: Neo4jSettings, *args: str) -> Result:
    # The command runs its own event loop, so it runs in a thread of its own.
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args), env=settings.environment())


async def test_the_cli_finds_the_controller_by_its_name_then(
    history: Database, neo4j_settings: Neo4jSettings
) -> None:
    export = ("export", "--format", "json", "--controller")
    then = await _ropa(neo4j_settings, *export, "Brook School", "--recorded-at", THEN)
    assert then.exit_code == 0, then.stderr
    # Its processor's own register, as recorded then, gives its sub-processor.
    assert "Sub Hosting Ltd" in then.stdout
    assert "Brook Portal Ltd" in then.stdout
    assert json.loads(then.stdout)
    # Removed since: not in today's record.
    today = await _ropa(neo4j_settings, *export, "Brook School")
    assert today.exit_code == Exit.NOT_FOUND, today.stdout
    # Only today's: not in the record then, and the error says which record was read.
    for command in (
        export,
        ("check", "--graph", "--controller"),
        ("notice", "--audience", "parents", "--controller"),
    ):
        new = await _ropa(neo4j_settings, *command, "Brook Academy Trust", "--recorded-at", THEN)
        assert new.exit_code == Exit.NOT_FOUND, (command, new.stdout)
        assert RECORD_THEN in new.stderr
    now = await _ropa(neo4j_settings, *export, "Brook Academy Trust")
    assert now.exit_code == 0, now.stderr
    checked = await _ropa(
        neo4j_settings, "check", "--graph", "--controller", "brook school", "--recorded-at", THEN
    )
    assert checked.exit_code in (0, Exit.INVALID), checked.stderr
    assert "graph register brook" in checked.stdout


async def test_the_http_routes_find_the_controller_by_its_name_then(
    history: Database, client: httpx.AsyncClient
) -> None:
    export = "/export/ropa.json"
    then = await client.get(export, params={"controller": "Brook School", "recordedAt": THEN})
    assert then.status_code == 200, then.text
    assert "Sub Hosting Ltd" in then.text
    for params in (
        {"controller": "Brook School"},
        {"controller": "Brook Academy Trust", "recordedAt": THEN},
    ):
        missing = await client.get(export, params=params)
        assert missing.status_code == 404, (params, missing.text)
        assert missing.json()["error"]["code"] == "NOT_FOUND"
    assert RECORD_THEN in missing.json()["error"]["message"]
    notice = f"/notices/{quote('Brook School')}/parents.md"
    assert (await client.get(notice, params={"recordedAt": THEN})).status_code == 200
    assert (await client.get(notice)).status_code == 404


async def test_the_feed_finds_the_processor_by_its_name_then(
    history: Database, client: httpx.AsyncClient
) -> None:
    def feed(name: str) -> str:
        return f"/feeds/subprocessors/{quote(name)}.atom"

    then = await client.get(feed("Brook Portal Ltd"), params={"recordedAt": THEN})
    assert then.status_code == 200, then.text
    assert "Sub Hosting Ltd" in then.text
    renamed = await client.get(feed("Brook Transition Services Ltd"), params={"recordedAt": THEN})
    assert renamed.status_code == 404, renamed.text
    assert RECORD_THEN in renamed.text
    assert (await client.get(feed("Brook Transition Services Ltd"))).status_code == 200
    assert (await client.get(feed("Brook Portal Ltd"))).status_code == 404


async def test_graphql_finds_the_controller_by_its_name_then(
    history: Database, graphql: GraphQL
) -> None:
    query = """
    query ($controller: String!, $at: DateTime) {
      activities(controller: $controller, recordedAt: $at) { id controller { name } }
    }
    """
    then = await graphql(query, controller="Brook School", at=THEN)
    assert then["data"]["activities"] == [
        {"id": "brook-admissions", "controller": {"name": "Brook School"}}
    ]
    for controller, at in (("Brook School", None), ("Brook Academy Trust", THEN)):
        [error] = (await graphql(query, controller=controller, at=at))["errors"]
        assert error["extensions"]["code"] == "NOT_FOUND", (controller, error)
    assert RECORD_THEN in error["message"]
