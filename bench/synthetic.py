"""A synthetic register for benchmarks: N schools sharing recipients, processors and
sub-processors, one register document per school, as a local authority's DPO would keep them.

Each school has the shape of the shipped example: statutory returns to the DfE (shared onward
disclosure to approved third parties), safeguarding to its police force, social care and local
authority, health referrals, a progress-tracking and a payments processor, and a post-16
transfer through one of a few transition portals, each portal engaging several of a pool of
sub-processors. Documents are written in the current form, ropa/v2 (each basis cited with the
law it rests on for that use), and validated like `ropa apply` validates a file.
"""

from __future__ import annotations

from typing import Any

from schema.document import DOCUMENT_VERSION, RopaDocument
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
    ("education-act-1996", "statute"),
    ("reg5", "statute"),
    ("children-act-2004", "statute"),
    ("dpa-2018", "statute"),
    ("art6-1-a", "article-6"),
    ("art6-1-c", "article-6"),
    ("art6-1-e", "article-6"),
    ("art9-2-a", "article-9"),
    ("art9-2-g", "article-9"),
    ("art9-2-h", "article-9"),
    ("art9-2-j", "article-9"),
    ("art10", "article-10"),
]


def _cite(basis: str, *laws: str | tuple[str, str]) -> dict[str, Any]:
    """One use of a basis, ropa/v2's citation: the basis with the law it rests on there."""
    return {
        "basis": basis,
        "rests_on": [{"law": x[0], "provision": x[1]} if isinstance(x, tuple) else x for x in laws],
    }


