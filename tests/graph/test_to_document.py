"""Reading a register back from the graph gives the document that was applied."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from graph import from_document, register, to_document
from graph.database import Database
from schema.document import RopaDocument
from schema.errors import NotFound
from schema.validation import check_references, load_document, parse_document

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "allestree-woodlands.yaml"
SMALL = ROOT / "tests" / "fixtures" / "small-register.yaml"


def normalised(doc: RopaDocument) -> Any:
    """The document as JSON with every list sorted: the graph keeps no order of links."""

    def sort(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: sort(v) for k, v in value.items()}
        if isinstance(value, list):
            return sorted((sort(v) for v in value), key=repr)
        return value

    return sort(doc.model_dump(mode="json", by_alias=True))


def test_snapshots_of_the_example_convert_back_to_the_example() -> None:
    doc = load_document(EXAMPLE)
    snapshots = [e.snapshot() for e in from_document.entities(doc)]
    back = to_document.document_from_snapshots(doc.register_info, snapshots)
    assert normalised(back) == normalised(doc)
    assert check_references(back) == []


async def _apply(db: Database, doc: RopaDocument) -> None:
    await register.apply(db, doc.register_info.id, from_document.entities(doc), "tester")


@pytest.mark.neo4j
async def test_the_example_round_trips_through_the_graph(db: Database) -> None:
    doc = load_document(EXAMPLE)
    await _apply(db, doc)
    db.round_trips = 0
    back = await to_document.register_document(db, "allestree-woodlands")
    assert db.round_trips == 1
    assert normalised(back) == normalised(doc)
    post16 = next(a for a in back.activities if a.id == "post16-transfer")
    (appointment,) = post16.processors
    assert (appointment.notice_period_days, appointment.objection_window_days) == (30, 14)


@pytest.mark.neo4j
async def test_a_controller_document_gathers_its_registers_and_only_its_activities(
    db: Database,
) -> None:
    await _apply(db, load_document(SMALL))
    other = parse_document(
        """
version: ropa/v1
register: {id: test-school-hr, name: Test School HR, owner: test-school}
organisations:
  - {id: test-school, name: Test School, kind: school}
  - {id: other-school, name: Other School, kind: school}
data_subjects:
  - {id: staff, name: Staff}
data_categories:
  - {id: payroll, name: Payroll}
legal_bases:
  - {id: art6-1-b, kind: article-6, title: Contract, article: 6(1)(b)}
activities:
  - {id: payroll, name: Payroll, controller: test-school, legal_bases: [art6-1-b],
     data_subjects: [staff], data_categories: [payroll]}
  - {id: other-payroll, name: Other payroll, controller: other-school,
     data_subjects: [staff], data_categories: [payroll]}
"""
    )
    await _apply(db, other)
    doc = await to_document.controller_document(db, "test-school")
    assert {a.id for a in doc.activities} == {"census", "transfer", "payroll"}
    assert {f.id for f in doc.flows} == {"census-to-dfe", "to-portal"}
    assert {e.id for e in doc.engagements} == {"portal-hosting"}
    assert doc.register_info.owner == "test-school"
    assert doc.register_info.name == "Test School: all registers"
    assert check_references(doc) == []


@pytest.mark.neo4j
async def test_with_one_register_owner_the_controller_may_be_left_out(db: Database) -> None:
    await _apply(db, load_document(SMALL))
    doc = await to_document.controller_document(db, None)
    assert doc.register_info.id == "test-school"
    assert {a.controller for a in doc.activities} == {"test-school"}


@pytest.mark.neo4j
async def test_unknown_registers_and_controllers_are_not_found(db: Database) -> None:
    await _apply(db, load_document(SMALL))
    with pytest.raises(NotFound):
        await to_document.register_document(db, "no-such-register")
    with pytest.raises(NotFound):
        await to_document.controller_document(db, "no-such-school")
    with pytest.raises(NotFound):
        # dfe exists, but controls nothing and owns no register
        await to_document.controller_document(db, "dfe")


@pytest.mark.neo4j
async def test_with_several_owners_a_controller_must_be_named(db: Database) -> None:
    await _apply(db, load_document(SMALL))
    await _apply(
        db,
        parse_document(
            "version: ropa/v1\nregister: {id: b, name: B, owner: b-school}\n"
            "organisations: [{id: b-school, name: B School}]\n"
        ),
    )
    # B owns a register but controls nothing (as a processor keeping its own register): the
    # one controller among the owners is the record's.
    alone = await to_document.controller_document(db, None)
    assert alone.register_info.owner == "test-school"
    await _apply(
        db,
        parse_document(
            "version: ropa/v2\nregister: {id: b, name: B, owner: b-school}\n"
            "organisations: [{id: b-school, name: B School}]\n"
            "data_subjects: [{id: b-pupils, name: Pupils}]\n"
            "data_categories: [{id: b-attendance, name: Attendance}]\n"
            "legal_bases: [{id: b-art6-1-e, kind: article-6, title: Public task}]\n"
            "activities: [{id: b-register, name: Registers, controller: b-school,"
            " purposes: [Attendance], data_subjects: [b-pupils],"
            " data_categories: [b-attendance], legal_bases: [b-art6-1-e]}]\n"
        ),
    )
    with pytest.raises(to_document.ControllerAmbiguous) as caught:
        await to_document.controller_document(db, None)
    assert caught.value.owners == ["b-school", "test-school"]
