"""The lineage traversal on a purpose-built register: what counts, what is left out, its bounds."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from graph import from_document, register
from graph.database import Database
from graph.read import lineage
from schema.access.policy import ReadScope
from schema.graphql.records import (
    CitationRecord,
    HopKind,
    LawRefRecord,
    RecipientRecord,
    RecipientsQuestion,
)
from schema.validation import parse_document

pytestmark = pytest.mark.neo4j

DURING = dt.date(2022, 6, 1)
AFTER = dt.date(2024, 1, 1)

REGISTER = """
version: ropa/v1
register: {id: lineage, name: Lineage test register, owner: school-a}
organisations:
  - {id: school-a, name: School A, kind: school}
  - {id: school-b, name: School B, kind: school}
  - {id: la, name: Local Authority, kind: local-authority}
  - {id: dfe, name: Department for Education, kind: government}
  - {id: researchers, name: Approved researchers, group: true}
  - {id: portal, name: Portal Ltd, kind: company}
  - {id: host, name: Host Ltd, kind: company}
  - {id: backup, name: Backup Ltd, kind: company}
  - {id: proposed-co, name: Proposed Ltd, kind: company}
  - {id: other-co, name: Other Activity Ltd, kind: company}
data_categories:
  - {id: pupil-data, name: Pupil data}
  - {id: safeguarding, name: Safeguarding, parent: pupil-data}
  - {id: offence, name: Offence data, parent: safeguarding, criminal_offence: true}
  - {id: attendance, name: Attendance, parent: pupil-data}
legal_bases:
  - {id: reg5, kind: statute, title: Regulation 5}
  - {id: art6-1-c, kind: article-6, title: Legal obligation, rests_on: [reg5]}
  - {id: art6-1-e, kind: article-6, title: Public task}
activities:
  - {id: safeguarding, name: Safeguarding, controller: school-a, valid_from: 2020-01-01}
  - {id: census, name: Census, controller: school-a, valid_from: 2020-01-01}
  - {id: npd, name: NPD sharing, controller: dfe}
  - id: transfer
    name: Transfer
    controller: school-a
    valid_from: 2022-02-14
    valid_until: 2023-02-13
  - {id: b-returns, name: School B returns, controller: school-b}
flows:
  - {id: a-to-la, activity: safeguarding, from: school-a, to: la,
     data_categories: [safeguarding], legal_bases: [art6-1-e]}
  - {id: a-to-la-census, activity: census, from: school-a, to: la,
     data_categories: [attendance, offence], legal_bases: [art6-1-c]}
  - {id: a-to-dfe, activity: census, from: school-a, to: dfe,
     data_categories: [attendance], legal_bases: [art6-1-c, reg5]}
  - {id: dfe-to-researchers, activity: npd, kind: onward-disclosure, from: dfe, to: researchers,
     data_categories: [attendance], legal_bases: [art6-1-e], condition: once approved}
  - {id: researchers-to-dfe, activity: npd, kind: onward-disclosure, from: researchers, to: dfe,
     data_categories: [attendance]}
  - {id: a-to-portal, activity: transfer, from: school-a, to: portal, recipient_role: processor,
     data_categories: [offence], legal_bases: [art6-1-e], condition: once enrolled}
  - {id: b-to-la, activity: b-returns, from: school-b, to: la, data_categories: [pupil-data]}
engagements:
  - {id: portal-host, processor: portal, sub_processor: host, data_categories: [pupil-data],
     since: 2022-01-01, until: 2023-12-31, status: active}
  - {id: host-backup, processor: host, sub_processor: backup, data_categories: [safeguarding]}
  - {id: portal-proposed, processor: portal, sub_processor: proposed-co,
     data_categories: [safeguarding], status: proposed}
  - {id: portal-other, processor: portal, sub_processor: other-co, activity: census,
     data_categories: [safeguarding]}