# The citations the schools use, each with the law behind that use only (as the shipped
# example cites them): Regulation 5 only for the census, the Children Act for safeguarding.
EA_S537A = ("education-act-1996", "s537A")
CENSUS = _cite("art6-1-c", EA_S537A, ("reg5", "Regulation 5"))
RETURN = _cite("art6-1-c", EA_S537A)
DUTY = _cite("art6-1-c", "education-act-1996")
SG_DUTY = _cite("art6-1-c", ("children-act-2004", "s11"))
SG_TASK = _cite("art6-1-e", ("children-act-2004", "s11"))
TASK = _cite("art6-1-e", "education-act-1996")
CONSENT, EXPLICIT = _cite("art6-1-a"), _cite("art9-2-a")
PUBLIC_INTEREST = _cite("art9-2-g", ("dpa-2018", "Sch 1 para 6"))
SG_INTEREST = _cite("art9-2-g", ("dpa-2018", "Sch 1 para 18"))
HEALTH = _cite("art9-2-h", ("dpa-2018", "Sch 1 para 2"))
OFFENCES = _cite("art10", ("dpa-2018", "Sch 1 para 18"))
NPD = [_cite("art6-1-e", EA_S537A), _cite("art9-2-j", ("dpa-2018", "Sch 1 para 4"))]
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
    bases: list[dict[str, Any]],
    **kw: Any,
) -> dict[str, Any]:
    return {
        "id": f"{school}-{flow}",
        "activity": f"{school}-{activity}",
        "from": school,
        "to": to,
        "data_categories": categories,
        "legal_bases": bases,
        "valid_from": kw.pop("valid_from", SINCE),
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
# (activity, name, validity, categories, citations): the school's activities.
ACTIVITIES: list[tuple[str, str, tuple[str, str] | None, list[str], list[dict[str, Any]]]] = [
    ("returns", "Statutory returns", None, [*PUPIL, "ethnicity", "send"],
     [CENSUS, PUBLIC_INTEREST]),
    ("safeguarding", "Safeguarding", None, [*PUPIL, *SG, "social-care", "medical"],
     [SG_DUTY, SG_TASK, SG_INTEREST, OFFENCES]),
    ("send", "SEND and EHC plans", None, [*PUPIL, *CARE], [DUTY, PUBLIC_INTEREST, HEALTH]),
    ("medical", "Medical needs", None, [*PUPIL, "medical"], [TASK, HEALTH]),
    ("attendance", "Attendance", None, PUPIL, [DUTY]),
    ("progress", "Progress tracking", None, PUPIL, [TASK]),
    ("behaviour", "Behaviour and exclusions", None, [*PUPIL, "send"], [DUTY, PUBLIC_INTEREST]),
    ("meals", "School meal payments", None, ["personal-information", "financial"], [TASK]),
    ("referrals", "Referrals", None, [*PUPIL, *CARE, "post16-destination"],
     [CONSENT, EXPLICIT, HEALTH]),
    ("communications", "Communications with parents", None, PUPIL[:2], [TASK, CONSENT]),
    ("cctv", "CCTV and photographs", None, ["personal-information", "cctv"], [TASK]),
    ("effectiveness", "School effectiveness", None, [*PUPIL, "ethnicity", "send"],
     [TASK, PUBLIC_INTEREST]),
    ("advisers", "Advisers and consultants", None, [*PUPIL, "send"], [TASK, PUBLIC_INTEREST]),
    ("post16", "Post-16 transfer", POST16, [*PUPIL, *CARE, "safeguarding", "post16-destination"],
     [TASK, PUBLIC_INTEREST]),
]

# (flow, activity, recipient, categories, citations, extra fields): the school's flows; the
# recipient names a role that `school_document` maps to a shared organisation.
FLOWS: list[tuple[str, str, str, list[str], list[dict[str, Any]], dict[str, Any]]] = [
    ("census", "returns", "dfe", [*PUPIL, "ethnicity", "send"],
     [CENSUS, PUBLIC_INTEREST], {}),
    ("returns-la", "returns", "la", [*PUPIL, "send"], [RETURN], {}),
    ("sg-police", "safeguarding", "police", [*PUPIL[:2], *SG, "medical"],
     [SG_TASK, OFFENCES, SG_INTEREST],
     {"condition": "When a child is at risk of significant harm"}),
    ("sg-care", "safeguarding", "care", [*PUPIL, *SG, "social-care", "medical"],
     [SG_DUTY, SG_INTEREST, OFFENCES], {}),
    ("sg-la", "safeguarding", "la", [*PUPIL, *SG], [SG_DUTY], {}),
    ("send-la", "send", "la", [*PUPIL, *CARE], [DUTY, PUBLIC_INTEREST], {}),
    ("send-nhs", "send", "nhs", [*PUPIL[:2], *CARE], [TASK, HEALTH], {}),
    ("medical-nhs", "medical", "nhs", [*PUPIL[:2], "medical"], [HEALTH, TASK], {}),
    ("attendance-la", "attendance", "la", PUPIL, [DUTY], {}),
    ("exclusions-la", "behaviour", "la", [*PUPIL[:2], "behaviour", "send"],
     [DUTY, PUBLIC_INTEREST], {}),
    ("tracking", "progress", "tracker", PUPIL, [TASK], {"recipient_role": "processor"}),
    ("meals", "meals", "payments", ["personal-information", "financial"], [TASK],
     {"recipient_role": "processor"}),
    ("counselling", "referrals", "care", [*PUPIL[:2], *CARE], [CONSENT, EXPLICIT],
     {"condition": "With consent"}),
    ("careers", "referrals", "college", [*PUPIL, "post16-destination"], [CONSENT],
     {"condition": "With consent"}),
    ("cctv-police", "cctv", "police", ["cctv"], [TASK],
     {"condition": "On a written police request"}),
    ("advisers", "advisers", "adviser", [*PUPIL, "send"], [TASK, PUBLIC_INTEREST],
     {"recipient_role": "processor"}),
    ("effectiveness-la", "effectiveness", "la", [*PUPIL, "ethnicity", "send"],
     [TASK, PUBLIC_INTEREST], {}),
    ("portal", "post16", "portal", [*PUPIL, *CARE, "safeguarding", "post16-destination"],
     [TASK, PUBLIC_INTEREST],
     {"recipient_role": "processor", "valid_from": POST16[0], "valid_until": POST16[1]}),
    ("post16-provider", "post16", "college", [*PUPIL, *CARE, "safeguarding", "post16-destination"],
     [TASK, PUBLIC_INTEREST],
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
        "legal_bases": NPD,
        "condition": "After DfE approval",
    }
    return {
        "version": DOCUMENT_VERSION,
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
            {"id": b, "kind": kind, "title": b.replace("-", " ").upper()} for b, kind in BASES
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
    doc = RopaDocument.model_validate(school_document(i))
    problems = check_references(doc)
    if problems:
        raise DocumentInvalid(
            f"synthetic school {i}", [DocumentProblem(format_path(p), r) for p, r in problems]
        )
    return doc
