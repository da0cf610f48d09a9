"""What a notice rests on that the record assumes: a list for the DPO, never in the public text.

Each item names the statement of the notice it stands behind (the section and what the
statement is about) and the assumption, as the record holds it on the entity concerned. An
assumption about the whole entity stands behind the statements the notice prints for it; one
about a field (`about`) behind the places that print that field only (schema.notice.field_marks).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from schema.compliance.index import DocumentIndex, describe_basis
from schema.compliance.validity import in_force
from schema.document import LegalBasisKind, RopaDocument, cited_ids
from schema.errors import NotFound
from schema.notice.audience import activities_for
from schema.notice.compose import activity_statement, category_statement, compose
from schema.notice.field_marks import FieldPlaces, Place
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
    # The field of the entity it is about (None: the whole entity), and where the notice
    # prints that field: the marks of an assumption about a field go there only.
    about: str | None = None
    places: tuple[Place, ...] = ()

    def concerns(self, text: str) -> bool:
        """Whether the printed `text` is a statement this assumption stands behind as a whole."""
        return text in self.statements or bool(self.opening and text.startswith(self.opening))

    def marks(self) -> bool:
        """Whether it marks any statement of the notice."""
        return bool(self.statements or self.opening or self.places)

    def marks_in(self, text: str) -> list[int | None]:
        """Where in the printed `text` this assumption's marks go (None: at its end)."""
        return [p.at for p in self.places if p.statement == text]


MARK = "\u2020"
# What may stand between two places that get one mark.
_BETWEEN = " )];,:"
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
    places = FieldPlaces(doc, lambda changed: compose(changed, controller, audience, as_of))

    def held(
        section: str, label: str, entity: Any, said: tuple[str, ...] = (), opening: str = ""
    ) -> list[Assumed]:
        out = []
        for a in entity.assumptions:
            found = places.of(entity, a.about) if a.about else None
            if found is None:
                out.append(Assumed(section, label, a.text, said, opening, a.about))
            else:
                # Listed under the section that prints the field, if one does.
                where = found[0].section if found else section
                out.append(Assumed(where, label, a.text, about=a.about, places=found))
        return out

    # The controller's own assumptions stand behind what the notice says of it: its opening.
    opening = f"{org.name}, " if org.address else f"{org.name} is responsible"
    out = held("About this notice", org.name, org, (), opening)
    why = "Why we collect and use this information"
    for activity in activities:
        said: tuple[str, ...] = (activity_statement(index, activity),)
        out += held(why, activity.name, activity, said)
        for system in index.doc.systems:
            if system.id in activity.systems:
                label = f"{activity.name}, using {system.name}"
                out += held(why, label, system, said)
    categories = dict.fromkeys(c for a in activities for c in a.data_categories)
    for category_id in categories:
        category = index.categories.get(category_id)
        text = category_statement(index, category_id)
        if category is not None and text is not None:
            out += held(
                "The information we collect, hold and share", category.name, category, (text,)
            )
    bases = dict.fromkeys(b for a in activities for b in cited_ids(a.legal_bases))
    for basis_id in bases:
        basis = index.bases.get(basis_id)
        if basis is not None:
            named = describe_basis(basis)
            # Its line in "Our lawful reasons" (or the pupils' legal details) opens with it.
            start = (
                f"{named}, because" if basis.kind is LegalBasisKind.ARTICLE_6 else f"{named}: for"
            )
            out += held("Our lawful reasons", named, basis, (), start)
    hops = lineage(index, controller_id, activities)
    sharing = "Who we share it with, and why"
    reached: list[str] = []
    for flow in [*hops.direct, *hops.onward]:
        label = f"{index.name(flow.source)} to {index.name(flow.recipient)} ({flow.id})"
        said = tuple(flow_statements(index, flow, plain))
        out += held(sharing, label, flow, said)
        reached.append(flow.recipient)
    for engagement in hops.engagements:
        label = (
            f"{index.name(engagement.sub_processor)}, sub-processor of "
            f"{index.name(engagement.processor)}"
        )
        said = tuple(engagement_statements(index, engagement))
        out += held(sharing, label, engagement, said)
        reached.append(engagement.sub_processor)
    for org_id in dict.fromkeys(reached):
        recipient = index.organisations.get(org_id)
        if recipient is not None:
            said = tuple(organisation_statements(index, org_id, plain))
            out += held(sharing, recipient.name, recipient, said)
    return list(dict.fromkeys(out))


def mark(notice: Notice, found: list[Assumed]) -> Notice:
    """The notice with each statement that rests on an assumption marked, and a note saying
    what the mark means; the assumptions themselves stay out of it (they are the DPO's)."""
    marked = False

    def one(text: str) -> str:
        nonlocal marked
        ats = {at for item in found for at in item.marks_in(text)}
        at_end = None in ats or any(item.concerns(text) for item in found)
        kept: list[int] = []
        for at in sorted(a for a in ats if a is not None):
            # One mark for places only punctuation apart ("purposes) †)", not "† ) †").
            if not kept or text[kept[-1] : at].strip(_BETWEEN):
                kept.append(at)
        if kept and at_end and not text[kept[-1] :].strip(_BETWEEN + "."):
            kept.pop()
        for at in reversed(kept):
            text = f"{text[:at].rstrip()} {MARK}{text[at:]}"
        marked = marked or at_end or bool(ats)
        return f"{text} {MARK}" if at_end else text

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
        about = f" ({item.about.replace('_', ' ')})" if item.about else ""
        nowhere = " (not printed in the notice)" if item.about and not item.marks() else ""
        lines.append(f"- {item.statement}{about}{nowhere}: {item.assumption}")
    if not found:
        lines.append("The notice rests on no assumption the record holds.")
    return "\n".join(lines).rstrip() + "\n"
