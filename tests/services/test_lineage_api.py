"""`recipients` on the example register: who receives a category, along which paths, when."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from graph.database import Database

pytestmark = pytest.mark.neo4j

Post = Callable[..., Awaitable[dict[str, Any]]]

DURING = "2022-06-01"  # the post-16 transfer runs every year from 2022-02-14, for a year
TODAY = "2026-12-01"  # the 2026 cohort's occurrence (2026-02-14 to 2027-02-13)
BEFORE = "2022-02-13"
EARLIER = "2021-06-01"

RECIPIENTS = """
query ($category: String!, $controller: String, $asOf: Date, $transitive: Boolean) {
  recipients(category: $category, controller: $controller, asOf: $asOf,
             transitive: $transitive) {
    organisation { id name }
    paths {
      hops {
        kind
        from { id }
        to { id }
        activity { id }
        categories { id special criminalOffence }
        legalBases { id title legislation }
        citations { basis { id } restsOn { law { id title } provision } }
        basisOf { id }
        condition
        engagement { id status since until recurs { every lasts } }
        disclosure { id }
      }
    }
  }
}
"""

POST16 = {"school-transition-limited", "post16-institution"}
STL_SUBS = {"link-ict", "derby-city-council", "school-development-support-agency"}


def _routes(recipients: list[dict[str, Any]]) -> dict[str, list[list[tuple[str, str, str]]]]:
    """Recipient id -> its paths, each as (kind, to, disclosure or engagement id) per hop."""
    return {
        r["organisation"]["id"]: [
            [
                (h["kind"], h["to"]["id"], (h["disclosure"] or h["engagement"])["id"])
                for h in path["hops"]
            ]
            for path in r["paths"]
        ]
        for r in recipients
    }


async def _recipients(data: Post, category: str, **kw: Any) -> list[dict[str, Any]]:
    variables = {"controller": None, "asOf": None, "transitive": None, **kw}
    found: list[dict[str, Any]] = (await data(RECIPIENTS, category=category, **variables))[
        "recipients"
    ]
    return found


async def test_safeguarding_during_the_post16_transfer(example: Database, data: Post) -> None:
    found = await _recipients(data, "safeguarding", asOf=DURING)
    routes = _routes(found)
    assert set(routes) == {"derbyshire-constabulary", "childrens-social-care"} | POST16 | STL_SUBS
    # Derby City Council receives twice: as the local authority, and as a sub-processor.
    assert sorted(routes["derby-city-council"]) == [
        [("DISCLOSURE", "derby-city-council", "safeguarding-to-la")],
        [
            ("DISCLOSURE", "school-transition-limited", "post16-upload"),
            ("SUB_PROCESSING", "derby-city-council", "stl-derby-city-council"),
        ],
    ]
    assert routes["link-ict"] == [
        [
            ("DISCLOSURE", "school-transition-limited", "post16-upload"),
            ("SUB_PROCESSING", "link-ict", "stl-link-ict"),
        ]
    ]
    assert [r["organisation"]["name"] for r in found] == sorted(
        (r["organisation"]["name"] for r in found), key=str.lower
    )


async def test_each_hop_says_its_activity_categories_bases_and_condition(
    example: Database, data: Post
) -> None:
    found = {
        r["organisation"]["id"]: r for r in await _recipients(data, "safeguarding", asOf=DURING)
    }
    police = found["derbyshire-constabulary"]["paths"][0]["hops"][0]
    assert police["from"]["id"] == "allestree-woodlands"
    assert police["activity"]["id"] == "safeguarding"
    assert [c["id"] for c in police["categories"]] == ["safeguarding", "safeguarding-offence-data"]
    assert [c["criminalOffence"] for c in police["categories"]] == [False, True]
    assert {"art6-1-c", "art10", "art9-2-g"} <= {b["id"] for b in police["legalBases"]}
    cited = {
        c["basis"]["id"]: [law["law"]["id"] for law in c["restsOn"]] for c in police["citations"]
    }
    assert "children-act-2004" in cited["art6-1-c"]
    assert cited["art9-2-g"] == ["dpa2018-sch1-para18"]
    assert cited["art10"] == ["dpa2018-sch1-para18", "dpa2018-sch1-para36"]
    assert police["basisOf"] == {"id": "allestree-woodlands"}
    assert "designated safeguarding lead" in police["condition"]
    provider = found["post16-institution"]["paths"][0]["hops"][0]
    assert provider["condition"] == "once enrolment at the chosen post-16 institution is confirmed"
    sub = found["school-development-support-agency"]["paths"][0]["hops"][1]
    assert sub["kind"] == "SUB_PROCESSING"
    assert sub["activity"]["id"] == "post16-transfer"
    assert sub["engagement"] == {
        "id": "stl-school-development-support-agency",
        "status": "ACTIVE",
        "since": "2022-02-14",
        "until": None,
        "recurs": {"every": "P1Y", "lasts": "P1Y"},
    }
    assert sub["disclosure"] is None
    assert [c["id"] for c in sub["categories"]] == ["safeguarding"]
    # The sub-processor works under the basis on which the school gave the data to its processor.
    upload = found["school-transition-limited"]["paths"][0]["hops"][0]
    assert sub["legalBases"] == upload["legalBases"] != []
    assert sub["citations"] == upload["citations"] != []
    assert sub["basisOf"] is None


async def test_on_2026_12_01_the_annual_post16_transfer_is_there_again(
    example: Database, data: Post
) -> None:
    routes = _routes(await _recipients(data, "safeguarding", asOf=TODAY))
    assert set(routes) >= POST16 | STL_SUBS
    assert routes["link-ict"] == [
        [
            ("DISCLOSURE", "school-transition-limited", "post16-upload"),
            ("SUB_PROCESSING", "link-ict", "stl-link-ict"),
        ]
    ]
    subs = await data(
        '{ subProcessors(processor: "School Transition Limited", asOf: "2026-12-01") '
        "{ subProcessor { id } } }"
    )
    assert {e["subProcessor"]["id"] for e in subs["subProcessors"]} == STL_SUBS


@pytest.mark.parametrize("as_of", [BEFORE, EARLIER], ids=["day-before", "year-before"])
async def test_safeguarding_outside_the_post16_transfer(
    example: Database, data: Post, as_of: str | None
) -> None:
    routes = _routes(await _recipients(data, "safeguarding", asOf=as_of))
    # The portal and its sub-processors drop out; police and social care stay.
    assert routes == {
        "childrens-social-care": [
            [("DISCLOSURE", "childrens-social-care", "safeguarding-to-social-care")]
        ],
        "derby-city-council": [[("DISCLOSURE", "derby-city-council", "safeguarding-to-la")]],
        "derbyshire-constabulary": [
            [("DISCLOSURE", "derbyshire-constabulary", "safeguarding-to-police")]
        ],
    }


async def test_medical_data_reaches_health_services_and_the_portal(
    example: Database, data: Post
) -> None:
    found = await _recipients(data, "medical", asOf=DURING)
    routes = _routes(found)
    assert {
        "school-nursing-service",
        "nhs-medical-teams",
        "counselling-services",
        "occupational-therapists",
        "derbyshire-constabulary",
        "childrens-social-care",
    } | POST16 | STL_SUBS == set(routes)
    assert sorted(p[0][2] for p in routes["nhs-medical-teams"]) == ["medical-to-nhs", "send-to-nhs"]
    hop_categories = {
        c["id"] for r in found for p in r["paths"] for h in p["hops"] for c in h["categories"]
    }
    assert hop_categories == {"medical"}
    assert all(
        c["special"] for r in found for p in r["paths"] for h in p["hops"] for c in h["categories"]
    )


async def test_attendance_goes_to_the_dfe_under_regulation_5_and_on_to_approved_parties(
    example: Database, data: Post
) -> None:
    found = {r["organisation"]["id"]: r for r in await _recipients(data, "attendance", asOf=BEFORE)}
    assert {"dfe", "approved-third-parties", "derby-city-council"} <= set(found)
    assert not (set(found) & (POST16 | {"link-ict"}))
    [to_dfe] = found["dfe"]["paths"]
    census = to_dfe["hops"][0]
    assert census["disclosure"]["id"] == "census-to-dfe"
    # The law of this use only: s537A of the 1996 Act and Regulation 5 (issue 14).
    [obligation] = [c for c in census["citations"] if c["basis"]["id"] == "art6-1-c"]
    assert [(law["law"]["id"], law["provision"]) for law in obligation["restsOn"]] == [
        ("education-act-1996", "s537A"),
        ("education-pupil-info-regs-2013-reg5", None),
    ]
    assert census["basisOf"] == {"id": "allestree-woodlands"}
    [onward] = found["approved-third-parties"]["paths"]
    assert [h["kind"] for h in onward["hops"]] == ["DISCLOSURE", "ONWARD_DISCLOSURE"]
    npd = onward["hops"][1]
    assert npd["from"]["id"] == "dfe"
    assert npd["activity"]["id"] == "statutory-returns"
    assert "approval" in npd["condition"]
    # The DfE's onward sharing is its own processing, under its own bases.
    assert npd["basisOf"] == {"id": "dfe"}
    npd_laws = {law["law"]["id"] for c in npd["citations"] for law in c["restsOn"]}
    assert "prescribed-persons-regs-2009" in npd_laws
    # The census Regulations are the law of the census, not of the local authority's returns.
    to_la = [h for p in found["derby-city-council"]["paths"] for h in p["hops"]]
    assert "education-pupil-info-regs-2013-reg5" not in {
        law["law"]["id"] for h in to_la for c in h["citations"] for law in c["restsOn"]
    }


async def test_transitive_false_gives_direct_recipients_only(example: Database, data: Post) -> None:
    direct = _routes(await _recipients(data, "safeguarding", asOf=DURING, transitive=False))
    assert (
        set(direct)
        == {"derbyshire-constabulary", "childrens-social-care", "derby-city-council"} | POST16
    )
    assert all(len(path) == 1 for paths in direct.values() for path in paths)
    attendance = _routes(await _recipients(data, "attendance", transitive=False))
    assert "dfe" in attendance
    assert "approved-third-parties" not in attendance


async def test_names_in_any_case_work_like_ids(example: Database, data: Post) -> None:
    by_id = await _recipients(data, "safeguarding", controller="allestree-woodlands", asOf=DURING)
    by_name = await _recipients(
        data, "SAFEGUARDING INFORMATION", controller="allestree woodlands school", asOf=DURING
    )
    assert by_name == by_id
    assert by_id != []


@pytest.mark.parametrize(
    ("variables", "quoted"),
    [
        ({"category": "astrology"}, "'astrology'"),
        ({"category": "safeguarding", "controller": "Hogwarts"}, "'Hogwarts'"),
    ],
)
async def test_unknown_names_are_errors_quoting_the_value(
    example: Database, graphql: Post, variables: dict[str, Any], quoted: str
) -> None:
    body = await graphql(RECIPIENTS, **{"controller": None, "asOf": None, **variables})
    assert body["data"] is None
    [error] = body["errors"]
    assert quoted in error["message"]
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert error["path"] == ["recipients"]


async def test_special_categories(example: Database, data: Post) -> None:
    special = await data("{ dataCategories(special: true) { id special parent { id } } }")
    assert [c["id"] for c in special["dataCategories"]] == ["ethnicity", "medical", "send"]
    assert special["dataCategories"][0]["parent"] == {"id": "characteristics"}
    others = await data("{ dataCategories(special: false) { id special } }")
    assert not {"ethnicity", "medical", "send"} & {c["id"] for c in others["dataCategories"]}
    everything = await data("{ dataCategories { id } }")
    assert len(everything["dataCategories"]) == 3 + len(others["dataCategories"])
    ethnicity = _routes(await _recipients(data, "ethnicity", asOf=DURING))
    assert "dfe" in ethnicity
    assert "post16-institution" in ethnicity


ASSUMED = """
query ($asOf: Date, $recordedAt: DateTime) {
  recipients(category: "safeguarding", asOf: $asOf, recordedAt: $recordedAt) {
    organisation { id }
    paths {
      hops { kind to { id } assumptions { text about on } disclosure { id } engagement { id } }
    }
  }
}
"""


# Today's record (the lineage statement), and the record as recorded now (rebuilt from the
# change log, the past-record path).
@pytest.mark.parametrize("rebuilt", [False, True], ids=["today", "as-recorded"])
async def test_each_hop_says_what_it_assumes(example: Database, data: Post, rebuilt: bool) -> None:
    recorded_at = dt.datetime.now(dt.UTC).isoformat() if rebuilt else None
    found = (await data(ASSUMED, asOf=DURING, recordedAt=recorded_at))["recipients"]
    assumed = {
        (h["disclosure"] or h["engagement"])["id"]: h["assumptions"]
        for r in found
        for path in r["paths"]
        for h in path["hops"]
    }
    hops = {k: [a["text"] for a in v] for k, v in assumed.items()}
    # An engagement's own assumptions, then those of the sub-processor it reaches.
    assert any("categories each sub-processor handles" in a for a in hops["stl-link-ict"])
    # A disclosure with none of its own carries the assumptions about its recipient.
    assert any('The notice says "the police"' in a for a in hops["safeguarding-to-police"])
    # The disclosure's own assumption comes first.
    assert hops["post16-to-provider"][0].startswith("The school is the controller disclosing")
    # Each says which part of the hop holds it and which field it is about.
    parts = {(a["on"], a["about"]) for a in assumed["stl-link-ict"]}
    assert {("engagement", "data_categories"), ("engagement", "location")} <= parts
    assert ("to", None) in parts
    police = assumed["safeguarding-to-police"]
    assert {a["on"] for a in police} == {"to"}
    portal = {a["text"][:40]: (a["on"], a["about"]) for a in assumed["post16-to-provider"]}
    assert portal["Retention in the portal - deleted once t"] == ("disclosure", "retention")
    assert portal["The school is the controller disclosing "] == ("disclosure", None)


async def test_a_disclosure_names_whose_bases_it_rests_on_as_its_hop_does(
    example: Database, data: Post
) -> None:
    found = await data('{ disclosures(asOf: "2022-06-01") { id from { id } basisOf { id } } }')
    whose = {d["id"]: d["basisOf"]["id"] for d in found["disclosures"]}
    assert whose["npd-onward-disclosure"] == "dfe"
    assert whose["census-to-dfe"] == "allestree-woodlands"
    # The processor's upload is the school's own processing too.
    assert whose["post16-upload"] == "allestree-woodlands"
    hops = [
        h
        for r in await _recipients(data, "pupil-data", asOf="2022-06-01")
        for path in r["paths"]
        for h in path["hops"]
        if h["disclosure"]
    ]
    assert {h["disclosure"]["id"] for h in hops} >= {"npd-onward-disclosure", "census-to-dfe"}
    for hop in hops:
        assert whose[hop["disclosure"]["id"]] == hop["basisOf"]["id"], hop["disclosure"]
