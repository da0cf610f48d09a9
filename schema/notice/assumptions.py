"""What a notice rests on that the record assumes: a list for the DPO, never in the public text.

Each item names the statement of the notice it stands behind (the section and what the
statement is about) and the assumption, as the record holds it on the entity concerned.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from schema.compliance.index import DocumentIndex, describe_basis
from schema.compliance.validity import in_force
from schema.document import RopaDocument, cited_ids
from schema.errors import NotFound
from schema.notice.audience import activities_for
from schema.notice.model import Audience, Block, Notice, Section, long_date, para
from schema.notice.sharing import lineage


@dataclass(frozen=True)
class Assumed:
    """One assumption behind one statement of the notice.

    `subject` is the name the statement prints (an activity, a category, a basis, an
    organisation): a statement of `section` that prints it rests on the assumption.
    """

    section: str
    statement: str
    assumption: str
    subject: str = ""


MARK = "\u2020"
MARK_NOTE = (
    f"Statements marked {MARK} rest in part on what our record assumes where our sources do "
    "not say. Ask us about any of them (see 'Concerns and contacts')."
)


def assumptions(
    doc: RopaDocument, controller: str | None, audience: Audience, as_of: dt.date
) -> list[Assumed]:
    """The assumptions behind the notice `compose` writes for the same arguments."""
    controller_id = controller or doc.register_info.owner
    index = DocumentIndex(in_force(doc, as_of))
    org = index.organisations.get(controller_id)
    if org is None:
        raise NotFound("controller", controller_id)
    activities = activities_for(index.doc, controller_id, audience)
    out = [Assumed("About this notice", org.name, a, org.name) for a in org.assumptions]
    for activity in activities:
        out += [
            Assumed("Why we collect and use this information", activity.name, a, activity.name)
            for a in activity.assumptions
        ]
        for system in index.doc.systems:
            if system.id in activity.systems:
                out += [
                    Assumed(
                        "Why we collect and use this information",
                        f"{activity.name}, using {system.name}",
                        a,
                        system.name,
                    )
                    for a in system.assumptions
                ]
    categories = dict.fromkeys(c for a in activities for c in a.data_categories)
    for category_id in categories:
        category = index.categories.get(category_id)
        if category is not None:
            out += [
                Assumed(
                    "The information we collect, hold and share", category.name, a, category.name
                )
                for a in category.assumptions
            ]
    bases = dict.fromkeys(b for a in activities for b in cited_ids(a.legal_bases))
    for basis_id in bases:
        basis = index.bases.get(basis_id)
        if basis is not None:
            out += [
                Assumed("Our lawful reasons", describe_basis(basis), a, describe_basis(basis))
                for a in basis.assumptions
            ]
    hops = lineage(index, controller_id, activities)
    sharing = "Who we share it with, and why"
    reached: list[str] = []
    for flow in [*hops.direct, *hops.onward]:
        label = f"{index.name(flow.source)} to {index.name(flow.recipient)} ({flow.id})"
        out += [Assumed(sharing, label, a, index.name(flow.recipient)) for a in flow.assumptions]
        reached.append(flow.recipient)
    for engagement in hops.engagements:
        label = (
            f"{index.name(engagement.sub_processor)}, sub-processor of "
            f"{index.name(engagement.processor)}"
        )
        out += [
            Assumed(sharing, label, a, index.name(engagement.sub_processor))
            for a in engagement.assumptions
        ]
        reached.append(engagement.sub_processor)
    for org_id in dict.fromkeys(reached):
        recipient = index.organisations.get(org_id)
        if recipient is not None:
            out += [
                Assumed(sharing, recipient.name, a, recipient.name) for a in recipient.assumptions
            ]
    return list(dict.fromkeys(out))


def mark(notice: Notice, found: list[Assumed]) -> Notice:
    """The notice with each statement that prints an assumed subject marked, and a note saying
    what the mark means; the assumptions themselves stay out of it (they are the DPO's)."""
    by_section: dict[str, set[str]] = {}
    for item in found:
        if item.subject:
            by_section.setdefault(item.section, set()).add(item.subject)
    marked = False

    def one(section: str, text: str) -> str:
        nonlocal marked
        if any(subject in text for subject in by_section.get(section, ())):
            marked = True
            return f"{text} {MARK}"
        return text

    sections = []
    for section in notice.sections:
        blocks = [
            Block(block.kind, tuple(one(section.heading, t) for t in block.items))
            for block in section.blocks
        ]
        sections.append(Section(section.heading, blocks))
    if marked:
        sections.append(Section("About the marks in this notice", [para(MARK_NOTE)]))
    return replace(notice, sections=sections)


def to_markdown(found: list[Assumed], title: str, as_of: dt.date) -> str:
    """The list as Markdown, headed as the DPO's and not for publication."""
    lines = [
        f"# Assumptions behind: {title}",
        "",
        f"For the Data Protection Officer, not for publication. As at {long_date(as_of)}, each "
        "statement of the notice named here rests on what the record assumes, not on what it "
        "knows. Confirm each, or correct the record.",
        "",
    ]
    section = None
    for item in found:
        if item.section != section:
            section = item.section
            lines += [f"## {section}", ""]
        lines.append(f"- {item.statement}: {item.assumption}")
    if not found:
        lines.append("The notice rests on no assumption the record holds.")
    return "\n".join(lines).rstrip() + "\n"
