from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from schema.document import (
    EngagementStatus,
    Flow,
    FlowKind,
    LegalBasisKind,
    OrganisationKind,
    ProcessingActivity,
    RecipientRole,
    RopaDocument,
    basis_ids,
    cited_ids,
)
from schema.validation import load_document
from tests.support.examples import school_record

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "allestree-woodlands.yaml"

POST16_FROM = dt.date(2022, 2, 14)
# "1 year from Monday 14th February 2022", for each year 11 cohort: every year, for a year.
ANNUAL = ("P1Y", "P1Y")


def _annual(entity: Any) -> bool:
    return entity.recurs is not None and (entity.recurs.every, entity.recurs.lasts) == ANNUAL


PUPIL_CATEGORIES = {
    "personal-information",
    "characteristics",
    "ethnicity",
    "attendance",
    "assessment",
    "medical",
    "social-care",
    "send",
    "behaviour",
    "safeguarding",
    "contact-details",
    "cctv-photos",
    "post16-destination",
    "financial",
}
PORTAL_CATEGORIES = {"portal-account", "portal-support-interactions", "technical-data"}


@pytest.fixture(scope="module")
def doc() -> RopaDocument:
    return load_document(EXAMPLE)


@pytest.fixture(scope="module")
def record() -> RopaDocument:
    """The school's record: its register with the one School Transition Limited keeps."""
    return school_record()


def _flow(doc: RopaDocument, flow_id: str) -> Flow:
    return next(f for f in doc.flows if f.id == flow_id)


def _activity(doc: RopaDocument, activity_id: str) -> ProcessingActivity:
    return next(a for a in doc.activities if a.id == activity_id)


def _ancestors(doc: RopaDocument, category_id: str) -> set[str]:
    parents = {c.id: c.parent for c in doc.data_categories}
    out: set[str] = set()
    current = parents[category_id]
    while current is not None:
        out.add(current)
        current = parents[current]
    return out


def _covers(doc: RopaDocument, carried: list[str], asked: str) -> bool:
    """True if one of the carried categories is `asked` or lies below it."""
    return any(c == asked or asked in _ancestors(doc, c) for c in carried)


def test_example_validates(doc: RopaDocument) -> None:
    assert doc.register_info.id == "allestree-woodlands"
    assert doc.register_info.owner == "allestree-woodlands"
    school = next(o for o in doc.organisations if o.id == "allestree-woodlands")
    assert school.kind is OrganisationKind.SCHOOL
    assert school.contact is not None
    assert school.contact.email == "a.greaves@woodlands.derby.sch.uk"
    assert school.dpo is not None
    assert school.assumptions


def test_required_categories_exist_in_hierarchy(doc: RopaDocument) -> None:
    ids = {c.id for c in doc.data_categories}
    assert PUPIL_CATEGORIES | PORTAL_CATEGORIES | {"pupil-data", "portal-user-data"} <= ids
    for category in PUPIL_CATEGORIES:
        assert "pupil-data" in _ancestors(doc, category), category
    for category in PORTAL_CATEGORIES:
        assert "portal-user-data" in _ancestors(doc, category), category
    assert "characteristics" in _ancestors(doc, "ethnicity")


def test_special_and_criminal_offence_flags(doc: RopaDocument) -> None:
    categories = {c.id: c for c in doc.data_categories}
    assert categories["ethnicity"].special
    assert categories["ethnicity"].parent == "characteristics"
    assert categories["medical"].special
    assert categories["send"].special
    assert categories["send"].assumptions
    assert not categories["characteristics"].special
    offence = [c for c in doc.data_categories if c.criminal_offence]
    assert offence
    assert all("safeguarding" in _ancestors(doc, c.id) for c in offence)


def test_data_subjects(doc: RopaDocument) -> None:
    subjects = {s.id: s for s in doc.data_subjects}
    assert {"pupils", "year-11-students", "parents-and-carers", "portal-staff"} <= set(subjects)
    assert subjects["year-11-students"].parent == "pupils"


def test_derby_city_council_is_one_organisation_in_two_roles(record: RopaDocument) -> None:
    councils = [o for o in record.organisations if o.id == "derby-city-council"]
    assert len(councils) == 1
    assert councils[0].kind is OrganisationKind.LOCAL_AUTHORITY
    assert any(f.recipient == "derby-city-council" for f in record.flows)
    assert any(e.sub_processor == "derby-city-council" for e in record.engagements)