"""


async def _apply(db: Database, text: str) -> None:
    doc = parse_document(text)
    await register.apply(db, doc.register_info.id, from_document.entities(doc), "tests")


def _summary(found: list[RecipientRecord]) -> dict[str, list[list[tuple[str, str]]]]:
    return {
        r.organisation_id: [[(h.kind.name, h.to_id) for h in path] for path in r.paths]
        for r in found
    }


async def _ask(db: Database, category: str, on: dt.date, **kw: object) -> list[RecipientRecord]:
    question = RecipientsQuestion(category_id=category, as_of=on, **kw)  # type: ignore[arg-type]
    return await lineage.recipients(db, question)


async def test_follows_disclosures_sub_processors_and_their_sub_processors(db: Database) -> None:
    await _apply(db, REGISTER)
    found = await _ask(db, "safeguarding", DURING, controller_id="school-a")
    assert _summary(found) == {
        "backup": [
            [("DISCLOSURE", "portal"), ("SUB_PROCESSING", "host"), ("SUB_PROCESSING", "backup")]
        ],
        "host": [[("DISCLOSURE", "portal"), ("SUB_PROCESSING", "host")]],
        "la": [[("DISCLOSURE", "la")], [("DISCLOSURE", "la")]],
        "portal": [[("DISCLOSURE", "portal")]],
    }
    assert [r.organisation_id for r in found] == ["backup", "host", "la", "portal"]
    la_hops = sorted((p[0].disclosure_id, p[0].category_ids) for p in found[2].paths)
    assert la_hops == [("a-to-la", ("safeguarding",)), ("a-to-la-census", ("offence",))]
    to_host = next(r for r in found if r.organisation_id == "host").paths[0][1]
    # The engagement covers the broader category; the sub-processor works under the basis
    # that brought the data to its processor, in the processor's activity.
    assert to_host.category_ids == ("pupil-data",)
    assert to_host.legal_basis_ids == ("art6-1-e",)
    assert to_host.activity_id == "transfer"
    assert to_host.engagement_id == "portal-host"
    assert to_host.disclosure_id is None


# A second register declaring the portal's engagement of its host, as every school using a
# shared processor declares that processor's engagements.
SECOND = """
version: ropa/v1
register: {id: lineage-b, name: Second register, owner: school-b}
organisations:
  - {id: school-b, name: School B, kind: school}
  - {id: portal, name: Portal Ltd, kind: company}
  - {id: host, name: Host Ltd, kind: company}
data_categories:
  - {id: pupil-data, name: Pupil data}
engagements:
  - {id: portal-host, processor: portal, sub_processor: host, data_categories: [pupil-data],
     since: 2022-01-01, until: 2023-12-31, status: active}
