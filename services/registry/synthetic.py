"""A synthetic register for benchmarks: N schools sharing recipients, processors and
sub-processors, one register document per school, as a local authority's DPO would keep them.

Each school has the shape of the shipped example: statutory returns to the DfE (shared onward
disclosure to approved third parties), safeguarding to its police force, social care and local
authority, health referrals, a progress-tracking and a payments processor, and a post-16
transfer through one of a few transition portals, each portal engaging several of a pool of
sub-processors. Documents are validated like `ropa apply` validates a file.
"""

from __future__ import annotations

from typing import Any

from schema.document import RopaDocument
from schema.errors import DocumentInvalid, DocumentProblem
from schema.validation import check_references, format_path

POLICE, AUTHORITIES, PORTALS, TRACKERS, COLLEGES = 10, 20, 10, 25, 30
SUB_PROCESSORS, SUBS_PER_PORTAL = 40, 4
POST16 = ("2022-02-14", "2023-02-13")
SINCE = "2018-05-25"

CATEGORIES = [
    ("pupil-data", None, False, False),
    ("personal-information", "pupil-data", False, False),
    ("contact-details", "pupil-data", False, False),
    ("characteristics", "pupil-data", False, False),
    ("ethnicity", "characteristics", True, False),
    ("attendance", "pupil-data", False, False),
    ("assessment", "pupil-data", False, False),
    ("behaviour", "pupil-data", False, False),
    ("medical", "pupil-data", True, False),
    ("send", "pupil-data", True, False),
    ("social-care", "pupil-data", False, False),
    ("safeguarding", "pupil-data", False, False),
    ("safeguarding-offence-data", "safeguarding", False, True),
    ("financial", "pupil-data", False, False),
    ("post16-destination", "pupil-data", False, False),
    ("cctv", "pupil-data", False, False),
]
BASES = [
    ("education-act-1996", "statute", []),
    ("reg5", "statute", []),
    ("children-act-2004", "statute", []),
    ("dpa-2018", "statute", []),
    ("art6-1-a", "article-6", []),
    ("art6-1-c", "article-6", ["education-act-1996", "reg5"]),
    ("art6-1-e", "article-6", ["education-act-1996", "dpa-2018"]),
    ("art9-2-a", "article-9", []),
    ("art9-2-g", "article-9", ["dpa-2018"]),
    ("art9-2-h", "article-9", ["dpa-2018"]),
    ("art9-2-j", "article-9", ["dpa-2018"]),
    ("art10", "article-10", ["dpa-2018"]),
]
STATUTES = ["education-act-1996", "dpa-2018"]
# What an activity holds besides what it discloses: the pupil record it works from.
RECORD = [
    "personal-information",
    "contact-details",
    "characteristics",
    "ethnicity",
    "attendance",
    "assessment",
    "behaviour",
    "send",
    "medical",
]
PUPIL = [
    "personal-information",
    "contact-details",
    "characteristics",
    "attendance",
    "assessment",
    "behaviour",
]


def _org(org_id: str, name: str, kind: str = "other", group: bool = False) -> dict[str, Any]:
    return {"id": org_id, "name": name, "kind": kind, "group": group}


def _flow(
    school: str,
    flow: str,
    activity: str,
    to: str,
    categories: list[str],
    bases: list[str],
    **kw: Any,
) -> dict[str, Any]:
    return {
        "id": f"{school}-{flow}",
        "activity": f"{school}-{activity}",
        "from": school,
        "to": to,
        "data_categories": categories,
        "legal_bases": [*bases, *(b for b in STATUTES if b not in bases)],
        "valid_from": kw.pop("valid_from", SINCE),
        # Every flow also names the statutes behind its bases, as a careful DPO records them.
        **kw,
    }


def _portal_engagements(portal: int) -> list[dict[str, Any]]:
    subs = [(portal * 3 + k) % SUB_PROCESSORS for k in range(SUBS_PER_PORTAL)]
    return [
        {
            "id": f"portal-{portal}-sub-{sub}",
            "processor": f"portal-{portal}",
            "sub_processor": f"sub-{sub}",
            "purpose": "Hosting and support of the transition portal",
            "data_categories": ["pupil-data"],
            "location": "United Kingdom",
            "since": POST16[0],
            "until": POST16[1],
            "status": "active",
        }
        for sub in subs
    ]


