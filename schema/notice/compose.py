"""Compose a privacy notice from the register: every statement about the processing is the record's.

The only fixed text is what the law itself says: the plain meaning of each Article 6 basis, the
rights UK GDPR gives, and where to complain to the Information Commissioner.
"""

from __future__ import annotations

import datetime as dt

from schema.compliance.index import DocumentIndex
from schema.compliance.validity import in_force
from schema.document import OrganisationKind, ProcessingActivity, RopaDocument
from schema.errors import NotFound
from schema.notice.audience import WHO, activities_for
from schema.notice.model import (
    LEGAL_HEADING,
    Audience,
    Block,
    Notice,
    Section,
    bullets,
    long_date,
    para,
    subheading,
)
from schema.notice.reasons import lawful_bases, plain_reasons
from schema.notice.sharing import sharing_blocks, sharing_citations

ICO_CONCERNS = "https://ico.org.uk/concerns/"

_RIGHTS = [
    "ask for a copy of the information we hold about you (a subject access request)",
    "have inaccurate information corrected, and incomplete information completed",
    "in certain circumstances, have information erased or its use restricted",
    "object to our use of the information, including where it is likely to cause damage or "
    "distress, and to its use for direct marketing at any time",
    "not be subject to decisions made solely by automated means, including profiling, that "
    "have legal or similarly significant effects",
    "where we rely on consent, withdraw it at any time",
    "where we rely on consent or a contract and process it by automated means, receive the "
    "information in a portable form",
    "claim compensation for damage caused by a breach of data protection law",
]


def _dates(activity: ProcessingActivity) -> str:
    if activity.recurs is not None and activity.valid_from is not None:
        last = long_date(activity.valid_until) if activity.valid_until else None
        return " This processing happens " + activity.recurs.series(
            long_date(activity.valid_from), last
        )
    if activity.valid_until is None:
        return ""
    start = f" from {long_date(activity.valid_from)}" if activity.valid_from else ""
    return f" This processing runs{start} to {long_date(activity.valid_until)}."


def activity_statement(index: DocumentIndex, activity: ProcessingActivity) -> str:
    """The statement of 'Why we collect and use this information' about one activity."""
    systems = [s.name for s in index.doc.systems if s.id in activity.systems]
    text = activity.name
    if activity.description:
        text += f": {activity.description.rstrip('.')}"
    if systems:
        text += f" (using: {', '.join(systems)})"
    return text.rstrip(".") + "." + _dates(activity)


def _why(index: DocumentIndex, activities: list[ProcessingActivity]) -> Section:
    purposes = list(dict.fromkeys(p for a in activities for p in a.purposes))
    uses = [activity_statement(index, activity) for activity in activities]
    return Section(
        "Why we collect and use this information",
        [
            para("We collect and use this information to:"),
            bullets(purposes),
            para("In detail:"),
            bullets(uses),
        ],
    )


def category_statement(index: DocumentIndex, category_id: str) -> str | None:
    """The statement of 'The information we collect, hold and share' about one category."""
    category = index.categories.get(category_id)
    if category is None:
        return None
    text = category.name
    if category.examples:
        text += f", for example {', '.join(category.examples)}"
    if category.description:
        text += f" ({category.description.rstrip('.')})"
    if index.special([category_id]):
        text += ". This is special category data, which the law protects more strictly"
    if index.criminal_offence([category_id]):
        text += ". This is criminal offence data, which the law protects more strictly"
    return text + "."


def _categories(index: DocumentIndex, activities: list[ProcessingActivity]) -> Section:
    ids = list(dict.fromkeys(c for a in activities for c in a.data_categories))
    items = [t for c in ids if (t := category_statement(index, c)) is not None]
    return Section("The information we collect, hold and share", [bullets(items)])


def _retention(activities: list[ProcessingActivity]) -> Section:
    items = [f"{a.name}: {a.retention}" for a in activities if a.retention]
    return Section("How long we keep it", [bullets(items)] if items else [])


def _transfers(index: DocumentIndex, activities: list[ProcessingActivity]) -> Section:
    items = [
        f"{a.name}: to {t.country}"
        + (f" ({index.name(t.recipient)})" if t.recipient else "")
        + (f", protected by {t.safeguard}" if t.safeguard else "")
        for a in activities
        for t in a.third_country_transfers
    ]
    if not items:
        return Section(
            "Sending information outside the UK",
            [para("Our record shows no transfers of this information outside the UK.")],
        )
    return Section("Sending information outside the UK", [bullets(items)])


def _automated(activities: list[ProcessingActivity]) -> Section:
    said = [
        f"{a.name}: {a.automated_decision_making}"
        for a in activities
        if a.automated_decision_making
        and not a.automated_decision_making.lower().startswith(("none", "no "))
    ]
    if said:
        return Section(
            "Automated decisions",
            [bullets(said), para("No other decisions about you are made by automated means.")],
        )
    return Section(
        "Automated decisions", [para("No decisions about you are made solely by automated means.")]
    )


