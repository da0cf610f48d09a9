from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from graph import register
from graph.database import Database
from tests.support.examples import apply_school_record, school_record

pytestmark = pytest.mark.neo4j

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "allestree-woodlands.yaml"


async def _rows(db: Database, query: str) -> list[dict[str, Any]]:
    async with db.driver.session(database=db.name) as session:
        return [r.data() async for r in await session.run(query)]


async def _apply_example(db: Database) -> list[register.Plan]:
    return await apply_school_record(db, "test")


async def test_example_yields_a_node_per_entity_of_the_document(db: Database) -> None:
    doc = school_record()
    await _apply_example(db)
    labels = Counter(
        {
            r["label"]: r["n"]
            for r in await _rows(
                db,
                """
            MATCH (n:Entity) UNWIND [l IN labels(n) WHERE l <> 'Entity'] AS label
            RETURN label, count(*) AS n
        """,
            )
        }
    )
    assert labels == Counter(
        {
            "Register": 2,
            "Organisation": len(doc.organisations),
            "DataSubjectCategory": len(doc.data_subjects),
            "DataCategory": len(doc.data_categories),
            "LegalBasis": len(doc.legal_bases),
            "System": len(doc.systems),
            "ProcessingActivity": len(doc.activities),
            "Disclosure": len(doc.flows),
            "Engagement": len(doc.engagements),
        }
    )


async def test_example_census_flow_rests_on_regulation_5(db: Database) -> None:
    await _apply_example(db)
    rows = await _rows(
        db,
        """
        MATCH (d:Disclosure {id: 'census-to-dfe'})-[:TO]->(:Organisation {id: 'dfe'})
        MATCH (d)-[u:UNDER]->(b:LegalBasis {id: 'art6-1-c'})
        RETURN u.restsOn AS laws, u.provisions AS provisions
    """,
    )
    # The law of this use rides on the flow's link to its basis, not on the basis itself.
    assert rows == [
        {
            "laws": ["education-act-1996", "education-pupil-info-regs-2013-reg5"],
            "provisions": ["s537A", ""],
        }
    ]


async def test_example_post16_sub_processors_and_special_categories(db: Database) -> None:
    await _apply_example(db)
    subs = await _rows(
        db,
        """
        MATCH (e:Engagement)-[:ENGAGED_BY]->(:Organisation {id: 'school-transition-limited'})
        MATCH (e)-[:SUB_PROCESSOR]->(s:Organisation)
        RETURN s.id AS sub, toString(e.since) AS since, e.recurEvery AS every,
               e.recurLasts AS lasts ORDER BY sub
    """,
    )
    # Every year from 14 February 2022, for a year: the annual transition of each cohort.
    annual = {"since": "2022-02-14", "every": "P1Y", "lasts": "P1Y"}
    assert subs == [
        {"sub": "derby-city-council", **annual},
        {"sub": "link-ict", **annual},
        {"sub": "school-development-support-agency", **annual},
    ]
    special = await _rows(
        db, "MATCH (c:DataCategory {special: true}) RETURN c.id AS id ORDER BY id"
    )
    assert {"ethnicity", "medical"} <= {r["id"] for r in special}
    parent = await _rows(
        db,
        """
        MATCH (:DataCategory {id: 'ethnicity'})-[:PART_OF]->(p) RETURN p.id AS id
    """,
    )
    assert parent == [{"id": "characteristics"}]
    # Derby City Council is one organisation in two roles: recipient and sub-processor.
    roles = await _rows(
        db,
        """
        MATCH (o:Organisation {id: 'derby-city-council'})
        RETURN EXISTS { (:Disclosure)-[:TO]->(o) } AS recipient,
               EXISTS { (:Engagement)-[:SUB_PROCESSOR]->(o) } AS sub_processor
    """,
    )
    assert roles == [{"recipient": True, "sub_processor": True}]


async def test_example_applies_once(db: Database) -> None:
    first = sum(len(plan.changes) for plan in await _apply_example(db))
    assert first > 100
    assert all(plan.empty for plan in await _apply_example(db))
    events = await _rows(db, "MATCH (c:ChangeEvent) RETURN count(c) AS n")
    assert events == [{"n": first}]
