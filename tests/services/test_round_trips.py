"""An operation costs a small, bounded number of Cypher round trips, whatever its depth.

Where the round trips of one operation come from (each is one read transaction):
- resolving what it names: per kind of thing named, one read for refs that look like ids and
  one more for those that are names (at most 4 for `recipients`: a category and a controller);
- the lineage: one per hop level, at most `lineage.MAX_HOPS` (6), or 1 with `transitive: false`;
  it brings the organisations on its paths with it;
- the reference data (categories, data subjects, legal bases): 1, read whole on first use;
- each by-id loader (organisations, activities, disclosures, an activity's disclosures,
  engagements, systems): one batch per nesting level at which that type first meets new ids.
  Loaders cache per request and the type graph closes on itself (an activity's disclosures
  lead back to the same activity; organisations lead nowhere), so past a few levels every
  load is a cache hit and deeper nesting costs nothing more.

BOUND is what the deepest query below may cost; the same query twice as deep must cost the same.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from starlette.applications import Starlette

from graph.database import Database
from graph.read import lineage

pytestmark = pytest.mark.neo4j

Post = Callable[..., Awaitable[dict[str, Any]]]

BOUND = 16

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
    # Even the whole graph of lineage hops is reached within the lineage's own level queries.
    assert lineage.MAX_HOPS < BOUND


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
    # Resolving the category by its id, and one lineage level, which brings the organisations.
    assert cost == 2
