"""A register stored before citations (ropa/v1 shape) still reads, and `ropa apply` moves it on."""

from __future__ import annotations

import dataclasses

import pytest

from graph import from_document, register, to_document
from graph import model as m
from graph.database import Database
from schema.validation import parse_document

pytestmark = pytest.mark.neo4j

V2 = """
version: ropa/v2
register: {id: old, name: Old, owner: school}
organisations:
  - {id: school, name: School, kind: school}
  - {id: dfe, name: DfE, kind: government}
data_categories:
  - {id: pupil-data, name: Pupil data}
legal_bases:
  - {id: reg5, kind: statute, title: Regulation 5}
  - {id: art6-1-c, kind: article-6, title: Legal obligation, article: 6(1)(c)}
activities:
  - {id: census, name: Census, controller: school, legal_bases: [art6-1-c]}
flows:
  - {id: to-dfe, activity: census, from: school, to: dfe, data_categories: [pupil-data],
     legal_bases: [{basis: art6-1-c, rests_on: [reg5]}]}
"""


def _as_v1(entities: list[m.Entity]) -> list[m.Entity]:
    """The entities as a ropa/v1 register was stored: the statute linked beside its basis."""
    out = []
    for e in entities:
        if e.kind == m.DISCLOSURE:
            links = {link for link in e.links if link.type != "UNDER"}
            links |= {
                m.Link("UNDER", m.LEGAL_BASIS, "art6-1-c"),
                m.Link("UNDER", m.LEGAL_BASIS, "reg5"),
            }
            e = dataclasses.replace(e, links=frozenset(links))
        if e.kind == m.LEGAL_BASIS and e.id == "art6-1-c":
            e = dataclasses.replace(e, links=frozenset({m.Link("RESTS_ON", m.LEGAL_BASIS, "reg5")}))
        out.append(e)
    return out


async def test_a_register_stored_as_v1_reads_as_citations_and_apply_rewrites_it(
    db: Database,
) -> None:
    doc = parse_document(V2)
    entities = from_document.entities(doc)
    await register.apply(db, "old", _as_v1(entities), "tests")
    back = await to_document.register_document(db, "old")
    # The flow's statute is read as the law its basis rests on for that flow; the activity,
    # which named no law, keeps what the basis rested on for every use in v1.
    assert back.flows == doc.flows
    assert [(c.basis, [r.law for r in c.rests_on]) for c in back.activities[0].legal_bases] == [
        ("art6-1-c", ["reg5"])
    ]
    assert all(not b.rests_on for b in back.legal_bases)
    plan = await register.plan(db, "old", entities)
    assert {c.entity.key for c in plan.changes} == {"Disclosure:to-dfe", "LegalBasis:art6-1-c"}
    await register.apply(db, "old", entities, "tests")
    assert (await register.plan(db, "old", entities)).empty
    moved = await to_document.register_document(db, "old")
    assert (moved.flows, moved.activities) == (doc.flows, doc.activities)
    assert sorted(moved.legal_bases, key=lambda b: b.id) == sorted(
        doc.legal_bases, key=lambda b: b.id
    )
