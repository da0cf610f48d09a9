"""An engagement moving between registers: the events say which register declares it, the
sub-processor changes tell no one, and the past record keeps who declared it when."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from graph import audit, from_document, register, register_set
from graph import subprocessor_changes as spc
from graph.database import Database
from graph.read import changes as read_changes
from graph.read import recorded, snapshots
from schema.validation import load_document
from services.cli.plan_lines import describe
from tests.support.examples import (
    SCHOOL,
    STL,
    apply_one,
    apply_the_move,
    school_record,
    stl_changed,
)

pytestmark = pytest.mark.neo4j

SCHOOL_ID, STL_ID = "allestree-woodlands", "school-transition-limited"
ENGAGEMENTS = {"stl-link-ict", "stl-derby-city-council", "stl-school-development-support-agency"}
T1, T2, T3 = (dt.datetime(2025, month, 1, 9, tzinfo=dt.UTC) for month in (1, 2, 3))


async def _changes(db: Database) -> list[spc.SubProcessorChange]:
    return await db.read(spc.changes_after, 0, None, 100)


async def _engagement_ops(db: Database) -> list[tuple[str, str]]:
    async with db.driver.session(database=db.name) as session:
        result = await session.run(
            "MATCH (c:ChangeEvent {entityType: 'Engagement'}) "
            "RETURN c.op AS op, c.register AS register ORDER BY c.sequence"
        )
        return [(r["op"], r["register"]) async for r in result]


async def _declared_by(
    db: Database, registers: list[str] | None, at: dt.datetime
) -> dict[str, tuple[str, ...]]:
    found = await recorded.record_at(db, registers, at)
    return {k: e.registers for k, e in found.engagements.items() if k in ENGAGEMENTS}


async def test_the_copies_moving_to_stls_register_tell_no_one(db: Database) -> None:
    """The old school file (copying STL's engagements), then STL's register, then the new school
    file: subscribers heard of the three when they were first added, and of nothing since."""
    await apply_the_move(db, at=(T1, T2, T3))

    ops = await _engagement_ops(db)
    assert ops == (
        [("CREATED", SCHOOL_ID)] * 3 + [("DECLARED", STL_ID)] * 3 + [("RELEASED", SCHOOL_ID)] * 3
    )
    told = await _changes(db)
    assert sorted((c.type, c.sub_processor, c.occurred_at) for c in told) == [
        (spc.ADDED, sub, T1)
        for sub in ("derby-city-council", "link-ict", "school-development-support-agency")
    ]

    # STL's Atom feed reads the same changes, newest first.
    feed = await read_changes.feed(db, STL_ID, 100)
    assert sorted(c.id for c in feed.changes) == sorted(c.id for c in told)

    # The past record says which register declared them when.
    day = dt.timedelta(days=14)
    assert await _declared_by(db, [SCHOOL_ID], T1 + day) == {e: (SCHOOL_ID,) for e in ENGAGEMENTS}
    assert await _declared_by(db, None, T2 + day) == {e: (SCHOOL_ID, STL_ID) for e in ENGAGEMENTS}
    assert await _declared_by(db, None, T3 + day) == {e: (STL_ID,) for e in ENGAGEMENTS}
    # The school's record still reads them: from the register its processor keeps.
    assert await _declared_by(db, [SCHOOL_ID], T3 + day) == {e: (STL_ID,) for e in ENGAGEMENTS}

    # The events are chained like any other.
    checked = await audit.verify(db)
    assert checked.intact, checked.broken
    assert checked.checked == checked.last > 0


async def test_letting_go_first_is_a_removal_and_taking_up_later_an_addition(
    db: Database,
) -> None:
    """The other order in separate applies: the school's register lets go while no other
    register declares them, so they leave the graph (REMOVED, truly: the record then lists
    none); STL's register adding them later is an addition."""
    await apply_one(db, school_record(), at=T1)
    await apply_one(db, load_document(SCHOOL), at=T2)
    await apply_one(db, load_document(STL), at=T3)
    assert await _engagement_ops(db) == (
        [("CREATED", SCHOOL_ID)] * 3 + [("DELETED", SCHOOL_ID)] * 3 + [("CREATED", STL_ID)] * 3
    )
    told = [(c.type, c.occurred_at) for c in await _changes(db)]
    assert told == [(spc.ADDED, T1)] * 3 + [(spc.REMOVED, T2)] * 3 + [(spc.ADDED, T3)] * 3
    # The school's register declared none of them after letting go.
    state = await db.read(snapshots.register_snapshots, SCHOOL_ID, T2 + dt.timedelta(days=1))
    assert not [k for k in state if k.startswith("Engagement:")]


async def test_taking_one_up_with_other_values_is_a_change(db: Database) -> None:
    await apply_one(db, school_record(), at=T1)
    await apply_one(db, stl_changed("stl-link-ict", "Hosting, and backups"), at=T2)
    later = [c for c in await _changes(db) if c.occurred_at == T2]
    assert [(c.type, c.sub_processor) for c in later] == [(spc.CHANGED, "link-ict")]
    change: Any = later[0]
    assert change.after["purpose"] == "Hosting, and backups"
    assert change.before["purpose"] != change.after["purpose"]
    # The school's register, which still declares it, reads the new values too.
    school_view = await recorded.record_at(db, [SCHOOL_ID], T2 + dt.timedelta(days=1))
    assert school_view.engagements["stl-link-ict"].purpose == "Hosting, and backups"
    before = await recorded.record_at(db, [SCHOOL_ID], T1 + dt.timedelta(days=1))
    assert before.engagements["stl-link-ict"].purpose != "Hosting, and backups"


async def test_the_plan_says_which_changes_only_move_between_registers(db: Database) -> None:
    """`ropa plan` shows a take-up or a letting go as such, and an engagement's last removal
    as one that subscribers are told of, as the writer then records them."""
    await apply_one(db, school_record(), at=T1)
    stl, school = load_document(STL), load_document(SCHOOL)

    def lines(plan: register.Plan) -> list[str]:
        return sorted(describe(c) for c in plan.changes if c.entity.kind == "Engagement")

    (letting_go,) = await register_set.plan_all(db, [(SCHOOL_ID, from_document.entities(school))])
    assert lines(letting_go) == [
        f"- remove Engagement {e} (no other register declares it: subscribers are told it is "
        "removed)"
        for e in sorted(ENGAGEMENTS)
    ]
    # Both at once, or STL's first: a take-up, then a letting go.
    both = [(d.register_info.id, from_document.entities(d)) for d in (school, stl)]
    school_plan, stl_plan = await register_set.plan_all(db, both)
    assert lines(school_plan) == [
        f"- let go Engagement {e} (another register still declares it)" for e in sorted(ENGAGEMENTS)
    ]
    assert lines(stl_plan) == [
        f"+ declare Engagement {e} (another register declares it already)"
        for e in sorted(ENGAGEMENTS)
    ]
    (taking_up,) = await register_set.plan_all(db, [(STL_ID, from_document.entities(stl))])
    assert lines(taking_up) == lines(stl_plan)
