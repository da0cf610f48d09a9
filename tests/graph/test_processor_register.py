"""School Transition Limited's own register (Article 30(2)) beside the school's, in one graph."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from graph import from_document, register, register_set, to_document
from graph import model as m
from graph import subprocessor_changes as spc
from graph.database import Database
from graph.read import lineage
from schema.graphql.records import RecipientsQuestion
from schema.ropa_export.columns import PROCESSOR_COLUMNS
from schema.ropa_export.records import build_export
from schema.validation import load_document
from tests.support.examples import school_record

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
    # ...and only it: the school's register names STL's register instead of copying them.
    async with db.driver.session(database=db.name) as session:
        result = await session.run(
            "MATCH (:Register {id: 'allestree-woodlands'})-[:DECLARES]->(e:Engagement) "
            "RETURN count(e) AS n"
        )
        declared = await result.single()
    assert declared is not None
    assert declared["n"] == 0

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


async def test_applying_both_moves_the_copies_without_deleting_a_sub_processor(
    db: Database,
) -> None:
    """A graph whose school register still declares STL's engagements (the example before
    issue 14's change) applied with both registers at once: the engagements move to STL's
    register, and none is deleted and created again (subscribers would be told of a
    sub-processor removed and added)."""
    old_school = school_record()  # the school's register, holding the copies
    assert {e.id for e in old_school.engagements} == {
        "stl-link-ict",
        "stl-derby-city-council",
        "stl-school-development-support-agency",
    }
    await register.apply(db, "allestree-woodlands", from_document.entities(old_school), "test")
    docs = [load_document(path) for path in (SCHOOL, STL)]
    desired = [(d.register_info.id, from_document.entities(d)) for d in docs]
    planned = await register_set.plan_all(db, desired)
    applied = await register_set.apply_all(db, desired, "test")
    assert [p.register for p in applied] == ["allestree-woodlands", "school-transition-limited"]
    assert [[(c.op, c.entity.key) for c in p.changes] for p in planned] == [
        [(c.op, c.entity.key) for c in p.changes] for p in applied
    ]
    school, stl = applied
    assert {c.entity.key for c in school.by_op("DELETED")} >= {
        m.entity_key(m.ENGAGEMENT, "stl-link-ict"),
        m.entity_key(m.ORGANISATION, "link-ict"),
    }
    # STL's plan declares the shared entities the school's plan just wrote, unchanged.
    assert stl.by_op("UPDATED") == []
    async with db.driver.session(database=db.name) as session:
        result = await session.run(
            "MATCH (reg:Register)-[:DECLARES]->(e:Engagement) "
            "RETURN reg.id AS register, collect(e.id) AS ids"
        )
        rows = [r.data() async for r in result]
        events = await session.run(
            "MATCH (c:ChangeEvent) WHERE c.entityType = 'Engagement' "
            "RETURN c.op AS op, c.register AS register, c.sequence AS sequence "
            "ORDER BY sequence"
        )
        ops = [(r["op"], r["register"]) async for r in events]
    assert rows == [
        {
            "register": "school-transition-limited",
            "ids": rows[0]["ids"],
        }
    ]
    assert set(rows[0]["ids"]) == {
        "stl-link-ict",
        "stl-derby-city-council",
        "stl-school-development-support-agency",
    }
    # Each register records its own declaring: the school's first, then STL's register
    # takes them on (DECLARED: they were there), and only then does the school's let them go
    # (RELEASED: they stay), so at no moment did no register declare them (the nodes were never
    # deleted), and no sub-processor change tells anyone of it.
    school_id, stl_id = "allestree-woodlands", "school-transition-limited"
    assert (
        ops
        == [("CREATED", school_id)] * 3 + [("DECLARED", stl_id)] * 3 + [("RELEASED", school_id)] * 3
    )
    told = await db.read(spc.changes_after, 0, None, 100)
    assert [c.type for c in told] == [spc.ADDED] * 3
    found = await lineage.recipients(
        db,
        RecipientsQuestion(
            category_id="safeguarding", as_of=DAY, controller_id="allestree-woodlands"
        ),
    )
    assert {r.organisation_id for r in found} >= STL_SUBS
    # Applying both again writes nothing.
    assert all(p.empty for p in await register_set.apply_all(db, desired, "test"))


async def test_a_schools_scope_reads_its_sub_processors_from_the_processors_register(
    db: Database,
) -> None:
    """A principal whose scope is the school's register alone still gets the school's
    sub-processors in its record: STL's register declares them, and nothing else of it is read."""
    await _apply(db, SCHOOL)
    await _apply(db, STL)
    scoped = await to_document.controller_document(
        db, None, scope=frozenset({"allestree-woodlands"})
    )
    assert scoped.register_info.owner == "allestree-woodlands"
    assert {e.id for e in scoped.engagements} == {
        "stl-link-ict",
        "stl-derby-city-council",
        "stl-school-development-support-agency",
    }
    assert {"link-ict", "school-development-support-agency"} <= {o.id for o in scoped.organisations}
    export = build_export(scoped, DAY, None)
    engaged = [
        dict(zip(PROCESSOR_COLUMNS, r, strict=True))["Sub-processor engaged by (if applicable)"]
        for r in export.processor_rows
    ]
    assert sum(1 for e in engaged if e.startswith("School Transition Limited")) == 3
    # With both registers, no controller named: the school's, not STL's (which controls none).
    whole = await to_document.controller_document(db, None)
    assert whole.register_info.owner == "allestree-woodlands"