# (activity, name, validity, categories, legal bases): the school's activities.
ACTIVITIES = [
    (
        "returns",
        "Statutory returns",
        None,
        [*PUPIL, "ethnicity", "send", "behaviour"],
        ["art6-1-c", "reg5", "education-act-1996", "art9-2-g"],
    ),
    (
        "safeguarding",
        "Safeguarding",
        None,
        [*PUPIL, "safeguarding", "safeguarding-offence-data", "social-care", "medical"],
        ["art6-1-c", "art6-1-e", "children-act-2004", "art9-2-g", "art10"],
    ),
    (
        "send",
        "SEND and EHC plans",
        None,
        [*PUPIL, "send", "medical", "behaviour"],
        ["art6-1-c", "art9-2-g", "art9-2-h"],
    ),
    ("medical", "Medical needs", None, [*PUPIL, "medical"], ["art6-1-e", "art9-2-h"]),
    ("attendance", "Attendance", None, PUPIL, ["art6-1-c", "education-act-1996"]),
    ("progress", "Progress tracking", None, [*PUPIL, "behaviour"], ["art6-1-e"]),
    (
        "behaviour",
        "Behaviour and exclusions",
        None,
        [*PUPIL, "behaviour", "send"],
        ["art6-1-c", "art9-2-g"],
    ),
    ("meals", "School meal payments", None, ["personal-information", "financial"], ["art6-1-e"]),
    (
        "referrals",
        "Referrals",
        None,
        [*PUPIL, "medical", "send", "post16-destination"],
        ["art6-1-a", "art9-2-a", "art9-2-h"],
    ),
    ("communications", "Communications with parents", None, PUPIL[:2], ["art6-1-e", "art6-1-a"]),
    ("cctv", "CCTV and photographs", None, ["personal-information", "cctv"], ["art6-1-e"]),
    (
        "effectiveness",
        "School effectiveness",
        None,
        [*PUPIL, "ethnicity", "send"],
        ["art6-1-e", "art9-2-g"],
    ),
    ("advisers", "Advisers and consultants", None, [*PUPIL, "send"], ["art6-1-e", "art9-2-g"]),
    (
        "post16",
        "Post-16 transfer",
        POST16,
        [*PUPIL, "medical", "send", "safeguarding", "behaviour", "post16-destination"],
        ["art6-1-e", "art9-2-g"],
    ),
]


def _flows(s: str, i: int, la: str, police: str, care: str, nhs: str) -> list[dict[str, Any]]:
    tracker, payments = f"tracker-{i % TRACKERS}", f"payments-{i % TRACKERS}"
    portal, college = f"portal-{i % PORTALS}", f"college-{i % COLLEGES}"
    sg = ["safeguarding", "safeguarding-offence-data"]
    return [
        _flow(
            s,
            "census",
            "returns",
            "dfe",
            [*PUPIL, "ethnicity", "send", "behaviour"],
            ["art6-1-c", "reg5", "education-act-1996", "art9-2-g"],
        ),
        _flow(s, "returns-la", "returns", la, [*PUPIL, "send"], ["art6-1-c", "education-act-1996"]),
        _flow(
            s,
            "sg-police",
            "safeguarding",
            police,
            [*PUPIL[:2], *sg, "medical"],
            ["art6-1-e", "children-act-2004", "art10", "art9-2-g"],
            condition="When a child is at risk of significant harm",
        ),
        _flow(
            s,
            "sg-care",
            "safeguarding",
            care,
            [*PUPIL, *sg, "social-care", "medical"],
            ["art6-1-c", "children-act-2004", "art9-2-g", "art10"],
        ),
        _flow(s, "sg-la", "safeguarding", la, [*PUPIL, *sg], ["art6-1-c", "children-act-2004"]),
        _flow(
            s,
            "send-la",
            "send",
            la,
            [*PUPIL, "send", "medical", "behaviour"],
            ["art6-1-c", "art9-2-g"],
        ),
        _flow(
            s, "send-nhs", "send", nhs, [*PUPIL[:2], "send", "medical"], ["art6-1-e", "art9-2-h"]
        ),
        _flow(s, "medical-nhs", "medical", nhs, [*PUPIL[:2], "medical"], ["art9-2-h", "art6-1-e"]),
        _flow(s, "attendance-la", "attendance", la, PUPIL, ["art6-1-c", "education-act-1996"]),
        _flow(
            s,
            "exclusions-la",
            "behaviour",
            la,
            [*PUPIL[:2], "behaviour", "send"],
            ["art6-1-c", "art9-2-g"],
        ),
        _flow(
            s,
            "tracking",
            "progress",
            tracker,
            [*PUPIL, "behaviour"],
            ["art6-1-e"],
            recipient_role="processor",
        ),
        _flow(
            s,
            "meals",
            "meals",
            payments,
            ["personal-information", "financial"],
            ["art6-1-e"],
            recipient_role="processor",
        ),
        _flow(
            s,
            "counselling",
            "referrals",
            care,
            [*PUPIL[:2], "medical", "send"],
            ["art6-1-a", "art9-2-a"],
            condition="With consent",
        ),
        _flow(
            s,
            "careers",
            "referrals",
            college,
            [*PUPIL, "post16-destination"],
            ["art6-1-a"],
            condition="With consent",
        ),
        _flow(
            s,
            "cctv-police",
            "cctv",
            police,
            ["cctv"],
            ["art6-1-e"],
            condition="On a written police request",
        ),
        _flow(
            s,
            "advisers",
            "advisers",
            f"adviser-{i % TRACKERS}",
            [*PUPIL, "send"],
            ["art6-1-e", "art9-2-g"],
            recipient_role="processor",
        ),
        _flow(
            s,
            "effectiveness-la",
            "effectiveness",
            la,
            [*PUPIL, "ethnicity", "send"],
            ["art6-1-e", "art9-2-g"],
        ),
        _flow(
            s,
            "portal",
            "post16",
            portal,
            [*PUPIL, "medical", "send", "safeguarding", "behaviour", "post16-destination"],
            ["art6-1-e", "art9-2-g"],
            recipient_role="processor",
            valid_from=POST16[0],
            valid_until=POST16[1],
        ),
        _flow(
            s,
            "post16-provider",
            "post16",
            college,
            [*PUPIL, "medical", "send", "safeguarding", "post16-destination"],
            ["art6-1-e", "art9-2-g"],
            condition="once enrolment is confirmed",
            valid_from=POST16[0],
            valid_until=POST16[1],
        ),
    ]


