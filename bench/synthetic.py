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
from schema.document_upgrade import upgrade
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


SG = ["safeguarding", "safeguarding-offence-data"]
CARE = ["medical", "send"]

# fmt: off
# (activity, name, validity, categories, legal bases): the school's activities.
ACTIVITIES: list[tuple[str, str, tuple[str, str] | None, list[str], list[str]]] = [
    ("returns", "Statutory returns", None, [*PUPIL, "ethnicity", "send"],
     ["art6-1-c", "reg5", "education-act-1996", "art9-2-g"]),
    ("safeguarding", "Safeguarding", None, [*PUPIL, *SG, "social-care", "medical"],
     ["art6-1-c", "art6-1-e", "children-act-2004", "art9-2-g", "art10"]),
    ("send", "SEND and EHC plans", None, [*PUPIL, *CARE], ["art6-1-c", "art9-2-g", "art9-2-h"]),
    ("medical", "Medical needs", None, [*PUPIL, "medical"], ["art6-1-e", "art9-2-h"]),
    ("attendance", "Attendance", None, PUPIL, ["art6-1-c", "education-act-1996"]),
    ("progress", "Progress tracking", None, PUPIL, ["art6-1-e"]),
    ("behaviour", "Behaviour and exclusions", None, [*PUPIL, "send"], ["art6-1-c", "art9-2-g"]),
    ("meals", "School meal payments", None, ["personal-information", "financial"], ["art6-1-e"]),
    ("referrals", "Referrals", None, [*PUPIL, *CARE, "post16-destination"],
     ["art6-1-a", "art9-2-a", "art9-2-h"]),
    ("communications", "Communications with parents", None, PUPIL[:2], ["art6-1-e", "art6-1-a"]),
    ("cctv", "CCTV and photographs", None, ["personal-information", "cctv"], ["art6-1-e"]),
    ("effectiveness", "School effectiveness", None, [*PUPIL, "ethnicity", "send"],
     ["art6-1-e", "art9-2-g"]),
    ("advisers", "Advisers and consultants", None, [*PUPIL, "send"], ["art6-1-e", "art9-2-g"]),
    ("post16", "Post-16 transfer", POST16, [*PUPIL, *CARE, "safeguarding", "post16-destination"],
     ["art6-1-e", "art9-2-g"]),
]

# (flow, activity, recipient, categories, legal bases, extra fields): the school's flows; the
# recipient names a role that `school_document` maps to a shared organisation.
FLOWS: list[tuple[str, str, str, list[str], list[str], dict[str, Any]]] = [
    ("census", "returns", "dfe", [*PUPIL, "ethnicity", "send"],
     ["art6-1-c", "reg5", "art9-2-g"], {}),
    ("returns-la", "returns", "la", [*PUPIL, "send"], ["art6-1-c"], {}),
    ("sg-police", "safeguarding", "police", [*PUPIL[:2], *SG, "medical"],
     ["art6-1-e", "children-act-2004", "art10", "art9-2-g"],
     {"condition": "When a child is at risk of significant harm"}),
    ("sg-care", "safeguarding", "care", [*PUPIL, *SG, "social-care", "medical"],
     ["art6-1-c", "children-act-2004", "art9-2-g", "art10"], {}),
    ("sg-la", "safeguarding", "la", [*PUPIL, *SG], ["art6-1-c", "children-act-2004"], {}),
    ("send-la", "send", "la", [*PUPIL, *CARE], ["art6-1-c", "art9-2-g"], {}),
    ("send-nhs", "send", "nhs", [*PUPIL[:2], *CARE], ["art6-1-e", "art9-2-h"], {}),
    ("medical-nhs", "medical", "nhs", [*PUPIL[:2], "medical"], ["art9-2-h", "art6-1-e"], {}),
    ("attendance-la", "attendance", "la", PUPIL, ["art6-1-c"], {}),
    ("exclusions-la", "behaviour", "la", [*PUPIL[:2], "behaviour", "send"],
     ["art6-1-c", "art9-2-g"], {}),
    ("tracking", "progress", "tracker", PUPIL, ["art6-1-e"], {"recipient_role": "processor"}),
    ("meals", "meals", "payments", ["personal-information", "financial"], ["art6-1-e"],
     {"recipient_role": "processor"}),
    ("counselling", "referrals", "care", [*PUPIL[:2], *CARE], ["art6-1-a", "art9-2-a"],
     {"condition": "With consent"}),
    ("careers", "referrals", "college", [*PUPIL, "post16-destination"], ["art6-1-a"],
     {"condition": "With consent"}),
    ("cctv-police", "cctv", "police", ["cctv"], ["art6-1-e"],
     {"condition": "On a written police request"}),
    ("advisers", "advisers", "adviser", [*PUPIL, "send"], ["art6-1-e", "art9-2-g"],
     {"recipient_role": "processor"}),
    ("effectiveness-la", "effectiveness", "la", [*PUPIL, "ethnicity", "send"],
     ["art6-1-e", "art9-2-g"], {}),
    ("portal", "post16", "portal", [*PUPIL, *CARE, "safeguarding", "post16-destination"],
     ["art6-1-e", "art9-2-g"],
     {"recipient_role": "processor", "valid_from": POST16[0], "valid_until": POST16[1]}),
    ("post16-provider", "post16", "college", [*PUPIL, *CARE, "safeguarding", "post16-destination"],
     ["art6-1-e", "art9-2-g"],
     {"condition": "once enrolment is confirmed", "valid_from": POST16[0],
      "valid_until": POST16[1]}),
]
# fmt: on


