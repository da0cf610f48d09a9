"""The register through GraphQL: organisations, activities with their Article 30 fields, and
the reference sets."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from graph.database import Database

pytestmark = pytest.mark.neo4j

Post = Callable[..., Awaitable[dict[str, Any]]]

ACTIVITY = """
query ($ref: String!) {
  activity(ref: $ref) {
    id name description purposes recipientCategories legitimateInterests consentRecord rights
    automatedDecisionMaking source location retention retentionSchedule securityMeasures
    validFrom validUntil recurs { every lasts description } assumptions { text about }
    controller { id }
    jointControllers { id }
    processors { organisation { id } contract noticePeriodDays objectionWindowDays }
    dataSubjects { id parent { id } }
    categories { id }
    legalBases { id }
    systems { id operator { id } }
    thirdCountryTransfers { country }
    dpia { status link completedOn }
    disclosures { id kind recipientRole from { id } to { id } system { id } validUntil }
    recipients { id }
  }
}
"""


async def test_organisations_by_name_with_every_field(example: Database, data: Post) -> None:
    found = (
        await data(
            "{ organisations { id name kind description address country registration "
            "icoRegistration website group assumptions { text about } "
            "contact { name role email phone address } "
            "dpo { name role } representative { name } } }"
        )
    )["organisations"]
    names = [o["name"] for o in found]
    assert names == sorted(names, key=str.lower)
    school = next(o for o in found if o["id"] == "allestree-woodlands")
    assert school["kind"] == "SCHOOL"
    assert school["contact"]["name"] == "Mr A Greaves"
    assert school["dpo"]["role"] == "Data Protection Officer"
    assert school["representative"] is None
    groups = {o["id"] for o in found if o["group"]}
    assert {"approved-third-parties", "childrens-social-care"} <= groups


@pytest.mark.parametrize("ref", ["dfe", "DFE", "department for education"])
async def test_organisation_by_id_or_name(example: Database, data: Post, ref: str) -> None:
    found = await data("query ($ref: String!) { organisation(ref: $ref) { id kind } }", ref=ref)
    assert found["organisation"] == {"id": "dfe", "kind": "GOVERNMENT"}


async def test_activity_has_every_article_30_field(example: Database, data: Post) -> None:
    found = (await data(ACTIVITY, ref="Post-16 transition (Transition Portal)"))["activity"]
    assert found["id"] == "post16-transfer"
    assert found["controller"] == {"id": "allestree-woodlands"}
    assert found["processors"] == [
        {
            "organisation": {"id": "school-transition-limited"},
            "contract": "urn:allestree-woodlands:contract:school-transition-limited:2022",
            "noticePeriodDays": 30,
            "objectionWindowDays": 14,
        }
    ]
    assert (found["validFrom"], found["validUntil"]) == ("2022-02-14", None)
    assert found["recurs"] == {
        "every": "P1Y",
        "lasts": "P1Y",
        "description": "every year, for 1 year each time",
    }
    assert {s["id"] for s in found["dataSubjects"]} == {"year-11-students", "portal-staff"}
    assert {"id": "year-11-students", "parent": {"id": "pupils"}} in found["dataSubjects"]
    assert "safeguarding" in {c["id"] for c in found["categories"]}
    assert "art6-1-e" in {b["id"] for b in found["legalBases"]}
    assert {"id": "transition-portal", "operator": {"id": "school-transition-limited"}} in found[
        "systems"
    ]
    assert found["dpia"] == {"status": "REQUIRED", "link": None, "completedOn": None}
    assert found["retention"].startswith("Retained only as long as necessary")
    assert found["securityMeasures"][0] == "Secure upload to the Transition Portal"
    assert found["purposes"]
    assert found["recipientCategories"]
    assert found["rights"]
    assert found["thirdCountryTransfers"] == []
    assert {d["id"] for d in found["disclosures"]} == {
        "post16-upload",
        "portal-usage-data",
        "post16-to-provider",
    }
    upload = next(d for d in found["disclosures"] if d["id"] == "post16-upload")
    assert upload == {
        "id": "post16-upload",
        "kind": "DISCLOSURE",
        "recipientRole": "PROCESSOR",
        "from": {"id": "allestree-woodlands"},
        "to": {"id": "school-transition-limited"},
        "system": {"id": "transition-portal"},
        "validUntil": None,
    }
    assert [r["id"] for r in found["recipients"]] == [
        "post16-institution",
        "school-transition-limited",
    ]


async def test_activities_valid_today_or_on_a_day(example: Database, data: Post) -> None:
    today = {a["id"] for a in (await data("{ activities { id } }"))["activities"]}
    then = {
        a["id"] for a in (await data('{ activities(asOf: "2022-01-01") { id } }'))["activities"]
    }
    # The post-16 transfer first ran from 2022-02-14, and recurs every year.
    assert "post16-transfer" in today
    assert then == today - {"post16-transfer"}


async def test_activities_filtered_by_controller_category_and_basis(
    example: Database, data: Post
) -> None:
    query = """
    query ($controller: String, $category: String, $basis: String) {
      activities(controller: $controller, category: $category, legalBasis: $basis,
                 asOf: "2022-06-01") { id }
    }"""

    async def ids(**kw: str | None) -> set[str]:
        args = {"controller": None, "category": None, "basis": None, **kw}
        return {a["id"] for a in (await data(query, **args))["activities"]}

    everything = await ids()
    assert await ids(controller="Allestree Woodlands School") == everything
    assert await ids(controller="dfe") == set()
    # A category matches activities processing it or anything below it.
    assert await ids(category="safeguarding-offence-data") == {"safeguarding"}
    assert await ids(category="safeguarding") == {"safeguarding", "post16-transfer"}
    assert "cctv-photos" in await ids(category="pupil-data")
    # A legal basis matches activities relying on it, or on a basis resting on it.
    consent = await ids(basis="Consent")
    assert {"referrals", "cctv-photos"} <= consent
    assert "statutory-returns" not in consent
    statute = await ids(basis="Education Act 1996")
    assert "statutory-returns" in statute
    assert await ids(basis="art6-1-a", category="medical") == {
        "referrals",
        "medical-health",
    } & await ids(category="medical")
    # A law cited for one use matches the activity of that use only (issue 14).
    assert await ids(basis="education-pupil-info-regs-2013-reg5") == {"statutory-returns"}


async def test_reference_sets(example: Database, data: Post) -> None:
    found = await data(
        "{ dataSubjects { id parent { id } children { id } } "
        "legalBases { id kind title article legislation restsOn { id } } "
        "systems { id operator { id } } }"
    )
    subjects = {s["id"]: s for s in found["dataSubjects"]}
    assert subjects["pupils"]["children"] == [{"id": "year-11-students"}]
    assert subjects["year-11-students"]["parent"] == {"id": "pupils"}
    bases = {b["id"]: b for b in found["legalBases"]}
    assert bases["art6-1-c"]["article"] == "6(1)(c)"
    assert bases["art6-1-c"]["kind"] == "ARTICLE_6"
    # An Article basis rests on law per use (`citations`), never for every use.
    assert bases["art6-1-c"]["restsOn"] == []
    assert bases["keeping-children-safe-in-education"]["restsOn"] == [{"id": "education-act-2002"}]
    assert bases["education-act-1996"]["legislation"] == ["Education Act 1996"]
    assert bases["art6-1-a"]["legislation"] == []
    assert {"id": "mis", "operator": {"id": "allestree-woodlands"}} in found["systems"]


async def test_category_hierarchy_both_ways(example: Database, data: Post) -> None:
    found = await data(
        "{ dataCategories { id parent { id parent { id } } children { id children { id } } } }"
    )
    by_id = {c["id"]: c for c in found["dataCategories"]}
    assert by_id["safeguarding-offence-data"]["parent"] == {
        "id": "safeguarding",
        "parent": {"id": "pupil-data"},
    }
    assert {"id": "safeguarding", "children": [{"id": "safeguarding-offence-data"}]} in by_id[
        "pupil-data"
    ]["children"]
    assert by_id["pupil-data"]["parent"] is None


async def test_unknown_activity_and_organisation(example: Database, graphql: Post) -> None:
    body = await graphql('{ activity(ref: "Fundraising") { id } organisation(ref: "x") { id } }')
    assert body["data"] == {"activity": None, "organisation": None}
    assert sorted(e["message"] for e in body["errors"]) == [
        "no activity with id or name 'Fundraising'",
        "no organisation with id or name 'x'",
    ]
    assert {e["extensions"]["code"] for e in body["errors"]} == {"NOT_FOUND"}
