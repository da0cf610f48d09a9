"""A controller reads the sub-processing of its own processing, whatever ROPA_PUBLIC_READS says
(schema.access.policy, ReadScope.reads_engagement): with `none`, a token scoped to the school's
register alone gets, in `recipients` (today's record and a past one alike) and `subProcessors`,
the sub-processors that School Transition Limited declares in its own register for the
school's post-16 transfer, as the export gets them; a token of another school does not."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from graph import from_document, maintenance, register
from graph.database import Database
from schema.access.policy import PublicReads
from schema.access.tokens import hash_token
from schema.validation import load_document
from services.registry.app import create_app
from services.registry.settings import RegistrySettings

pytestmark = pytest.mark.neo4j

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SCHOOL, STL, OTHER = "allestree-woodlands", "school-transition-limited", "mickleover-meadows"
APPLIED = dt.datetime(2024, 1, 1, 9, tzinfo=dt.UTC)
SUB_PROCESSORS = {"link-ict", "derby-city-council", "school-development-support-agency"}
TOKENS = {"school": [SCHOOL], "other": [OTHER]}


@pytest.fixture(scope="module")
async def registers(session_db: Database) -> Database:
    """The school's, STL's and another school's registers, applied on APPLIED."""
    await maintenance.wipe(session_db)
    for name in (SCHOOL, STL, OTHER):
        doc = load_document(EXAMPLES / f"{name}.yaml")
        entities = from_document.entities(doc)
        await register.apply(session_db, doc.register_info.id, entities, "cli", occurred_at=APPLIED)
    return session_db


@pytest.fixture(scope="module")
async def http(
    registers: Database, registry_settings: RegistrySettings
) -> AsyncIterator[httpx.AsyncClient]:
    """The registry publishing nothing (ROPA_PUBLIC_READS=none), with a reader token for the
    school's register alone and one for the other school's."""
    tokens = [
        {"name": who, "role": "reader", "sha256": hash_token(who), "registers": scope}
        for who, scope in TOKENS.items()
    ]
    settings = registry_settings.model_copy(
        update={"public_reads": PublicReads.NONE, "tokens": json.dumps(tokens)}
    )
    application: Starlette = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://registry") as client:
            yield client


async def _body(http: httpx.AsyncClient, who: str, query: str) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {who}"}
    response = await http.post("/graphql", json={"query": query}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _data(http: httpx.AsyncClient, who: str, query: str) -> dict[str, Any]:
    body = await _body(http, who, query)
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


def _recipients(controller: str, recorded_at: str | None) -> str:
    at = f', recordedAt: "{recorded_at}"' if recorded_at else ""
    return (
        f'{{ recipients(category: "safeguarding", controller: "{controller}", '
        f'asOf: "2026-12-01"{at}) {{ organisation {{ id }} '
        "paths { hops { kind engagement { id } } } } }"
    )


def _engaged(data: dict[str, Any]) -> tuple[set[str], set[str]]:
    """The recipients reached by sub-processing, and the engagements on those hops."""
    reached, engagements = set(), set()
    for recipient in data["recipients"]:
        for path in recipient["paths"]:
            last = path["hops"][-1]
            if last["kind"] == "SUB_PROCESSING":
                reached.add(recipient["organisation"]["id"])
                assert last["engagement"] is not None, recipient
                engagements.add(last["engagement"]["id"])
    return reached, engagements


@pytest.mark.parametrize("recorded_at", [None, "2024-06-01"], ids=["today", "recorded"])
async def test_the_school_reads_its_processors_sub_processors(
    http: httpx.AsyncClient, recorded_at: str | None
) -> None:
    school = await _data(http, "school", _recipients(SCHOOL, recorded_at))
    reached, engagements = _engaged(school)
    assert reached == SUB_PROCESSORS
    assert engagements == {f"stl-{sub}" for sub in SUB_PROCESSORS}
    # Another school's token reads nothing of the school's record, nor of STL's register.
    # (In a past record it does not know the category: only its own register is rebuilt.)
    other = await _body(http, "other", _recipients(SCHOOL, recorded_at))
    assert (other["data"] or {}).get("recipients") in ([], None), other
    assert {e["extensions"]["code"] for e in other.get("errors", [])} <= {"NOT_FOUND"}
    if recorded_at is None:
        own = await _data(
            http, "other", _recipients(OTHER, recorded_at).replace("safeguarding", "pupil-data")
        )
        assert not _engaged(own)[1] & {f"stl-{sub}" for sub in SUB_PROCESSORS}


async def test_the_school_reads_its_processors_list_and_export_alike(
    http: httpx.AsyncClient,
) -> None:
    query = (
        f'{{ subProcessors(processor: "{STL}", asOf: "2026-12-01") '
        "{ id subProcessor { id } } }"
    )
    listed = await _data(http, "school", query)
    assert {e["subProcessor"]["id"] for e in listed["subProcessors"]} == SUB_PROCESSORS
    assert (await _data(http, "other", query))["subProcessors"] == []
    exported = await http.get(
        "/export/ropa.json",
        params={"controller": SCHOOL, "asOf": "2026-12-01"},
        headers={"authorization": "Bearer school"},
    )
    assert exported.status_code == 200, exported.text
    assert "Link ICT Services Limited" in exported.text
