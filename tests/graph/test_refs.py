"""Names and ids as clients type them: any case, an exact id first, a name naming one thing."""

from __future__ import annotations

import pytest

from graph import from_document, register
from graph.database import Database
from graph.read import refs
from schema.errors import NotFound
from schema.graphql.records import RefKind
from schema.validation import parse_document

pytestmark = pytest.mark.neo4j

REGISTER = """
version: ropa/v1
register: {id: refs, name: Refs, owner: school}
organisations:
  - {id: school, name: The School}
  - {id: council, name: Derby City Council}
  - {id: council-2, name: derby city council}
  - {id: dfe, name: school}
legal_bases:
  - {id: art6-1-a, kind: article-6, title: Consent}
"""


@pytest.fixture
async def graph(db: Database) -> Database:
    doc = parse_document(REGISTER)
    await register.apply(db, doc.register_info.id, from_document.entities(doc), "tests")
    db.round_trips = 0
    return db


async def test_ids_and_names_in_any_case(graph: Database) -> None:
    found = await refs.resolve(graph, RefKind.ORGANISATION, ["DFE", "the school", "Dfe"])
    assert found == ["dfe", "school", "dfe"]
    assert await refs.resolve(graph, RefKind.LEGAL_BASIS, ["CONSENT"]) == ["art6-1-a"]


async def test_an_exact_id_wins_over_a_name(graph: Database) -> None:
    # "school" is the id of The School and the name of the DfE entry.
    assert await refs.resolve(graph, RefKind.ORGANISATION, ["School"]) == ["school"]


async def test_ids_cost_one_read_and_names_one_more(graph: Database) -> None:
    await refs.resolve(graph, RefKind.ORGANISATION, ["dfe", "council"])
    assert graph.round_trips == 1
    await refs.resolve(graph, RefKind.ORGANISATION, ["The School"])
    assert graph.round_trips == 2


async def test_unknown_and_ambiguous(graph: Database) -> None:
    unknown, ambiguous = await refs.resolve(
        graph, RefKind.ORGANISATION, ["Nowhere Academy", "DERBY CITY COUNCIL"]
    )
    assert isinstance(unknown, NotFound)
    assert str(unknown) == "no organisation with id or name 'Nowhere Academy'"
    assert isinstance(ambiguous, refs.AmbiguousReference)
    assert ambiguous.code == "BAD_USER_INPUT"
    assert "council" in str(ambiguous)
    assert "council-2" in str(ambiguous)
