"""School Transition Limited's own register (Article 30(2)) beside the school's, in one graph."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from graph import from_document, register, to_document
from graph.database import Database
from graph.read import lineage
from schema.graphql.records import RecipientsQuestion
from schema.ropa_export.columns import PROCESSOR_COLUMNS
from schema.ropa_export.records import build_export
from schema.validation import load_document

pytestmark = pytest.mark.neo4j

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SCHOOL = EXAMPLES / "allestree-woodlands.yaml"
STL = EXAMPLES / "school-transition-limited.yaml"
STL_SUBS = {"link-ict", "derby-city-council", "school-development-support-agency"}
DAY = dt.date(2026, 12, 1)


async def _apply(db: Database, path: Path) -> register.Plan:
    doc = load_document(path)
    return await register.apply(db, doc.register_info.id, from_document.entities(doc), "test")


async def test_both_registers_lineage_and_the_processors_own_record(db: Database) -> None:
    await _apply(db, SCHOOL)
    await _apply(db, STL)
    # The copies are exact: applying the school's register again changes nothing.
    again = await _apply(db, SCHOOL)
    assert again.empty, [c.entity.key for c in again.changes]

    found = await lineage.recipients(
        db,
        RecipientsQuestion(
            category_id="safeguarding", as_of=DAY, controller_id="allestree-woodlands"
        ),
    )
    reached = {r.organisation_id for r in found}
    assert STL_SUBS | {"school-transition-limited"} <= reached
    link = next(r for r in found if r.organisation_id == "link-ict")
    assert [h.engagement_id for h in link.paths[0] if h.engagement_id] == ["stl-link-ict"]

    # The engagements are declared by STL's register: it owns them (docs/access.md).
    async with db.driver.session(database=db.name) as session:
        result = await session.run(
            "MATCH (:Register {id: 'school-transition-limited'})-[:DECLARES]->(e:Engagement) "
            "RETURN collect(e.id) AS ids"
        )
        record = await result.single()
    assert record is not None
    assert set(record["ids"]) == {
        "stl-link-ict",
        "stl-derby-city-council",
        "stl-school-development-support-agency",
    }

    # The Art 30(2) export of the processor comes from its register, read from the graph.
    doc = await to_document.controller_document(db, "School Transition Limited")
    export = build_export(doc, DAY, doc.register_info.owner)
    assert export.as_processor
    assert export.controller_rows == []
    assert "as processor (UK GDPR Article 30(2)) of School Transition Limited" in export.title
    rows = [dict(zip(PROCESSOR_COLUMNS, r, strict=True)) for r in export.processor_rows]
    engaged = [r for r in rows if r["Sub-processor engaged by (if applicable)"]]
    assert {r[PROCESSOR_COLUMNS[0]].split(",")[0] for r in engaged} == {
        "Link ICT Services Limited",
        "Derby City Council",
        "School Development Support Agency",
    }
    assert all(r[PROCESSOR_COLUMNS[3]].startswith("Allestree Woodlands School") for r in rows)
    assert rows[0][PROCESSOR_COLUMNS[7]].startswith("Post-16 transition")

    # The school's record still holds its processor and the sub-processors, and no more.
    school = await to_document.controller_document(db, "allestree-woodlands")
    assert {e.id for e in school.engagements} == {
        "stl-link-ict",
        "stl-derby-city-council",
        "stl-school-development-support-agency",
    }
    assert all(a.controller == "allestree-woodlands" for a in school.activities)