def school_document(i: int) -> dict[str, Any]:
    """The register of school `i`, as the dict a YAML document would load to."""
    s = f"school-{i}"
    police, la = f"police-{i % POLICE}", f"la-{i % AUTHORITIES}"
    care, nhs = f"social-care-{i % AUTHORITIES}", f"nhs-{i % AUTHORITIES}"
    engagements = _portal_engagements(i % PORTALS)
    subs = sorted({e["sub_processor"] for e in engagements})
    organisations = [
        _org(s, f"School {i}", "school"),
        _org("dfe", "Department for Education", "government"),
        _org("approved-third-parties", "Approved third parties (NPD)", group=True),
        _org(police, f"Police force {i % POLICE}", "police"),
        _org(la, f"Local authority {i % AUTHORITIES}", "local-authority"),
        _org(care, f"Children's social care {i % AUTHORITIES}", "social-care", group=True),
        _org(nhs, f"NHS trust {i % AUTHORITIES}", "health"),
        _org(f"portal-{i % PORTALS}", f"Transition Portal Company {i % PORTALS}", "company"),
        _org(f"tracker-{i % TRACKERS}", f"Progress Tracking Company {i % TRACKERS}", "company"),
        _org(f"payments-{i % TRACKERS}", f"Payments Company {i % TRACKERS}", "company"),
        _org(f"adviser-{i % TRACKERS}", f"Advisory Service {i % TRACKERS}", "company"),
        _org(f"college-{i % COLLEGES}", f"College {i % COLLEGES}", "education-provider"),
        *(_org(sub, f"Sub-processor {sub.removeprefix('sub-')}", "company") for sub in subs),
    ]
    systems = [
        {"id": f"{s}-{name}", "name": f"{name.upper()} of school {i}", "operator": s}
        for name in ("mis", "safeguarding-records", "finance", "cctv")
    ]
    return {
        "version": "ropa/v1",
        "register": {"id": s, "name": f"School {i} register", "owner": s},
        "organisations": organisations,
        "data_subjects": [
            {"id": "pupils", "name": "Pupils"},
            {"id": "parents-and-carers", "name": "Parents and carers"},
        ],
        "data_categories": [
            {
                "id": c,
                "name": c.replace("-", " ").capitalize(),
                "parent": p,
                "special": sp,
                "criminal_offence": co,
            }
            for c, p, sp, co in CATEGORIES
        ],
        "legal_bases": [
            {"id": b, "kind": k, "title": b.replace("-", " ").upper(), "rests_on": r}
            for b, k, r in BASES
        ],
        "systems": systems,
        "activities": [
            {
                "id": f"{s}-{a}",
                "name": f"{name} ({s})",
                "controller": s,
                "purposes": [name],
                "data_subjects": ["pupils", "parents-and-carers"],
                "data_categories": [*cats, *(c for c in RECORD if c not in cats)],
                "legal_bases": bases,
                "systems": [systems[0]["id"], systems[1]["id"]],
                "retention": "Per the retention schedule",
                "security_measures": ["Encryption"],
                "valid_from": valid[0] if valid else SINCE,
                "valid_until": valid[1] if valid else None,
            }
            for a, name, valid, cats, bases in ACTIVITIES
        ]
        + [{"id": "dfe-npd", "name": "National Pupil Database", "controller": "dfe"}],
        "flows": [
            *_flows(s, i, la, police, care, nhs),
            {
                "id": "npd-onward",
                "activity": "dfe-npd",
                "kind": "onward-disclosure",
                "from": "dfe",
                "to": "approved-third-parties",
                "data_categories": PUPIL,
                "legal_bases": ["art6-1-e", "art9-2-j"],
                "condition": "After DfE approval",
            },
        ],
        "engagements": engagements,
    }


def school(i: int) -> RopaDocument:
    """School `i`'s register, checked as `ropa apply` checks a document."""
    doc = RopaDocument.model_validate(school_document(i))
    problems = check_references(doc)
    if problems:
        raise DocumentInvalid(
            f"synthetic school {i}", [DocumentProblem(format_path(p), r) for p, r in problems]
        )
    return doc
