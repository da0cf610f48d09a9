"""GET /feeds/subprocessors/{processor}.atom: a valid Atom 1.0 feed, newest first."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

import feedparser
import httpx
import pytest

from graph import from_document, register
from graph.database import Database
from schema.validation import load_document, parse_document
from tests.services.conftest import CHANGES_REGISTER, DPO_TOKEN, GraphQL

pytestmark = pytest.mark.neo4j

A = "{http://www.w3.org/2005/Atom}"
CHANGES = "query ($p: String) { changes(processor: $p, first: 500) { id sequence type } }"
ENGAGE = """
mutation ($input: EngageSubProcessorInput!) {
  engageSubProcessor(input: $input) { engagement { id } errors { message } }
}
"""


async def _changes(as_dpo: GraphQL) -> None:
    payload = await as_dpo(
        ENGAGE,
        input={
            "processor": "portal-co",
            "subProcessor": "Mail Co Ltd",
            "purpose": "Sending e-mail\x01 & <newsletters>",
            "categories": ["contact-details"],
            "since": "2024-09-01",
        },
    )
    assert payload["engageSubProcessor"]["errors"] == []
    await as_dpo(
        'mutation { endEngagement(id: "portal-hosting", until: "2025-08-31") { errors { field } } }'
    )


async def _feed(client: httpx.AsyncClient, processor: str) -> httpx.Response:
    return await client.get(f"/feeds/subprocessors/{processor}.atom")


async def test_a_valid_atom_feed_newest_first(
    change_register: Database, as_dpo: GraphQL, dpo_client: httpx.AsyncClient
) -> None:
    await _changes(as_dpo)
    response = await _feed(dpo_client, "portal-co")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"

    parsed: Any = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.title == "Sub-processors of Portal Co Ltd"
    assert parsed.feed.id.startswith("urn:uuid:")
    assert parsed.feed.links[0].rel == "self"
    assert parsed.feed.links[0].href == "http://registry/feeds/subprocessors/portal-co.atom"

    recorded = (await as_dpo(CHANGES, p="portal-co"))["changes"]
    assert [e.id for e in parsed.entries] == [f"urn:uuid:{c['id']}" for c in reversed(recorded)]
    assert [e.title for e in parsed.entries] == [
        "REMOVED: Hosting Co Ltd as sub-processor of Portal Co Ltd",
        "ADDED: Mail Co Ltd as sub-processor of Portal Co Ltd",
        "ADDED: Hosting Co Ltd as sub-processor of Portal Co Ltd",
    ]
    updated = [e.updated_parsed for e in parsed.entries]
    assert updated == sorted(updated, reverse=True)
    ended, added, _ = parsed.entries
    # The actor is a person's name: withheld from anonymous readers, shown to the register's.
    assert ended.author == "(withheld)"
    mine: Any = feedparser.parse(
        (
            await dpo_client.get(
                "/feeds/subprocessors/portal-co.atom",
                headers={"authorization": f"Bearer {DPO_TOKEN}"},
            )
        ).content
    )
    assert mine.entries[0].author == "dpo-alice"
    assert "Until: none -> 2025-08-31" in ended.content[0].value
    assert "Effective from" in ended.content[0].value
    assert "Sending e-mail & <newsletters>" in added.content[0].value
    assert "Effective from 2024-09-01." in added.content[0].value


async def test_the_required_atom_elements(
    change_register: Database, as_dpo: GraphQL, dpo_client: httpx.AsyncClient
) -> None:
    await _changes(as_dpo)
    root = ET.fromstring((await _feed(dpo_client, "portal-co")).content)
    assert root.tag == f"{A}feed"
    for name in ("id", "title", "updated", "author"):
        assert root.find(f"{A}{name}") is not None, name
    entries = root.findall(f"{A}entry")
    assert len(entries) == 3
    for entry in entries:
        for name in ("id", "title", "updated", "content", "author"):
            assert entry.find(f"{A}{name}") is not None, name
        content = entry.find(f"{A}content")
        assert content is not None
        assert content.get("type") == "text"
    newest = root.find(f"{A}updated")
    first_entry = entries[0].find(f"{A}updated")
    assert newest is not None
    assert first_entry is not None
    assert newest.text == first_entry.text


async def test_the_processor_by_name_in_any_case(
    change_register: Database, dpo_client: httpx.AsyncClient
) -> None:
    by_id = await _feed(dpo_client, "portal-co")
    by_name = await _feed(dpo_client, "PORTAL%20co%20LTD")
    ids = [ET.fromstring(r.content).findtext(f"{A}id") for r in (by_id, by_name)]
    assert ids[0] == ids[1]
    assert ids[0] is not None


async def test_an_unknown_processor_is_not_found(
    change_register: Database, dpo_client: httpx.AsyncClient
) -> None:
    response = await _feed(dpo_client, "nobody-ltd")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/plain")
    assert "no organisation with id or name 'nobody-ltd'" in response.text


async def test_only_that_processors_changes_and_at_most_100(
    change_register: Database, dpo_client: httpx.AsyncClient
) -> None:
    data = load_document(CHANGES_REGISTER).model_dump(by_alias=True, mode="json")
    data["organisations"].append({"id": "other-co", "name": "Other Co", "kind": "company"})
    data["engagements"] += [
        {"id": f"e-{n:03}", "processor": "portal-co", "sub_processor": "mail-co"}
        for n in range(104)
    ]
    data["engagements"].append(
        {"id": "other-mail", "processor": "other-co", "sub_processor": "mail-co"}
    )
    doc = parse_document(json.dumps(data))
    await register.apply(change_register, "school", from_document.entities(doc), "tests")
    parsed: Any = feedparser.parse((await _feed(dpo_client, "portal-co")).content)
    assert not parsed.bozo
    assert len(parsed.entries) == 100
    other: Any = feedparser.parse((await _feed(dpo_client, "other-co")).content)
    assert [e.title for e in other.entries] == ["ADDED: Mail Co Ltd as sub-processor of Other Co"]
    assert {e.id for e in other.entries}.isdisjoint({e.id for e in parsed.entries})


async def test_an_empty_feed_is_valid(
    change_register: Database, dpo_client: httpx.AsyncClient
) -> None:
    parsed: Any = feedparser.parse((await _feed(dpo_client, "mail-co")).content)
    assert not parsed.bozo
    assert parsed.entries == []
    assert parsed.feed.updated_parsed is not None