"""


@pytest.mark.parametrize(
    "scope",
    [
        ReadScope(registers=None, people=None, lists=True),
        ReadScope(registers=frozenset({"lineage"}), people=frozenset({"lineage"}), lists=False),
        ReadScope(registers=frozenset({"lineage"}), people=frozenset(), lists=True),
        ReadScope(registers=frozenset({"lineage", "lineage-b"}), people=frozenset(), lists=False),
    ],
    ids=["everything", "own", "own-with-public-lists", "both"],
)
async def test_light_engagements_keep_of_their_registers_what_the_scope_check_needs(
    db: Database, scope: ReadScope
) -> None:
    await _apply(db, REGISTER)
    await _apply(db, SECOND)
    question = RecipientsQuestion("safeguarding", DURING, "school-a", scope=scope)
    whole = await lineage.trace(db, question, engagements=True)
    light = await lineage.trace(db, question, engagements=True, properties=["id"])
    assert set(light.engagements) == set(whole.engagements) >= {"portal-host", "host-backup"}
    assert whole.engagements["portal-host"].registers == ("lineage", "lineage-b")
    for key, full in whole.engagements.items():
        kept = light.engagements[key]
        in_scope = scope.registers or frozenset()
        assert kept.registers == tuple(r for r in full.registers if r in in_scope)
        assert kept.activity_registers == tuple(r for r in full.activity_registers if r in in_scope)
        assert scope.reads_engagement(
            kept.registers, kept.activity_registers
        ) == scope.reads_engagement(full.registers, full.activity_registers)


SCOPES = [
    ReadScope(registers=None, people=None, lists=True),
    ReadScope(registers=None, people=frozenset(), lists=True),
    ReadScope(registers=None, people=frozenset({"lineage-b"}), lists=True),
    ReadScope(registers=frozenset({"lineage"}), people=frozenset({"lineage"}), lists=False),
    ReadScope(registers=frozenset({"lineage"}), people=frozenset(), lists=True),
    ReadScope(registers=frozenset({"lineage", "lineage-b"}), people=frozenset(), lists=False),
    # Past the short list sought by id: the same registers, filtered instead.
    ReadScope(
        registers=frozenset({"lineage", *(f"other-{i}" for i in range(40))}),
        people=frozenset({"lineage-b"}),
        lists=False,
    ),
]


@pytest.mark.parametrize(
    "scope",
    SCOPES,
    ids=["admin", "public", "public-people-b", "own", "own-public-lists", "both", "long"],
)
async def test_organisations_keep_of_their_registers_what_the_scope_checks_look_at(
    db: Database, scope: ReadScope
) -> None:
    await _apply(db, REGISTER)
    await _apply(db, SECOND)
    question = RecipientsQuestion("safeguarding", DURING, "school-a")
    whole = await lineage.trace(db, question)
    cut = await lineage.trace(db, dataclasses.replace(question, scope=scope))
    assert whole.organisations["portal"].registers == ("lineage", "lineage-b")
    assert set(cut.organisations) == set(whole.organisations)
    deciding = scope.deciding_registers()
    for key, full in whole.organisations.items():
        kept = cut.organisations[key]
        assert kept.registers == tuple(r for r in full.registers if r in deciding)
        assert dataclasses.replace(kept, registers=full.registers) == full
        assert scope.reads(kept.registers) == scope.reads(full.registers)
        assert scope.reads_people(kept.registers) == scope.reads_people(full.registers)


async def test_hops_without_citations_when_not_asked_for(db: Database) -> None:
    await _apply(db, REGISTER)
    question = RecipientsQuestion("attendance", DURING, "school-a")
    cited = await lineage.trace(db, question)
    bare = await lineage.trace(db, question, cited=False)
    hops = [h for r in cited.recipients for p in r.paths for h in p]
    assert any(h.citations for h in hops)
    assert [dataclasses.replace(h, citations=()) for h in hops] == [
        h for r in bare.recipients for p in r.paths for h in p
    ]


async def test_asof_drops_ended_activity_and_engagements(db: Database) -> None:
    await _apply(db, REGISTER)
    before = await _ask(db, "safeguarding", dt.date(2021, 6, 1), controller_id="school-a")
    after = await _ask(db, "safeguarding", AFTER, controller_id="school-a")
    assert set(_summary(before)) == {"la"}
    assert set(_summary(after)) == {"la"}


async def test_onward_disclosures_do_not_loop(db: Database) -> None:
    await _apply(db, REGISTER)
    found = await _ask(db, "attendance", DURING, controller_id="school-a")
    assert _summary(found) == {
        "dfe": [[("DISCLOSURE", "dfe")]],
        "la": [[("DISCLOSURE", "la")]],
        "researchers": [[("DISCLOSURE", "dfe"), ("ONWARD_DISCLOSURE", "researchers")]],
    }
    by_id = {r.organisation_id: r for r in found}
    onward = by_id["researchers"].paths[0][1]
    assert onward.condition == "once approved"
    assert onward.legal_basis_ids == ("art6-1-e",)
    assert onward.basis_of_id == "dfe"  # the DfE's own activity, under its own bases
    # Read as ropa/v1: the statute listed beside the basis is the law that basis rests on here.
    census = by_id["dfe"].paths[0][0]
    assert census.legal_basis_ids == ("art6-1-c",)
    assert census.citations == (CitationRecord("art6-1-c", (LawRefRecord("reg5"),)),)
    assert census.basis_of_id == "school-a"


CITED = """
version: ropa/v2
register: {id: cited, name: Cited, owner: school}
organisations:
  - {id: school, name: School, kind: school}
  - {id: dfe, name: DfE, kind: government}
  - {id: police, name: Police, kind: police}
  - {id: researchers, name: Researchers, group: true}
data_categories:
  - {id: pupil-data, name: Pupil data}
legal_bases:
  - {id: ea1996, kind: statute, title: Education Act 1996}
  - {id: reg5, kind: statute, title: Regulation 5}
  - {id: ca2004, kind: statute, title: Children Act 2004}
  - {id: art6-1-c, kind: article-6, title: Legal obligation, article: 6(1)(c)}
  - {id: art6-1-e, kind: article-6, title: Public task, article: 6(1)(e)}
activities:
  - id: returns
    name: Returns
    controller: school
    legal_bases: [{basis: art6-1-c, rests_on: [{law: ea1996, provision: s537A}, reg5]}]
  - {id: safeguarding, name: Safeguarding, controller: school,
     legal_bases: [{basis: art6-1-c, rests_on: [ca2004]}]}