def school_document(i: int) -> dict[str, Any]:
    """The register of school `i`, as the dict a YAML document would load to."""
    s = f"school-{i}"
    shared = {
        "dfe": ("dfe", "Department for Education", "government"),
        "police": (f"police-{i % POLICE}", f"Police force {i % POLICE}", "police"),
        "la": (f"la-{i % AUTHORITIES}", f"Local authority {i % AUTHORITIES}", "local-authority"),
        "care": (f"social-care-{i % AUTHORITIES}", f"Social care {i % AUTHORITIES}", "social-care"),
        "nhs": (f"nhs-{i % AUTHORITIES}", f"NHS trust {i % AUTHORITIES}", "health"),
        "portal": (f"portal-{i % PORTALS}", f"Transition Portal Company {i % PORTALS}", "company"),
        "tracker": (f"tracker-{i % TRACKERS}", f"Progress Tracking Co {i % TRACKERS}", "company"),
        "payments": (f"payments-{i % TRACKERS}", f"Payments Company {i % TRACKERS}", "company"),
        "adviser": (f"adviser-{i % TRACKERS}", f"Advisory Service {i % TRACKERS}", "company"),
        "college": (f"college-{i % COLLEGES}", f"College {i % COLLEGES}", "education-provider"),
    }
    engagements = _portal_engagements(i % PORTALS)
    subs = sorted({e["sub_processor"] for e in engagements})
    organisations = [
        _org(s, f"School {i}", "school"),
        _org("approved-third-parties", "Approved third parties (NPD)", group=True),
        *(_org(*org) for org in shared.values()),
        *(_org(sub, f"Sub-processor {sub.removeprefix('sub-')}", "company") for sub in subs),
    ]
    systems = [
        {"id": f"{s}-{name}", "name": f"{name.upper()} of school {i}", "operator": s}
        for name in ("mis", "safeguarding-records", "finance", "cctv")
    ]
    activities = [
        {
            "id": f"{s}-{key}",
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
        for key, name, valid, cats, bases in ACTIVITIES
    ]
    npd = {
        "id": "npd-onward",
        "activity": "dfe-npd",
        "kind": "onward-disclosure",
        "from": "dfe",
        "to": "approved-third-parties",
        "data_categories": PUPIL,
        "legal_bases": ["art6-1-e", "art9-2-j"],
        "condition": "After DfE approval",
    }
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
                "parent": parent,
                "special": special,
                "criminal_offence": offence,
            }
            for c, parent, special, offence in CATEGORIES
        ],
        "legal_bases": [
            {"id": b, "kind": kind, "title": b.replace("-", " ").upper(), "rests_on": rests}
            for b, kind, rests in BASES
        ],
        "systems": systems,
        "activities": [
            *activities,
            {"id": "dfe-npd", "name": "National Pupil Database", "controller": "dfe"},
        ],
        "flows": [
            *(
                _flow(s, flow, activity, shared[to][0], cats, bases, **extra)
                for flow, activity, to, cats, bases, extra in FLOWS
            ),
            npd,
        ],
        "engagements": engagements,
    }


def school(i: int) -> RopaDocument:
    """School `i`'s register, checked as `ropa apply` checks a document."""
    # Read as a file is read: the generator still writes the v1 form, which the one upgrade
    # turns into the per-use citations of ropa/v2.
    doc = RopaDocument.model_validate(upgrade(school_document(i)))
    problems = check_references(doc)
    if problems:
        raise DocumentInvalid(
            f"synthetic school {i}", [DocumentProblem(format_path(p), r) for p, r in problems]
        )
    return doc
