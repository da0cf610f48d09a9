"""Each gap rule: a document that breaks it (and nothing else), and the clean one that does not."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from schema.compliance import countries
from schema.compliance.check import RULES, check, rule
from schema.compliance.issues import ComplianceIssue, EntityKind, Severity, has_errors
from schema.document import RopaDocument
from schema.validation import check_references

CLEAN = Path(__file__).resolve().parents[1] / "fixtures" / "compliance" / "clean-register.yaml"
AS_OF = dt.date(2024, 6, 1)

Data = dict[str, Any]


@pytest.fixture(scope="module")
def clean_data() -> Data:
    data: Data = YAML(typ="safe").load(CLEAN.read_text(encoding="utf-8"))
    return data


def _doc(data: Data) -> RopaDocument:
    doc = RopaDocument.model_validate(data)
    assert check_references(doc) == []
    return doc


def _find(items: list[Data], item_id: str) -> Data:
    return next(item for item in items if item["id"] == item_id)


def _activity(data: Data, item_id: str) -> Data:
    return _find(data["activities"], item_id)


def _flow(data: Data, item_id: str) -> Data:
    return _find(data["flows"], item_id)


def _school(data: Data) -> Data:
    return _find(data["organisations"], "clean-school")


def _issues(data: Data, as_of: dt.date = AS_OF) -> list[ComplianceIssue]:
    return check(_doc(data), as_of)


def test_the_clean_register_has_no_issues(clean_data: Data) -> None:
    assert _issues(clean_data) == []


def test_rule_ids_are_unique_stable_slugs() -> None:
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    assert all(r.id.replace("-", "").isalnum() and r.id == r.id.lower() for r in RULES)
    assert rule("special-category-without-article-9").severity is Severity.ERROR
    with pytest.raises(KeyError):
        rule("no-such-rule")


def _set(path: Callable[[Data], Data], key: str, value: Any) -> Callable[[Data], None]:
    def mutate(data: Data) -> None:
        path(data)[key] = value

    return mutate


def _remove(path: Callable[[Data], Data], key: str, value: str) -> Callable[[Data], None]:
    def mutate(data: Data) -> None:
        path(data)[key].remove(value)

    return mutate


def _all(*mutations: Callable[[Data], None]) -> Callable[[Data], None]:
    def mutate(data: Data) -> None:
        for mutation in mutations:
            mutation(data)

    return mutate


def _health(data: Data) -> Data:
    return _activity(data, "health")


def _portal_appointment(data: Data) -> Data:
    appointment: Data = _activity(data, "portal")["processors"][0]
    return appointment


def _survey_transfer(data: Data) -> Data:
    transfer: Data = _activity(data, "surveys")["third_country_transfers"][0]
    return transfer


def _backup(data: Data) -> Data:
    return _find(data["engagements"], "portal-backup")


BREAKS: list[tuple[str, Callable[[Data], None], set[tuple[str, str, str]]]] = [
    (
        "special category data on an activity",
        _remove(_health, "legal_bases", "art9-2-g"),
        {("special-category-without-article-9", "activity", "health")},
    ),
    (
        "a part of a special category, on a disclosure",
        _set(lambda d: _flow(d, "medical-sharing"), "legal_bases", ["art6-1-e"]),
        {("special-category-without-article-9", "flow", "medical-sharing")},
    ),
    (
        "Article 9(2)(g) with no Schedule 1 condition",
        _remove(_health, "legal_bases", "sch1-para18"),
        {("article-9-without-schedule-1", "activity", "health")},
    ),
    (
        "criminal offence data with no Article 10 basis",
        _remove(lambda d: _flow(d, "safeguarding-to-police"), "legal_bases", "art10"),
        {("criminal-offence-without-article-10", "flow", "safeguarding-to-police")},
    ),
    (
        "a disclosure outliving its ended activity",
        _set(lambda d: _flow(d, "census-to-dfe"), "valid_until", None),
        {("activity-ended-with-live-flows", "flow", "census-to-dfe")},
    ),
    (
        "a disclosure with no legal basis at all",
        _set(lambda d: _flow(d, "survey-upload"), "legal_bases", []),
        {("disclosure-without-lawful-basis", "flow", "survey-upload")},
    ),
    (
        "an activity with no Article 6 basis",
        _set(lambda d: _activity(d, "safeguarding"), "legal_bases", ["art10", "sch1-para18"]),
        {("activity-without-lawful-basis", "activity", "safeguarding")},
    ),
    (
        "consent with no record of consent",
        _set(lambda d: _activity(d, "newsletters"), "consent_record", None),
        {("consent-without-record", "activity", "newsletters")},
    ),
    (
        "explicit consent on a disclosure, with no record of consent",
        _set(
            lambda d: _flow(d, "medical-sharing"),
            "legal_bases",
            ["art6-1-e", "art9-2-a", "art9-2-g", "sch1-para18"],
        ),
        {
            ("consent-without-record", "activity", "health"),
            ("consent-without-withdrawal", "activity", "health"),
        },
    ),
    (
        "consent with no way to withdraw it",
        _set(lambda d: _activity(d, "newsletters"), "consent_withdrawal", None),
        {("consent-without-withdrawal", "activity", "newsletters")},
    ),
    (
        "a Schedule 1 Part 2 condition with no appropriate policy document",
        _set(_school, "appropriate_policy_document", None),
        {("schedule-1-condition-without-policy-document", "organisation", "clean-school")},
    ),
    (
        "a disclosure to a processor with no retention",
        _set(lambda d: _flow(d, "to-portal"), "retention", None),
        {("disclosure-without-retention", "flow", "to-portal")},
    ),
    (
        "a disclosure to another controller with no retention",
        _set(lambda d: _flow(d, "safeguarding-to-police"), "retention", None),
        {("disclosure-without-retention", "flow", "safeguarding-to-police")},
    ),
    (
        "routine medical sharing on vital interests alone",
        _all(
            _set(
                lambda d: _flow(d, "medical-sharing"),
                "legal_bases",
                ["art6-1-d", "art9-2-g", "sch1-para18"],
            ),
            _set(
                lambda d: _flow(d, "medical-sharing"),
                "condition",
                "With consent, where the law requires it, or in an emergency",
            ),
        ),
        {("vital-interests-only-basis", "flow", "medical-sharing")},
    ),
    (
        "a DPO marked as a placeholder",
        _set(_school, "placeholders", ["dpo"]),
        {("placeholder-in-record", "organisation", "clean-school")},
    ),
    (
        "placeholder contract links, on a disclosure and on a processor appointment",
        _all(
            _set(lambda d: _flow(d, "to-portal"), "placeholders", ["contract"]),
            _set(_portal_appointment, "placeholders", ["contract"]),
        ),
        {
            ("placeholder-in-record", "flow", "to-portal"),
            ("placeholder-in-record", "activity", "portal"),
        },
    ),
    (
        "a sub-processor whose engagement says it is located in the United States",
        _set(_backup, "location", "Located in the United States (Virginia)"),
        {("recipient-outside-uk-without-safeguard", "engagement", "portal-backup")},
    ),
    (
        "an activity held in the US by free text, with no transfer declared",
        _set(lambda d: _activity(d, "health"), "location", "Hosted by the provider in the US"),
        {("recipient-outside-uk-without-safeguard", "activity", "health")},
    ),
    (
        "legitimate interests with no assessment",
        _set(lambda d: _activity(d, "surveys"), "legitimate_interests_assessment", None),
        {("legitimate-interests-without-assessment", "activity", "surveys")},
    ),
    (
        "a controller with no contact details",
        _all(_set(_school, "address", None), _set(_school, "contact", None)),
        {("controller-missing-contact-details", "organisation", "clean-school")},
    ),
    (
        "a school with no DPO",
        _set(_school, "dpo", None),
        {("controller-without-dpo", "organisation", "clean-school")},
    ),
    (
        "a DPO with no way to reach them",
        _set(_school, "dpo", {"name": "Mr C Smith"}),
        {("dpo-missing-contact-details", "organisation", "clean-school")},
    ),
    (
        "a third-country transfer with no safeguard",
        _set(_survey_transfer, "safeguard", None),
        {("transfer-without-safeguard", "activity", "surveys")},
    ),
    (
        "a sub-processor in the United States with no safeguard recorded",
        _set(lambda d: _find(d["organisations"], "backup-co"), "country", "United States"),
        {("recipient-outside-uk-without-safeguard", "engagement", "portal-backup")},
    ),
    (
        "a recipient in the US with its transfer undeclared",
        _set(lambda d: _activity(d, "surveys"), "third_country_transfers", []),
        {("recipient-outside-uk-without-safeguard", "flow", "survey-upload")},
    ),
    (
        "a DPIA required but not done",
        _set(_health, "dpia", {"status": "required"}),
        {("dpia-required-not-done", "activity", "health")},
    ),
    (
        "a DPIA still in progress",
        _set(_health, "dpia", {"status": "in-progress"}),
        {("dpia-required-not-done", "activity", "health")},
    ),
    (
        "a disclosure to a processor with no contract anywhere",
        _all(
            _set(lambda d: _flow(d, "to-portal"), "contract", None),
            _set(_portal_appointment, "contract", None),
        ),
        {("processor-disclosure-without-contract", "flow", "to-portal")},
    ),
    (
        "a processor appointed with no contract and no disclosure",
        _all(
            _set(lambda d: _activity(d, "surveys")["processors"][0], "contract", None),
            lambda d: d["flows"].remove(_flow(d, "survey-upload")),
        ),
        {("processor-appointment-without-contract", "activity", "surveys")},
    ),
    (
        "a sub-processor change with too little notice",
        _set(_backup, "notice_date", dt.date(2024, 2, 20)),
        {("sub-processor-notice-too-short", "engagement", "portal-backup")},
    ),
    (
        "a sub-processor change inside the objection window",
        _all(
            _set(_portal_appointment, "notice_period_days", 10),
            _set(_portal_appointment, "objection_window_days", 60),
        ),
        {("sub-processor-notice-too-short", "engagement", "portal-backup")},
    ),
    (
        "a sub-processor change with no notice date",
        _set(_backup, "notice_date", None),
        {("sub-processor-notice-too-short", "engagement", "portal-backup")},
    ),
    (
        "an engagement outliving its ended activity",
        _all(
            _set(lambda d: _activity(d, "portal"), "valid_until", dt.date(2024, 5, 1)),
            _set(lambda d: _flow(d, "to-portal"), "valid_until", dt.date(2024, 5, 1)),
        ),
        {
            ("activity-ended-with-live-flows", "engagement", "portal-hosting"),
            ("activity-ended-with-live-flows", "engagement", "portal-backup"),
        },
    ),
]


@pytest.mark.parametrize(
    ("mutation", "expected"),
    [pytest.param(m, e, id=name) for name, m, e in BREAKS],
)
def test_a_document_that_breaks_a_rule_shows_that_gap_only(
    clean_data: Data, mutation: Callable[[Data], None], expected: set[tuple[str, str, str]]
) -> None:
    data = copy.deepcopy(clean_data)
    mutation(data)
    found = {(i.rule_id, i.entity_kind.value, i.entity_id) for i in _issues(data)}
    assert found == expected


def _as_portal_cos_record(data: Data) -> None:
    """The clean register as Portal Co's own record as processor (Article 30(2)): the same
    entities, the register owned by the processor of the transfer portal."""
    data["register"]["owner"] = "portal-co"


def _portal_co(data: Data) -> Data:
    return _find(data["organisations"], "portal-co")


# The processor's record: its own gaps show; the controller's (its copies of the school's
# details and activities) do not, though a check of the school's register reports them.
PROCESSOR_BREAKS: list[tuple[str, Callable[[Data], None], set[tuple[str, str, str]]]] = [
    ("the clean record", lambda d: None, set()),
    (
        "no contact details of the processor",
        _set(_portal_co, "contact", None),
        {("processor-missing-contact-details", "organisation", "portal-co")},
    ),
    (
        "processing with no security measures",
        _set(lambda d: _activity(d, "portal"), "security_measures", []),
        {("processor-record-missing-field", "activity", "portal")},
    ),
    (
        "a transfer with no safeguard in the processing",
        lambda d: _activity(d, "portal").__setitem__(
            "third_country_transfers", [{"country": "United States", "recipient": "hosting-co"}]
        ),
        {("transfer-without-safeguard", "activity", "portal")},
    ),
    (
        "a placeholder in the processor's details",
        _set(_portal_co, "placeholders", ["contact"]),
        {("placeholder-in-record", "organisation", "portal-co")},
    ),
    (
        "the controller's gaps: its DPO a placeholder, the processing with no lawful basis "
        "nor retention, a DPIA not done",
        _all(
            _set(_school, "placeholders", ["dpo"]),
            _set(lambda d: _activity(d, "portal"), "legal_bases", []),
            _set(lambda d: _activity(d, "portal"), "retention", None),
            _set(lambda d: _activity(d, "portal"), "dpia", {"status": "required"}),
        ),
        set(),
    ),
]


@pytest.mark.parametrize(
    ("mutation", "expected"),
    [pytest.param(m, e, id=name) for name, m, e in PROCESSOR_BREAKS],
)
def test_a_processors_record_shows_the_gaps_of_its_duties_only(
    clean_data: Data, mutation: Callable[[Data], None], expected: set[tuple[str, str, str]]
) -> None:
    data = copy.deepcopy(clean_data)
    mutation(data)
    as_controller = {(i.rule_id, i.entity_kind.value, i.entity_id) for i in _issues(data)}
    _as_portal_cos_record(data)
    issues = _issues(data)
    found = {(i.rule_id, i.entity_kind.value, i.entity_id) for i in issues}
    assert found == expected
    # Each cites the point of Article 30(2) (or the article) that asks it of a processor.
    assert all("30(1)" not in i.reference for i in issues), issues
    # The school's own record reports the controller's gaps (not the processor-only ones).
    assert not {r for r, _, _ in as_controller} & {
        "processor-missing-contact-details",
        "processor-record-missing-field",
    }
    if not expected and as_controller:
        assert ("placeholder-in-record", "organisation", "clean-school") in as_controller


def test_every_rule_is_broken_by_some_test_document() -> None:
    broken = {rule_id for _, _, expected in BREAKS for rule_id, _, _ in expected}
    broken |= {rule_id for _, _, expected in PROCESSOR_BREAKS for rule_id, _, _ in expected}
    broken |= {"disclosure-without-lawful-basis", "activity-missing-article-30-field"}
    assert broken == {r.id for r in RULES}


@pytest.mark.parametrize(
    ("field", "empty", "reference"),
    [
        ("purposes", [], "UK GDPR Article 30(1)(b)"),
        ("data_subjects", [], "UK GDPR Article 30(1)(c)"),
        ("data_categories", [], "UK GDPR Article 30(1)(c)"),
        ("recipient_categories", [], "UK GDPR Article 30(1)(d)"),
        ("retention", None, "UK GDPR Article 30(1)(f)"),
        ("security_measures", [], "UK GDPR Article 30(1)(g)"),
    ],
)
def test_an_activity_missing_an_article_30_field(
    clean_data: Data, field: str, empty: Any, reference: str
) -> None:
    data = copy.deepcopy(clean_data)
    _activity(data, "newsletters")[field] = empty
    (issue,) = _issues(data)
    assert (issue.rule_id, issue.entity_kind, issue.entity_id) == (
        "activity-missing-article-30-field",
        EntityKind.ACTIVITY,
        "newsletters",
    )
    assert issue.reference == reference
    assert field in issue.message
    assert issue.severity is Severity.ERROR


def test_a_disclosure_under_a_statute_only_has_no_lawful_basis(clean_data: Data) -> None:
    data = copy.deepcopy(clean_data)
    bases = ["education-act-1996", "art10", "sch1-para18"]
    _flow(data, "safeguarding-to-police")["legal_bases"] = bases
    (issue,) = _issues(data)
    assert (issue.rule_id, issue.entity_id) == (
        "disclosure-without-lawful-basis",
        "safeguarding-to-police",
    )
    assert "education-act-1996" in issue.message
    assert "Clean School to Derbyshire Constabulary" in issue.message


def test_article_9_2_a_needs_no_schedule_1_condition(clean_data: Data) -> None:
    data = copy.deepcopy(clean_data)
    _health(data)["legal_bases"] = ["art6-1-a", "art9-2-a"]
    _health(data)["consent_record"] = "Medical consent form"
    _health(data)["consent_withdrawal"] = "Tell the school nurse or the school office"
    _flow(data, "medical-sharing")["legal_bases"] = ["art6-1-a", "art9-2-a"]
    assert _issues(data) == []


def test_sub_processors_in_place_at_the_start_need_no_notice(clean_data: Data) -> None:
    # portal-hosting starts with the processing and has no notice date: the contract covers it.
    hosting = _find(clean_data["engagements"], "portal-hosting")
    assert hosting["since"] == _activity(clean_data, "portal")["valid_from"]
    assert "notice_date" not in hosting
    assert _issues(clean_data) == []


def test_ended_and_withdrawn_things_are_history_not_gaps(clean_data: Data) -> None:
    data = copy.deepcopy(clean_data)
    _activity(data, "old-census")["security_measures"] = []
    _backup(data)["notice_date"] = None
    _backup(data)["status"] = "withdrawn"
    assert _issues(data) == []
    # On a day when the old census still ran, its missing field is a gap.
    (issue,) = _issues(data, dt.date(2020, 6, 1))
    assert (issue.rule_id, issue.entity_id) == ("activity-missing-article-30-field", "old-census")


def test_a_planned_activity_is_checked_before_it_starts(clean_data: Data) -> None:
    data = copy.deepcopy(clean_data)
    _activity(data, "portal")["dpia"] = {"status": "required"}
    (issue,) = _issues(data, dt.date(2020, 6, 1))
    assert issue.rule_id == "dpia-required-not-done"
    assert "before the processing starts on 2021-01-01" in issue.message


def test_issues_are_sorted_errors_first_and_render_on_one_line(clean_data: Data) -> None:
    data = copy.deepcopy(clean_data)
    _school(data)["dpo"] = {"name": "Mr C Smith"}
    _health(data)["dpia"] = {"status": "required"}
    issues = _issues(data)
    assert [i.severity for i in issues] == [Severity.ERROR, Severity.WARNING]
    assert has_errors(issues)
    assert not has_errors(issues[1:])
    line = issues[0].render()
    assert "\n" not in line
    assert line.startswith("error   dpia-required-not-done  activity:health: ")
    assert line.endswith("[UK GDPR Article 35(1)]")


def test_vital_interests_for_emergencies_only_is_not_routine_sharing(clean_data: Data) -> None:
    data = copy.deepcopy(clean_data)
    flow = _flow(data, "medical-sharing")
    flow["legal_bases"] = ["art6-1-d", "art9-2-g", "sch1-para18"]
    flow["condition"] = "Only in an emergency, to protect the pupil's life"
    assert _issues(data) == []


def test_a_schedule_1_condition_may_be_recorded_as_needing_no_policy_document(
    clean_data: Data,
) -> None:
    data = copy.deepcopy(clean_data)
    _school(data)["appropriate_policy_document"] = None
    _find(data["legal_bases"], "sch1-para18")["needs_policy_document"] = False
    assert _issues(data) == []
    # Part 1 paragraph 2 (health or social care) needs none by default.
    _find(data["legal_bases"], "sch1-para18").update(
        {"needs_policy_document": None, "article": "Sch 1 Pt 1 para 2", "id": "sch1-para18"}
    )
    assert _issues(data) == []


@pytest.mark.parametrize(
    "location",
    ["United Kingdom", "United Kingdom (MIS; DfE systems)", "Ireland", "Dublin, Ireland (EEA)"],
)
def test_free_text_naming_the_uk_or_an_adequate_country_is_clean(
    clean_data: Data, location: str
) -> None:
    data = copy.deepcopy(clean_data)
    _backup(data)["location"] = location
    _activity(data, "health")["location"] = location
    assert _issues(data) == []


def test_free_text_naming_a_declared_transfer_is_clean(clean_data: Data) -> None:
    data = copy.deepcopy(clean_data)
    _activity(data, "surveys")["location"] = "United States (the survey provider)"
    assert _issues(data) == []


def test_each_placeholder_is_named_with_its_value(clean_data: Data) -> None:
    data = copy.deepcopy(clean_data)
    _school(data)["placeholders"] = ["dpo"]
    _portal_appointment(data)["placeholders"] = ["contract"]
    messages = sorted(i.message for i in _issues(data))
    assert messages == [
        "dpo is a placeholder (Mr C Smith; dpo@clean.example), to be replaced with the real value",
        "processors[portal-co].contract is a placeholder (urn:clean:contract:portal-co), to be "
        "replaced with the real value",
    ]
    assert {i.reference for i in _issues(data)} == {
        "UK GDPR Article 37(7), 13(1)(b) and 30(1)(a)",
        "UK GDPR Article 28(3) and 28(9)",
    }


@pytest.mark.parametrize(
    ("placeholders", "reason"),
    [(["nonsense"], "'nonsense' is not a field here"), (["website"], "'website' has no value")],
)
def test_a_placeholder_must_name_a_field_with_a_value(
    clean_data: Data, placeholders: list[str], reason: str
) -> None:
    data = copy.deepcopy(clean_data)
    _school(data)["placeholders"] = placeholders
    with pytest.raises(ValueError, match=reason):
        RopaDocument.model_validate(data)


@pytest.mark.parametrize(
    ("location", "named"),
    [
        # Regions that are not countries are not guessed at; the UK's nations are the UK.
        ("Data centre in New England", []),
        ("Cardiff, Wales", []),
        ("Belfast, Northern Ireland", []),
        # The Crown dependency is adequate; the US state holding its name is the US.
        ("St Helier, Jersey", []),
        ("Newark, New Jersey", ["United States"]),
        ("New Mexico", ["United States"]),
        ("Located in the United States (Virginia)", ["United States"]),
        ("USA", ["United States"]),
        ("Hosted by the provider in the US", ["United States"]),
        ("UNITED STATES OF AMERICA", ["United States"]),
        # The EU and the EEA name only adequate countries, written together or not.
        ("Within the EU/EEA", []),
        ("EU/EEA, with support from the United States", ["United States"]),
        # Names count only as written with their capitals; codes never inside words.
        ("us-east-1, turkey and china suppliers", []),
        ("Istanbul, Turkey", ["Türkiye"]),
        ("Bangalore, India and Manila", ["India"]),
        ("Port of Spain", ["Trinidad and Tobago"]),
        ("Seoul, Republic of Korea", []),
    ],
)
def test_free_text_locations_are_read_by_whole_country_names(
    location: str, named: list[str]
) -> None:
    assert countries.named_in(location) == named


@pytest.mark.parametrize(
    ("country", "needs"),
    [
        *[("US", True), ("usa", True), ("United States", True), ("GB", False), ("Wales", False)],
        *[("JE", False), ("Jersey", False), ("EU", False), ("EEA", False), ("KR", False)],
        # A country ISO does not know cannot be shown adequate.
        *[("Narnia", True), ("", False), (None, False)],
    ],
)
def test_a_structured_country_is_read_by_iso_code_or_name(country: str | None, needs: bool) -> None:
    assert countries.needs_safeguard(country) is needs


def test_a_recurring_flow_on_vital_interests_alone_is_routine_whatever_its_words(
    clean_data: Data,
) -> None:
    data = copy.deepcopy(clean_data)
    flow = _flow(data, "medical-sharing")
    flow["legal_bases"] = ["art6-1-d", "art9-2-g", "sch1-para18"]
    flow["condition"] = "Only in an emergency, to protect the pupil's life"
    flow["valid_from"] = flow.get("valid_from") or "2021-09-01"
    flow["recurs"] = {"every": "P1Y", "lasts": "P1M"}
    (found,) = _issues(data)
    assert (found.rule_id, found.entity_id) == ("vital-interests-only-basis", "medical-sharing")
    assert "it recurs (every P1Y)" in found.message
    # Its activity's recurrence makes it routine too.
    del flow["recurs"]
    activity = _activity(data, flow["activity"])
    activity["recurs"] = {"every": "P1Y", "lasts": "P1Y"}
    activity.setdefault("valid_from", flow["valid_from"])
    assert [i.rule_id for i in _issues(data)] == ["vital-interests-only-basis"]