def test_sub_processor_engagements(record: RopaDocument) -> None:
    expected = {"link-ict", "derby-city-council", "school-development-support-agency"}
    engagements = [e for e in record.engagements if e.sub_processor in expected]
    assert {e.sub_processor for e in engagements} == expected
    for engagement in engagements:
        assert engagement.processor == "school-transition-limited"
        assert engagement.since == POST16_FROM
        assert engagement.until is None
        assert _annual(engagement)
        assert engagement.status is EngagementStatus.ACTIVE
        assert engagement.activity == "post16-transfer"
        assert engagement.location
        assert engagement.purpose
        assert engagement.notice_date is not None
        assert engagement.data_categories


def test_post16_activity(doc: RopaDocument) -> None:
    activity = _activity(doc, "post16-transfer")
    assert activity.valid_from == POST16_FROM
    assert activity.valid_until is None
    assert _annual(activity)
    assert activity.recurs is not None
    assert activity.recurs.note
    assert {"year-11-students", "portal-staff"} == set(activity.data_subjects)
    assert set(activity.data_categories) >= PORTAL_CATEGORIES
    assert "transition-portal" in activity.systems
    (processor,) = activity.processors
    assert processor.organisation == "school-transition-limited"
    assert processor.contract
    assert processor.notice_period_days is not None
    assert processor.objection_window_days is not None
    portal = next(s for s in doc.systems if s.id == "transition-portal")
    assert portal.operator == "school-transition-limited"


def test_post16_flows(doc: RopaDocument) -> None:
    upload = _flow(doc, "post16-upload")
    assert (upload.source, upload.recipient) == ("allestree-woodlands", "school-transition-limited")
    assert upload.recipient_role is RecipientRole.PROCESSOR
    assert upload.system == "transition-portal"
    assert upload.contract
    assert (upload.valid_from, upload.valid_until) == (POST16_FROM, None)
    assert _annual(upload)

    onward = _flow(doc, "post16-to-provider")
    assert onward.activity == "post16-transfer"
    assert onward.condition == "once enrolment at the chosen post-16 institution is confirmed"
    assert (onward.valid_from, onward.valid_until) == (POST16_FROM, None)
    assert _annual(onward)
    provider = next(o for o in doc.organisations if o.id == onward.recipient)
    assert provider.group


def test_dfe_census_flow_carries_regulation_5(doc: RopaDocument) -> None:
    census = _flow(doc, "census-to-dfe")
    assert census.recipient == "dfe"
    (obligation,) = [c for c in census.legal_bases if c.basis == "art6-1-c"]
    assert [(r.law, r.provision) for r in obligation.rests_on] == [
        ("education-act-1996", "s537A"),
        ("education-pupil-info-regs-2013-reg5", None),
    ]
    assert "attendance" in census.data_categories
    assert any(f.recipient == "dfe" and "assessment" in f.data_categories for f in doc.flows)


def test_the_census_regulations_are_cited_for_the_census_only(doc: RopaDocument) -> None:
    """Regulation 5 is the law of the school census; no other use cites it (issue 14)."""
    uses = [(f"flow {f.id}", f.legal_bases) for f in doc.flows]
    uses += [(f"activity {a.id}", a.legal_bases) for a in doc.activities]
    citing = {
        name for name, cited in uses if "education-pupil-info-regs-2013-reg5" in cited_ids(cited)
    }
    assert citing == {"flow census-to-dfe", "activity statutory-returns"}
    for basis in doc.legal_bases:
        if basis.kind.value.startswith("article"):
            assert not basis.rests_on, basis.id  # law is cited per use, never for every use


