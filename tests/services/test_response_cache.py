"""The response cache answers a repeated query without executing it, never after a change to
the register (committed by any process), and never with an answer computed for another scope."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from graph import from_document, register
from graph.database import Database
from schema.validation import load_document
from tests.services.conftest import (
    ADMIN_TOKEN,
    DPO_TOKEN,
    ELSEWHERE_DPO_TOKEN,
    EXAMPLE,
    GraphQL,
    load_example,
)

pytestmark = pytest.mark.neo4j

ORGANISATIONS = "{ organisations { id name } }"
ACTIVITIES = '{ activities(asOf: "2022-06-01") { id name } }'


async def _hits(client: httpx.AsyncClient) -> float:
    """The registry's count of answers served from the cache, from /metrics."""
    text = (await client.get("/metrics")).text
    found = re.search(r'^ropa_response_cache_total\{outcome="hit"\} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


async def test_a_repeated_query_is_answered_from_the_cache(
    session_db: Database, as_user: Callable[[str | None], GraphQL], dpo_client: httpx.AsyncClient
) -> None:
    await load_example(session_db)
    admin = as_user(ADMIN_TOKEN)
    first = await admin(ORGANISATIONS)
    before = await _hits(dpo_client)
    assert await admin(ORGANISATIONS) == first  # asked again: kept
    assert await _hits(dpo_client) == before
    assert await admin(ORGANISATIONS) == first
    assert await _hits(dpo_client) == before + 1


async def test_a_hit_costs_one_round_trip_and_a_miss_one_more(
    session_db: Database, as_user: Callable[[str | None], GraphQL], dpo_app: Starlette
) -> None:
    await load_example(session_db)
    database: Database = dpo_app.state.database
    admin = as_user(ADMIN_TOKEN)
    trips = []
    for _ in range(3):
        before = database.round_trips
        await admin(ACTIVITIES)
        trips.append(database.round_trips - before)
    executed, missed, hit = trips
    # Asked first, the question is only executed; asked again, the change log's head is read
    # too and the answer kept; then the head alone, to know the kept answer still holds.
    assert executed >= 1
    assert missed == executed + 1
    assert hit == 1


async def test_a_change_committed_elsewhere_is_seen_at_once(
    session_db: Database, as_user: Callable[[str | None], GraphQL], tmp_path: Path
) -> None:
    await load_example(session_db)
    admin = as_user(ADMIN_TOKEN)
    names = {o["id"]: o["name"] for o in (await admin(ORGANISATIONS))["data"]["organisations"]}
    assert names["allestree-woodlands"] == "Allestree Woodlands School"
    assert (await admin(ORGANISATIONS))["data"]["organisations"]  # now kept
    # Another process's write (this test's own driver): the registry's writes hook never sees
    # it, only the change log does.
    renamed = tmp_path / "renamed.yaml"
    renamed.write_text(
        EXAMPLE.read_text().replace(
            "name: Allestree Woodlands School\n", "name: Allestree Woodlands Academy\n", 1
        )
    )
    doc = load_document(renamed)
    await register.apply(session_db, doc.register_info.id, from_document.entities(doc), "tests")
    after = {o["id"]: o["name"] for o in (await admin(ORGANISATIONS))["data"]["organisations"]}
    assert after["allestree-woodlands"] == "Allestree Woodlands Academy"


def _activities(body: dict[str, Any]) -> set[str]:
    assert "errors" not in body, body["errors"]
    return {a["id"] for a in body["data"]["activities"]}


async def test_an_answer_is_never_served_to_another_scope(
    session_db: Database, as_user: Callable[[str | None], GraphQL]
) -> None:
    await load_example(session_db)
    everything = _activities(await as_user(ADMIN_TOKEN)(ACTIVITIES))
    assert _activities(await as_user(ADMIN_TOKEN)(ACTIVITIES)) == everything  # now kept
    assert everything
    # The same document and variables, asked by callers who may read less, after the admin's
    # answer was kept: each gets what its own scope reads.
    assert _activities(await as_user(ELSEWHERE_DPO_TOKEN)(ACTIVITIES)) == set()
    assert _activities(await as_user(None)(ACTIVITIES)) == set()
    assert _activities(await as_user(DPO_TOKEN)(ACTIVITIES)) == everything
    assert _activities(await as_user(ELSEWHERE_DPO_TOKEN)(ACTIVITIES)) == set()


async def test_a_past_record_outlives_later_writes_but_not_an_earlier_stamped_one_it_covers(
    session_db: Database, as_user: Callable[[str | None], GraphQL], dpo_client: httpx.AsyncClient
) -> None:
    await load_example(session_db)
    moment = dt.datetime.now(dt.UTC)
    past = (
        f'{{ activities(asOf: "2022-06-01", recordedAt: "{moment.isoformat()}") '
        "{ id controller { name } } }"
    )
    admin = as_user(ADMIN_TOKEN)
    first = await admin(past)
    assert "errors" not in first, first
    assert await admin(past) == first  # asked again: kept
    doc = load_document(EXAMPLE)

    async def rename(to: str, at: dt.datetime | None = None) -> None:
        renamed = doc.model_copy(
            update={
                "organisations": [
                    o.model_copy(update={"name": to}) if o.id == doc.register_info.owner else o
                    for o in doc.organisations
                ]
            }
        )
        entities = from_document.entities(renamed)
        await register.apply(session_db, doc.register_info.id, entities, "t", occurred_at=at)

    # Stamped before the moment, committed after the answer was kept, while nothing stamped
    # at or after it is in the log: it is in the record, so the key moves.
    await rename("Allestree Woodlands Trust", moment - dt.timedelta(seconds=1))
    before = await _hits(dpo_client)
    second = await admin(past)
    assert await _hits(dpo_client) == before
    assert "Allestree Woodlands Trust" in json.dumps(second), second
    # Recorded after the moment: the record as recorded then is untouched, and kept.
    await rename("Allestree Woodlands Academy")
    before = await _hits(dpo_client)
    assert await admin(past) == second
    assert await _hits(dpo_client) == before + 1
    # Stamped before the moment again, but committed after a change stamped after it: not
    # seen then (the record is a prefix of the log in commit order), so kept as it was.
    await rename("Allestree Woodlands College", moment - dt.timedelta(seconds=1))
    before = await _hits(dpo_client)
    assert await admin(past) == second
    assert await _hits(dpo_client) == before + 1
