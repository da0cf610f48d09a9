"""What a notice rests on that the record assumes: a list for the DPO, never in the public text.

Each item names the statement of the notice it stands behind (the section and what the
statement is about) and the assumption, as the record holds it on the entity concerned.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from schema.compliance.index import DocumentIndex, describe_basis
from schema.compliance.validity import in_force
from schema.document import LegalBasisKind, RopaDocument, cited_ids
from schema.errors import NotFound
from schema.notice.audience import activities_for
from schema.notice.compose import activity_statement, category_statement
from schema.notice.model import Audience, Block, Notice, Section, long_date, para
from schema.notice.sharing import (
    engagement_statements,
    flow_statements,
    lineage,
    organisation_statements,
)


@dataclass(frozen=True)
class Assumed:
    """One assumption behind one statement of the notice.

    `statements` are the texts the notice prints for the entity the assumption is held on
    (built by the same functions that compose the notice), and `opening` the start of a
    statement about a legal basis: a line gets the mark only when it is one of them, so only
    the statement that rests on the assumption is marked, not every line naming the entity.
    """

    section: str
    statement: str
    assumption: str
    statements: tuple[str, ...] = ()
    opening: str = ""

    def concerns(self, text: str) -> bool:
        """Whether the printed `text` is a statement this assumption stands behind."""
        return text in self.statements or bool(self.opening and text.startswith(self.opening))


MARK = "\u2020"
MARK_NOTE = (
    f"Statements marked {MARK} rest in part on what our record assumes where our sources do "
    "not say. Ask us about any of them (see 'Concerns and contacts')."
)


def assumptions(
    doc: RopaDocument, controller: str | None, audience: Audience, as_of: dt.date
) -> list[Assumed]:
    """The assumptions behind the notice `compose` writes for the same arguments, each tied to
    the statements it stands behind (see `Assumed`)."""
    controller_id = controller or doc.register_info.owner
    index = DocumentIndex(in_force(doc, as_of))
    org = index.organisations.get(controller_id)
    if org is None:
        raise NotFound("controller", controller_id)
    plain = audience is Audience.PUPILS
    activities = activities_for(index.doc, controller_id, audience)
    # The controller's own assumptions stand behind what the notice says of it: its opening.
    opening = f"{org.name}, " if org.address else f"{org.name} is responsible"
    out = [Assumed("About this notice", org.name, a.text, (), opening) for a in org.assumptions]
    why = "Why we collect and use this information"
    for activity in activities:
        said: tuple[str, ...] = (activity_statement(index, activity),)
        out += [Assumed(why, activity.name, a.text, said) for a in activity.assumptions]
        for system in index.doc.systems:
            if system.id in activity.systems:
                label = f"{activity.name}, using {system.name}"
                out += [Assumed(why, label, a.text, said) for a in system.assumptions]
    categories = dict.fromkeys(c for a in activities for c in a.data_categories)
    for category_id in categories:
        category = index.categories.get(category_id)
        text = category_statement(index, category_id)
        if category is not None and text is not None:
            out += [
                Assumed(
                    "The information we collect, hold and share", category.name, a.text, (text,)
                )
                for a in category.assumptions
            ]
    bases = dict.fromkeys(b for a in activities for b in cited_ids(a.legal_bases))
    for basis_id in bases:
        basis = index.bases.get(basis_id)
        if basis is not None:
            named = describe_basis(basis)
            # Its line in "Our lawful reasons" (or the pupils' legal details) opens with it.
            out += [
                Assumed("Our lawful reasons", named, a.text, (), f"{named}, because")
                if basis.kind is LegalBasisKind.ARTICLE_6
                else Assumed("Our lawful reasons", named, a.text, (), f"{named}: for")
                for a in basis.assumptions
            ]
    hops = lineage(index, controller_id, activities)
    sharing = "Who we share it with, and why"
    reached: list[str] = []
    for flow in [*hops.direct, *hops.onward]:
        label = f"{index.name(flow.source)} to {index.name(flow.recipient)} ({flow.id})"
        said = tuple(flow_statements(index, flow, plain))
        out += [Assumed(sharing, label, a.text, said) for a in flow.assumptions]
        reached.append(flow.recipient)
    for engagement in hops.engagements:
        label = (
            f"{index.name(engagement.sub_processor)}, sub-processor of "
            f"{index.name(engagement.processor)}"
        )
        said = tuple(engagement_statements(index, engagement))
        out += [Assumed(sharing, label, a.text, said) for a in engagement.assumptions]
        reached.append(engagement.sub_processor)
    for org_id in dict.fromkeys(reached):
        recipient = index.organisations.get(org_id)
        if recipient is not None:
            said = tuple(organisation_statements(index, org_id, plain))
            out += [Assumed(sharing, recipient.name, a.text, said) for a in recipient.assumptions]
    return list(dict.fromkeys(out))


def mark(notice: Notice, found: list[Assumed]) -> Notice:
    """The notice with each statement that rests on an assumption marked, and a note saying
    what the mark means; the assumptions themselves stay out of it (they are the DPO's)."""
    marked = False

    def one(text: str) -> str:
        nonlocal marked
        if any(item.concerns(text) for item in found):
            marked = True
            return f"{text} {MARK}"
        return text

    sections = []
    for section in notice.sections:
        blocks = [Block(block.kind, tuple(one(t) for t in block.items)) for block in section.blocks]
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