def test_each_part_of_a_flow_condition_has_its_basis(doc: RopaDocument) -> None:
    """'With consent, where the law requires it, or in an emergency': a basis for each."""
    points = {
        f.id: set(basis_ids(f.legal_bases))
        for f in doc.flows
        if f.id in ("medical-to-nhs", "referral-to-counselling", "referral-to-occupational-therapy")
    }
    assert points["medical-to-nhs"] >= {"art6-1-a", "art6-1-c", "art6-1-d"}
    assert points["referral-to-counselling"] >= {"art6-1-a", "art6-1-c"}
    assert points["referral-to-occupational-therapy"] >= {"art6-1-a", "art6-1-c"}
    for flow in doc.flows:
        for citation in flow.legal_bases:
            if citation.basis == "art6-1-c":
                assert citation.rests_on, flow.id  # Article 6(3): a legal obligation cites its law


def test_onward_disclosure_from_dfe(doc: RopaDocument) -> None:
    onward = [f for f in doc.flows if f.kind is FlowKind.ONWARD_DISCLOSURE and f.source == "dfe"]
    assert onward
    recipients = {o.id: o for o in doc.organisations}
    assert all(recipients[f.recipient].group for f in onward)
    assert any(f.recipient == "approved-third-parties" for f in onward)


@pytest.mark.parametrize(
    ("category", "recipients"),
    [
        (
            "safeguarding",
            {"derbyshire-constabulary", "childrens-social-care", "derby-city-council"},
        ),
        ("medical", {"school-nursing-service", "nhs-medical-teams"}),
        ("attendance", {"dfe", "derby-city-council"}),
    ],
)
def test_lineage_recipients(doc: RopaDocument, category: str, recipients: set[str]) -> None:
    found = {
        f.recipient
        for f in doc.flows
        if f.source == "allestree-woodlands"
        and f.valid_until is None
        and _covers(doc, f.data_categories, category)
    }
    assert recipients <= found


def test_every_activity_has_article_30_fields(doc: RopaDocument) -> None:
    assert len(doc.activities) >= 14
    missing = [
        f"{a.id}.{name}"
        for a in doc.activities
        for name in (
            "purposes",
            "data_subjects",
            "data_categories",
            "recipient_categories",
            "retention",
            "security_measures",
            "legal_bases",
            "rights",
            "source",
            "location",
            "automated_decision_making",
            "dpia",
        )
        if not getattr(a, name)
    ]
    assert missing == []
    assert all(a.controller == "allestree-woodlands" for a in doc.activities)


def test_consent_activities_record_consent(doc: RopaDocument) -> None:
    for activity in doc.activities:
        if {"art6-1-a", "art9-2-a"} & set(basis_ids(activity.legal_bases)):
            assert activity.consent_record, activity.id


def test_every_flow_is_lawful_and_dated(doc: RopaDocument) -> None:
    activities = {a.id: a for a in doc.activities}
    for flow in doc.flows:
        assert flow.legal_bases, flow.id
        owner = activities[flow.activity]
        assert set(flow.data_categories) <= set(owner.data_categories), flow.id
        assert flow.valid_from is not None, flow.id
        if owner.valid_until is None:
            assert flow.valid_until is None, flow.id


def test_special_and_offence_data_have_conditions(doc: RopaDocument) -> None:
    categories = {c.id: c for c in doc.data_categories}
    kinds = {b.id: b.kind for b in doc.legal_bases}
    carriers: list[tuple[str, list[str], list[str]]] = [
        (f"flow {f.id}", f.data_categories, cited_ids(f.legal_bases)) for f in doc.flows
    ] + [(f"activity {a.id}", a.data_categories, cited_ids(a.legal_bases)) for a in doc.activities]
    for name, carried, bases in carriers:
        basis_kinds = {kinds[b] for b in bases}
        if any(categories[c].special for c in carried):
            assert LegalBasisKind.ARTICLE_9 in basis_kinds, name
        if any(categories[c].criminal_offence for c in carried):
            assert LegalBasisKind.ARTICLE_10 in basis_kinds, name
        if {"art9-2-b", "art9-2-g", "art9-2-h", "art9-2-i", "art9-2-j"} & set(bases):
            assert LegalBasisKind.DPA_SCHEDULE_1 in basis_kinds, name


def test_placeholders_and_assumptions_are_recorded(doc: RopaDocument) -> None:
    organisations = {o.id: o for o in doc.organisations}
    for placeholder in ("school-payments-provider", "progress-tracking-provider"):
        assert organisations[placeholder].assumptions, placeholder
    assert organisations["approved-third-parties"].group
    assert organisations["post16-institution"].group