flows:
  - {id: census, activity: returns, from: school, to: dfe, data_categories: [pupil-data],
     legal_bases: [{basis: art6-1-c, rests_on: [{law: ea1996, provision: s537A}, reg5]}]}
  - {id: npd, activity: returns, kind: onward-disclosure, from: dfe, to: researchers,
     data_categories: [pupil-data], legal_bases: [{basis: art6-1-e, rests_on: [ea1996]}]}
  - {id: referral, activity: safeguarding, from: school, to: police, data_categories: [pupil-data],
     legal_bases: [{basis: art6-1-c, rests_on: [ca2004]}]}
"""


async def test_each_hop_cites_the_law_of_its_own_use_and_whose_basis_it_is(db: Database) -> None:
    await _apply(db, CITED)
    found = await _ask(db, "pupil-data", DURING, controller_id="school")
    hops = {h.disclosure_id: h for r in found for path in r.paths for h in path}
    assert hops["census"].citations == (
        CitationRecord("art6-1-c", (LawRefRecord("ea1996", "s537A"), LawRefRecord("reg5"))),
    )
    # The same basis, another use: the Children Act only, never the census Regulations.
    assert hops["referral"].citations == (CitationRecord("art6-1-c", (LawRefRecord("ca2004"),)),)
    assert (hops["census"].basis_of_id, hops["referral"].basis_of_id) == ("school", "school")
    # In the school's activity, but the DfE discloses: its processing, under its basis.
    assert hops["npd"].kind is HopKind.ONWARD_DISCLOSURE
    assert hops["npd"].basis_of_id == "dfe"
    assert hops["npd"].citations == (CitationRecord("art6-1-e", (LawRefRecord("ea1996"),)),)


async def test_a_flow_of_a_broader_category_is_not_a_flow_of_a_narrower_one(db: Database) -> None:
    await _apply(db, REGISTER)
    narrow = await _ask(db, "safeguarding", DURING, controller_id="school-b")
    broad = await _ask(db, "pupil-data", DURING, controller_id="school-b")
    assert narrow == []
    assert _summary(broad) == {"la": [[("DISCLOSURE", "la")]]}


async def test_every_controller_when_none_is_named(db: Database) -> None:
    await _apply(db, REGISTER)
    found = await _ask(db, "pupil-data", AFTER)
    starts = {p[0].from_id for r in found for p in r.paths}
    assert starts == {"school-a", "school-b"}
    assert len(next(r for r in found if r.organisation_id == "la").paths) == 3


async def test_direct_recipients_only_costs_one_round_trip(db: Database) -> None:
    await _apply(db, REGISTER)
    db.round_trips = 0
    found = await _ask(db, "safeguarding", DURING, controller_id="school-a", transitive=False)
    assert _summary(found) == {
        "la": [[("DISCLOSURE", "la")], [("DISCLOSURE", "la")]],
        "portal": [[("DISCLOSURE", "portal")]],
    }
    assert db.round_trips == 1


def _chain(length: int) -> str:
    orgs = "\n".join(f"  - {{id: org-{i}, name: Org {i}}}" for i in range(length + 1))
    flows = "\n".join(
        f"  - {{id: f-{i}, activity: chain, from: org-{i}, to: org-{i + 1}, "
        f"kind: {'disclosure' if i == 0 else 'onward-disclosure'}, data_categories: [data]}}"
        for i in range(length)
    )
    return (
        "version: ropa/v1\nregister: {id: chain, name: Chain, owner: org-0}\n"
        f"organisations:\n{orgs}\n"
        "data_categories:\n  - {id: data, name: Data}\n"
        "activities:\n  - {id: chain, name: Chain, controller: org-0}\n"
        f"flows:\n{flows}\n"
    )


async def test_depth_is_bounded_and_costs_one_round_trip(db: Database) -> None:
    await _apply(db, _chain(9))
    db.round_trips = 0
    found = await _ask(db, "data", DURING, controller_id="org-0")
    assert [r.organisation_id for r in found] == [f"org-{i}" for i in range(1, 7)]
    deepest = found[-1].paths[0]
    assert len(deepest) == lineage.MAX_HOPS
    assert [h.kind for h in deepest] == [HopKind.DISCLOSURE] + [HopKind.ONWARD_DISCLOSURE] * 5
    # One statement, whatever the depth.
    assert db.round_trips == 1


async def test_too_many_paths_is_a_domain_error(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _apply(db, _chain(4))
    monkeypatch.setattr(lineage, "MAX_PATHS", 2)
    with pytest.raises(lineage.TooManyPaths, match="more than 2 paths"):
        await _ask(db, "data", DURING)
