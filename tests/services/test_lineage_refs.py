"""`recipients` as the client names its category and controller: ids are tried in the traversal's
own read, names (or ids that name nothing) are resolved first, with the same answers and errors."""

from __future__ import annotations

import datetime as dt

import pytest

from graph import from_document, register
from graph.database import Database
from schema.access.principal import admin
from schema.errors import NotFound
from schema.graphql.records import RecipientsQuestion
from schema.validation import parse_document
from services.registry.loaders import build_context
from tests.graph.test_lineage import REGISTER

pytestmark = pytest.mark.neo4j

DURING = dt.date(2022, 6, 1)
# A name shaped like an id (a slug) that is no id: tried as an id first, then as a name.
NAMED = REGISTER.replace("{id: offence, name: Offence data,", "{id: offence, name: offences,")
NAMED = NAMED.replace("{id: school-a, name: School A,", "{id: school-a, name: alpha,")


@pytest.fixture
async def graph(db: Database) -> Database:
    doc = parse_document(NAMED)
    await register.apply(db, doc.register_info.id, from_document.entities(doc), "tests")
    return db


async def _asked(db: Database, category: str, controller: str | None) -> tuple[object, int]:
    context = build_context(db)
    context.principal = admin("tests")
    before = db.round_trips
    found = await context.reader.recipients(
        RecipientsQuestion(category, DURING, controller), named=True, reference=True
    )
    return found.recipients, db.round_trips - before


async def test_ids_in_any_case_cost_the_traversal_alone(graph: Database) -> None:
    by_id, cost = await _asked(graph, "offence", "school-a")
    assert by_id, "the register's offence data reaches someone"
    assert cost == 1
    assert await _asked(graph, "OFFENCE", "School-A") == (by_id, 1)


async def test_a_name_shaped_like_an_id_is_resolved_after_the_try(graph: Database) -> None:
    by_id, _ = await _asked(graph, "offence", "school-a")
    # The try as ids (which names nothing), the refs' ids and names, then the traversal.
    assert await _asked(graph, "Offences", "ALPHA") == (by_id, 4)
    # A name that is no slug is resolved at once: ids (the category's), names, traversal.
    assert await _asked(graph, "offence", "local authority") == ([], 3)


async def test_what_names_nothing_is_not_found_quoting_the_value(graph: Database) -> None:
    with pytest.raises(NotFound, match="'Hogwarts'"):
        await _asked(graph, "offence", "Hogwarts")
    with pytest.raises(NotFound, match="'astrology'"):
        await _asked(graph, "astrology", None)
