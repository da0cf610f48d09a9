"""An operation costs a small, bounded number of Cypher round trips, whatever its depth.

Where the round trips of one operation come from (each is one read transaction):
- resolving what it names: one read for the refs that look like ids, of every kind at once,
  and one more for those that are names;
- the lineage: one statement, whatever its depth, bringing the organisations on its paths and,
  when the selection asks for them, the paths' activities and engagements;
- the reference data (categories, data subjects, legal bases): 1, read whole on first use;
- each by-id loader (organisations, activities, disclosures, an activity's disclosures,
  engagements, systems): one batch per nesting level at which that type first meets new ids.
  Loaders cache per request and the type graph closes on itself (an activity's disclosures
  lead back to the same activity; organisations lead nowhere), so past a few levels every
  load is a cache hit and deeper nesting costs nothing more.

BOUND is what the deepest query below may cost; the same query twice as deep must cost the same.
These count what executing an operation costs, so the app here runs without the response
cache (which adds its one read of the change log's head: tests/services/test_response_cache.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from starlette.applications import Starlette

from graph.database import Database
from services.registry.app import create_app
from services.registry.settings import RegistrySettings

pytestmark = pytest.mark.neo4j

Post = Callable[..., Awaitable[dict[str, Any]]]

BOUND = 8


@pytest.fixture(scope="module")
async def app(registry_settings: RegistrySettings) -> AsyncIterator[Starlette]:
    """The app without the response cache: every operation here is executed."""
    application = create_app(registry_settings.model_copy(update={"response_cache_entries": 0}))
    async with application.router.lifespan_context(application):
        yield application


ORGANISATION = "{ id name kind contact { name } }"
CATEGORY = "{ id name special parent { id parent { id children { id name } } } children { id } }"
BASIS = "{ id title legislation restsOn { id title restsOn { id legislation } } }"
SUBJECT = "{ id parent { id children { id } } }"
SYSTEM = f"{{ id name operator {ORGANISATION} }}"


def activity(depth: int) -> str:
    """An activity with every relation, and its disclosures' activities `depth` levels down."""
    inner = "" if depth == 0 else f"activity {activity(depth - 1)}"
    return f"""{{
      id name controller {ORGANISATION} jointControllers {ORGANISATION}
      processors {{ organisation {ORGANISATION} }}
      dataSubjects {SUBJECT} categories {CATEGORY} legalBases {BASIS} systems {SYSTEM}
      recipients {ORGANISATION}
      disclosures {{
        id from {ORGANISATION} to {ORGANISATION} categories {CATEGORY} legalBases {BASIS}
        system {SYSTEM} {inner}
      }}
    }}"""


def deep_recipients(depth: int) -> str:
    """`recipients` with every field of every hop, nested `depth` levels."""
    engagement = f"""{{
      id processor {ORGANISATION} subProcessor {ORGANISATION} categories {CATEGORY}
      activity {activity(depth)}
    }}"""
    return f"""{{
      recipients(category: "safeguarding", asOf: "2022-06-01") {{
        organisation {ORGANISATION}
        paths {{ hops {{
          kind condition from {ORGANISATION} to {ORGANISATION}
          activity {activity(depth)}
          categories {CATEGORY} legalBases {BASIS}
          engagement {engagement}
          disclosure {{ id activity {activity(depth)} }}
        }} }}
      }}
    }}"""


async def _cost(app: Starlette, data: Post, query: str) -> int:
    database: Database = app.state.database
    before = database.round_trips
    await data(query)
    return database.round_trips - before


async def test_deeply_nested_recipients_stay_within_the_bound(
    example: Database, app: Starlette, data: Post
) -> None:
    shallow = await _cost(app, data, deep_recipients(0))
    deep = await _cost(app, data, deep_recipients(1))
    assert deep <= BOUND, f"{deep} round trips"
    assert deep == shallow


# What a lineage client asks for (bench/lineage.py asks the same).
RECIPIENTS = """
query ($category: String!, $controller: String, $asOf: Date) {
  recipients(category: $category, controller: $controller, asOf: $asOf) {
    organisation { id name }
    paths { hops { kind from { id } to { id } activity { id } legalBases { id }
                   categories { id } condition engagement { id } } }
  }
}
"""


async def test_one_controllers_recipients_cost_at_most_three_round_trips(
    example: Database, app: Starlette, data: Post
) -> None:
    database: Database = app.state.database
    for controller in ("allestree-woodlands", "Allestree Woodlands School", None):
        before = database.round_trips
        found = await data(
            RECIPIENTS, category="safeguarding", controller=controller, asOf="2022-06-01"
        )
        cost = database.round_trips - before
        assert found["recipients"], controller
        assert any(
            h["engagement"] and h["activity"]
            for r in found["recipients"]
            for p in r["paths"]
            for h in p["hops"]
        )
        # The lineage, which tries the refs as ids and brings the organisations, activities,
        # engagements and reference data; a name that is no id is resolved first (its
        # category by id, its controller by name).
        assert cost == (3 if controller == "Allestree Woodlands School" else 1), (controller, cost)


async def test_long_lists_cost_no_more_than_short_ones(
    example: Database, app: Starlette, data: Post
) -> None:
    one = await _cost(app, data, f'{{ activity(ref: "safeguarding") {activity(2)} }}')
    every = await _cost(app, data, f'{{ activities(asOf: "2022-06-01") {activity(2)} }}')
    assert every <= one + 1, (one, every)
    assert every <= BOUND


async def test_direct_recipients_need_one_lineage_round_trip(
    example: Database, app: Starlette, data: Post
) -> None:
    cost = await _cost(
        app,
        data,
        '{ recipients(category: "safeguarding", transitive: false) { organisation { id } } }',
    )
    # The lineage, which finds the category by its id and brings the organisations.
    assert cost == 1