def _rights(doc: RopaDocument, controller: str, activities: list[ProcessingActivity]) -> Section:
    index = DocumentIndex(doc)
    org = index.organisations.get(controller)
    contact = org.contact if org else None
    who = (
        ", ".join(v for v in (contact.name, contact.role, contact.email, contact.phone) if v)
        if contact
        else ""
    )
    blocks: list[Block] = [
        para("Under data protection law you have the right to:"),
        bullets(_RIGHTS),
    ]
    ask = "To make a request"
    if org is not None and org.kind is OrganisationKind.SCHOOL:
        ask += ", or to be given access to your child's educational record"
    if who:
        blocks.append(
            para(
                f"{ask}, or if you think information we hold is inaccurate or no longer "
                f"needed, contact {who}."
            )
        )
    limits = [f"{a.name}: {a.rights}" for a in activities if a.rights]
    if limits:
        blocks.append(para("How these rights apply to each use of your information:"))
        blocks.append(bullets(limits))
    consent = [f"{a.name}: {a.consent_record}" for a in activities if a.consent_record]
    if consent:
        blocks.append(
            para(
                "Where we rely on consent, this is how we record it (you can withdraw it at "
                "any time):"
            )
        )
        blocks.append(bullets(consent))
    return Section("Your rights", blocks)


def _contacts(index: DocumentIndex, controller: str) -> Section:
    org = index.organisations.get(controller)
    blocks: list[Block] = []
    if org is not None and org.contact is not None:
        c = org.contact
        blocks.append(
            para(
                "If you would like to discuss anything in this notice, contact "
                + ", ".join(v for v in (c.name, c.role, c.email, c.phone, c.address) if v)
                + "."
            )
        )
    if org is not None and org.dpo is not None:
        d = org.dpo
        blocks.append(
            para(
                "Our Data Protection Officer: "
                + ", ".join(v for v in (d.name, d.email, d.phone) if v)
                + "."
            )
        )
    blocks.append(
        para(
            "If you have a concern about the way we collect or use personal information, raise it "
            f"with us first, or contact the Information Commissioner's Office: {ICO_CONCERNS}"
        )
    )
    return Section("Concerns and contacts", blocks)


def compose(
    doc: RopaDocument, controller: str | None, audience: Audience, as_of: dt.date
) -> Notice:
    """The notice for `audience` about what `controller` (default: the owner) does on `as_of`."""
    controller_id = controller or doc.register_info.owner
    current = in_force(doc, as_of)
    index = DocumentIndex(current)
    org = index.organisations.get(controller_id)
    if org is None:
        raise NotFound("controller", controller_id)
    activities = activities_for(current, controller_id, audience)
    if not activities:
        return Notice(
            title=f"{org.name}: privacy notice for {audience.value}",
            sections=[
                Section(
                    "About this notice",
                    [
                        para(
                            f"Our record of processing activities shows no processing of "
                            f"information about {WHO[audience]} by {org.name} on "
                            f"{long_date(as_of)}."
                        )
                    ],
                )
            ],
        )
    intro = [
        para(
            f"{org.name}"
            + (f", {org.address}," if org.address else "")
            + " is responsible (the controller) for the personal information about "
            + f"{WHO[audience]} described here. This notice explains why we collect it, how we "
            "use it, what we collect, our lawful reasons, who we share it with, how long we "
            "keep it, and your rights."
        )
    ]
    if org.description:
        intro.append(para(org.description))
    # Pupils get plain words; the citations go to a section of their own, at the end.
    plain = audience is Audience.PUPILS
    legal: list[Section] = []
    if plain:
        citations = sharing_citations(index, controller_id, activities)
        legal = [
            lawful_bases(
                index,
                activities,
                heading=LEGAL_HEADING,
                extra=[subheading("When we share information"), bullets(citations)]
                if citations
                else [],
            )
        ]
    return Notice(
        title=f"{org.name}: privacy notice for {audience.value}",
        sections=[
            Section("About this notice", intro),
            _why(index, activities),
            _categories(index, activities),
            plain_reasons(index, activities) if plain else lawful_bases(index, activities),
            Section(
                "Who we share it with, and why",
                sharing_blocks(index, controller_id, activities, plain=plain),
            ),
            _retention(activities),
            _transfers(index, activities),
            _automated(activities),
            _rights(current, controller_id, activities),
            _contacts(index, controller_id),
            *legal,
            Section(
                "Where this notice comes from",
                [
                    para(
                        "Written from our record of processing activities "
                        f"({doc.register_info.name}) as at {long_date(as_of)}."
                    )
                ],
            ),
        ],
    )
