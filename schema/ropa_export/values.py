"""Cell values: how entities of the record read in a spreadsheet cell."""

from __future__ import annotations

from collections.abc import Iterable

from schema.compliance.index import DocumentIndex, describe_basis
from schema.document import (
    Assumption,
    Citation,
    Contact,
    Dpia,
    DpiaStatus,
    LegalBasisKind,
    Organisation,
)

SEP = "; "


def joined(values: Iterable[str | None]) -> str:
    """Non-empty values, in order, without repeats, separated by '; '."""
    seen: list[str] = []
    for value in values:
        if value and value not in seen:
            seen.append(value)
    return SEP.join(seen)


def contact_text(contact: Contact | None) -> str:
    """'Mr A Greaves, School Business Manager, a.greaves@..., 01332 ...'."""
    if contact is None:
        return ""
    return ", ".join(
        v for v in (contact.name, contact.role, contact.email, contact.phone, contact.address) if v
    )


def organisation_text(org: Organisation | None, fallback: str = "") -> str:
    """Name, then how to reach the organisation."""
    if org is None:
        return fallback
    parts = [org.name, org.address, contact_text(org.contact)]
    if org.website:
        parts.append(org.website)
    return ", ".join(p for p in parts if p)


def details_row(label: str, name: str, contact: Contact | None, address: str | None) -> list[str]:
    """One row of the details block: label, name, address, e-mail, telephone."""
    return [
        label,
        name,
        address or (contact.address if contact and contact.address else ""),
        contact.email if contact and contact.email else "",
        contact.phone if contact and contact.phone else "",
    ]


def categories_text(index: DocumentIndex, category_ids: Iterable[str]) -> str:
    """Category names, each special or criminal offence one marked as such."""
    out = []
    for category_id in category_ids:
        category = index.categories.get(category_id)
        if category is None:
            out.append(category_id)
            continue
        marks = []
        if index.special([category_id]):
            marks.append("special category")
        if index.criminal_offence([category_id]):
            marks.append("criminal offence data")
        out.append(f"{category.name} ({', '.join(marks)})" if marks else category.name)
    return joined(out)


def bases_text(index: DocumentIndex, basis_ids: Iterable[str], *kinds: LegalBasisKind) -> str:
    """The bases of the given kinds, described."""
    return joined(
        describe_basis(index.bases[b])
        for b in basis_ids
        if b in index.bases and index.bases[b].kind in kinds
    )


def citations_text(index: DocumentIndex, citations: list[Citation], *kinds: LegalBasisKind) -> str:
    """The citations of the given kinds, each with the law it rests on for this use only."""
    return joined(index.citations_of(citations, *kinds))


def conditions_text(index: DocumentIndex, citations: list[Citation]) -> str:
    """The DPA 2018 Schedule 1 conditions the citations rest on."""
    ids = [law.law for c in citations for law in c.rests_on]
    return bases_text(index, dict.fromkeys(ids), LegalBasisKind.DPA_SCHEDULE_1)


def dpia_required(dpia: Dpia | None) -> str:
    """'Yes', 'No', or '' when the record does not say."""
    if dpia is None:
        return ""
    return "No" if dpia.status is DpiaStatus.NOT_REQUIRED else "Yes"


def dpia_progress(dpia: Dpia | None) -> str:
    """Where the DPIA stands, in words."""
    if dpia is None:
        return ""
    text = {
        DpiaStatus.NOT_REQUIRED: "Not required",
        DpiaStatus.REQUIRED: "Required; not started",
        DpiaStatus.IN_PROGRESS: "In progress",
        DpiaStatus.COMPLETED: "Completed",
    }[dpia.status]
    if dpia.status is DpiaStatus.COMPLETED and dpia.completed_on:
        text += f" on {dpia.completed_on.isoformat()}"
    return f"{text}. {dpia.notes}" if dpia.notes else text


def contact_name(contact: Contact | None) -> str:
    """'Name, role' of a contact, or ''."""
    if contact is None:
        return ""
    name, role = contact.name or "", contact.role or ""
    if role and role.lower() in name.lower():
        return name
    return ", ".join(v for v in (name, role) if v)


def assumption_text(item: Assumption | str, label: str = "") -> str:
    """One assumption as a row says it: who holds it (`label`) and the field it concerns
    ('disclosure 'x', about legal bases: ...'), then what is assumed."""
    if isinstance(item, str):
        return f"{label}: {item}" if label else item
    field = f"about {item.about.replace('_', ' ')}" if item.about else ""
    said = ", ".join(p for p in (label, field) if p)
    return f"{said}: {item.text}" if said else item.text


def assumptions_text(
    own: Iterable[Assumption | str], about: Iterable[tuple[str, Iterable[Assumption]]] = ()
) -> str:
    """A row's assumptions: its entity's own, then each related entity's, named, each with the
    field it concerns (assumption_text)."""
    return joined(
        [
            *(assumption_text(a) for a in own),
            *(assumption_text(a, label) for label, items in about for a in items),
        ]
    )