def test_the_registry_operators_register_records_subscriber_emails() -> None:
    """The registry practises what it records: its own processing of subscribers' addresses."""
    operator = load_document(
        Path(__file__).resolve().parents[2] / "examples" / "registry-operator.yaml"
    )
    (activity,) = operator.activities
    assert activity.data_subjects == ["portal-subscribers"]
    assert activity.data_categories == ["subscriber-email"]
    assert activity.processors[0].organisation == "smtp-relay-provider"


def test_the_dev_stack_loads_every_shipped_example_each_its_own_register(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from services.cli.devstack import shipped_examples

    monkeypatch.chdir(EXAMPLE.parents[1])
    examples = shipped_examples()
    assert Path("examples/allestree-woodlands.yaml") in examples
    assert Path("examples/mickleover-meadows.yaml") in examples
    registers = [load_document(path).register_info.id for path in examples]
    assert len(set(registers)) == len(examples), registers


STL_REGISTER = EXAMPLE.parent / "school-transition-limited.yaml"


def test_the_processors_register_copies_what_it_shares_with_the_school_exactly(
    doc: RopaDocument,
) -> None:
    """Entities are shared by id: a copy that differs would change the school's on each apply."""
    stl = load_document(STL_REGISTER)
    assert stl.register_info.owner == "school-transition-limited"
    collections = (
        "organisations",
        "data_subjects",
        "data_categories",
        "legal_bases",
        "systems",
        "activities",
    )
    only_stl = {"link-ict", "school-development-support-agency"}
    for name in collections:
        school = {e.id: e for e in getattr(doc, name)}
        for entity in getattr(stl, name):
            if entity.id in only_stl:
                continue
            assert entity == school.get(entity.id), (
                f"{name} '{entity.id}' in school-transition-limited.yaml differs from "
                "allestree-woodlands.yaml: copy it exactly"
            )
    (activity,) = stl.activities
    assert activity.controller == "allestree-woodlands"
    assert [p.organisation for p in activity.processors] == ["school-transition-limited"]


def test_only_the_processors_register_declares_its_sub_processors(doc: RopaDocument) -> None:
    """The school's register names the register STL keeps; it copies none of STL's engagements."""
    stl = load_document(STL_REGISTER)
    assert {e.id for e in stl.engagements} == {
        "stl-link-ict",
        "stl-derby-city-council",
        "stl-school-development-support-agency",
    }
    assert doc.engagements == []
    school_orgs = {o.id: o for o in doc.organisations}
    assert school_orgs["school-transition-limited"].keeps_register == stl.register_info.id
    # The sub-processors that are nothing else to the school are STL's to declare.
    assert not {"link-ict", "school-development-support-agency"} & school_orgs.keys()
    assert {"link-ict", "school-development-support-agency"} <= {o.id for o in stl.organisations}


def test_the_processors_own_record_lists_its_controller_and_sub_processors() -> None:
    from schema.ropa_export.columns import PROCESSOR_COLUMNS
    from schema.ropa_export.records import build_export

    export = build_export(load_document(STL_REGISTER), dt.date(2026, 12, 1))
    assert export.as_processor
    assert export.controller_rows == []
    assert export.details[0][:2] == ["Processor", "School Transition Limited"]
    rows = [dict(zip(PROCESSOR_COLUMNS, r, strict=True)) for r in export.processor_rows]
    assert [r[PROCESSOR_COLUMNS[6]] for r in rows] == ["", *["School Transition Limited"] * 3]
    assert all("Allestree Woodlands School" in r[PROCESSOR_COLUMNS[3]] for r in rows)
    assert "The contract reference is a placeholder" in rows[0]["Assumptions"]
    assert "which categories each sub-processor handles" in rows[1]["Assumptions"]


def test_the_shipped_examples_agree_on_what_they_share() -> None:
    """`ropa apply examples/` writes each shared entity once: a copy that differed would flip
    between the registers' versions on every apply (and `ropa validate examples/` warns)."""
    from schema.document_merge import merge

    docs = [load_document(path) for path in sorted(EXAMPLE.parent.glob("*.yaml"))]
    assert len(docs) >= 4
    assert [c.render() for c in merge(docs).conflicts] == []
