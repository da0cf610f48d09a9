"""Who the information is shared with: the lineage from the controller, in plain words.

From the controller along its disclosures; through each processor to the sub-processors it
engages (and theirs); and on along onward disclosures by those who received it. Works on a
document already narrowed to what applies on the notice's day.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from schema.compliance.index import DocumentIndex
from schema.document import (
    Citation,
    Engagement,
    Flow,
    ProcessingActivity,
    ProcessorAppointment,
    RecipientRole,
)
from schema.notice.model import Block, bullets, long_date, para, subheading


@dataclass(frozen=True)
class Lineage:
    """The disclosures and engagements that carry the audience's information onwards."""

    direct: list[Flow]
    engagements: list[Engagement]
    onward: list[Flow]


def lineage(
    index: DocumentIndex, controller: str, activities: Iterable[ProcessingActivity]
) -> Lineage:
    """Every hop from `controller` within `activities`, breadth first, each org once."""
    kept = {a.id for a in activities}
    direct = [f for f in index.doc.flows if f.source == controller and f.activity in kept]
    engagements: list[Engagement] = []
    onward: list[Flow] = []
    seen = {controller}
    queue = deque(f.recipient for f in direct)
    while queue:
        org = queue.popleft()
        if org in seen:
            continue
        seen.add(org)
        for engagement in index.doc.engagements:
            if engagement.processor == org and (
                engagement.activity is None or engagement.activity in kept
            ):
                engagements.append(engagement)
                queue.append(engagement.sub_processor)
        for flow in index.doc.flows:
            if flow.source == org and flow.activity in kept:
                onward.append(flow)
                queue.append(flow.recipient)
    return Lineage(direct, engagements, onward)


def _names(index: DocumentIndex, category_ids: Iterable[str]) -> str:
    names = [index.categories[c].name if c in index.categories else c for c in category_ids]
    return ", ".join(dict.fromkeys(names))


def _basis(index: DocumentIndex, citations: list[Citation]) -> str:
    return "; ".join(index.citations_of(citations))


def _theirs(index: DocumentIndex, flow: Flow, plain: bool) -> str:
    """'X shares it with Y under its own lawful basis: ...' for another controller's flow."""
    text = f"{index.name(flow.source)} shares it with {index.name(flow.recipient)}"
    if flow.legal_bases and not plain:
        text += f" under its own lawful basis, not ours: {_basis(index, flow.legal_bases)}"
    return text + "."


def _flow_text(index: DocumentIndex, flow: Flow, plain: bool = False) -> str:
    parts = [f"{flow.purpose or 'Shared'}: {_names(index, flow.data_categories)}."]
    if flow.condition:
        parts.append(f"When: {flow.condition.rstrip('.')}.")
    system = next((s for s in index.doc.systems if s.id == flow.system), None)
    if system is not None:
        about = f" ({system.description.rstrip('.')})" if system.description else ""
        parts.append(f"Through: {system.name}{about}.")
    if flow.retention:
        parts.append(f"Kept by them: {flow.retention}.")
    if flow.legal_bases and not plain and not index.by_another_controller(flow):
        parts.append(f"Lawful basis: {_basis(index, flow.legal_bases)}.")
    return " ".join(parts)


def _terms(appointment: ProcessorAppointment | None) -> str | None:
    if appointment is None or appointment.notice_period_days is None:
        return None
    text = (
        f"Our contract requires them to tell us {appointment.notice_period_days} days before "
        "they add or replace a sub-processor"
    )
    if appointment.objection_window_days is not None:
        text += f", and gives us {appointment.objection_window_days} days to object"
    return text + "."


def _engagement_text(index: DocumentIndex, engagement: Engagement) -> str:
    parts = [f"{index.name(engagement.sub_processor)}"]
    if engagement.purpose:
        parts.append(f": {engagement.purpose}")
    details = []
    if engagement.data_categories:
        details.append(f"information: {_names(index, engagement.data_categories)}")
    if engagement.location:
        details.append(f"location: {engagement.location}")
    if engagement.recurs is not None and engagement.since is not None:
        last = long_date(engagement.until) if engagement.until else None
        details.append(engagement.recurs.series(long_date(engagement.since), last).rstrip("."))
    elif engagement.since or engagement.until:
        since = long_date(engagement.since) if engagement.since else "the start"
        until = f"to {long_date(engagement.until)}" if engagement.until else "until further notice"
        details.append(f"from {since} {until}")
    text = "".join(parts)
    return f"{text} ({'; '.join(details)})." if details else f"{text}."


def _about(index: DocumentIndex, org_id: str) -> str:
    """What the record says of an organisation: its description and website."""
    org = index.organisations.get(org_id)
    if org is None:
        return ""
    about = [org.description, f"Website: {org.website}" if org.website else None]
    return " ".join(a.rstrip(".") + "." for a in about if a)


def recipient_headings(index: DocumentIndex, org_id: str) -> tuple[str, str]:
    """The subheadings a recipient may have in 'Who we share it with': as a controller, and
    as our processor."""
    return index.name(org_id), index.name(org_id) + " (processes it for us)"


def organisation_statements(index: DocumentIndex, org_id: str, plain: bool) -> list[str]:
    """The statements that say who an organisation is or what it does in 'Who we share it
    with': its subheading, the sub-processors it uses, each sub-processing it does for a
    processor of ours and each onward disclosure it receives (not every line naming it)."""
    engaged = [e for e in index.doc.engagements if e.sub_processor == org_id]
    return [
        *recipient_headings(index, org_id),
        _uses(index, org_id),
        *(t for e in engaged for t in engagement_statements(index, e)),
        *(_onward_text(index, f, plain) for f in index.doc.flows if f.recipient == org_id),
    ]


def _uses(index: DocumentIndex, processor: str) -> str:
    return f"{index.name(processor)} uses these sub-processors, who handle the information for us:"


def flow_statements(index: DocumentIndex, flow: Flow, plain: bool) -> list[str]:
    """The statements a disclosure is printed as: its bullet under its recipient, or under
    'What happens to it next', and (in a pupils' notice) its citation in the legal details."""
    cited = [_citation_line(index, flow)] if flow.legal_bases else []
    return [_flow_text(index, flow, plain), _onward_text(index, flow, plain), *cited]


def engagement_statements(index: DocumentIndex, engagement: Engagement) -> list[str]:
    """The statement a sub-processor's engagement is printed as, under its processor or among
    'Their sub-processors'."""
    text = _engagement_text(index, engagement)
    return [text, f"{index.name(engagement.processor)} uses {text}"]


def _recipient_blocks(
    index: DocumentIndex, org_id: str, flows: list[Flow], plain: bool
) -> list[Block]:
    processor = any(f.recipient_role is RecipientRole.PROCESSOR for f in flows)
    heading = recipient_headings(index, org_id)[1 if processor else 0]
    blocks = [subheading(heading)]
    about = _about(index, org_id)
    if about:
        blocks.append(para(about))
    blocks.append(bullets([_flow_text(index, f, plain) for f in flows]))
    return blocks


def _onward_text(index: DocumentIndex, flow: Flow, plain: bool) -> str:
    about = _about(index, flow.recipient)
    who = (
        _theirs(index, flow, plain)
        if index.by_another_controller(flow)
        else f"{index.name(flow.source)} may share it with {index.name(flow.recipient)}."
    )
    return " ".join(p for p in (who, about, _flow_text(index, flow, plain)) if p)


def sharing_citations(
    index: DocumentIndex, controller: str, activities: list[ProcessingActivity]
) -> list[str]:
    """The lawful basis of each sharing, for a notice that keeps citations apart."""
    found = lineage(index, controller, activities)
    return [_citation_line(index, f) for f in [*found.direct, *found.onward] if f.legal_bases]


def _citation_line(index: DocumentIndex, flow: Flow) -> str:
    if index.by_another_controller(flow):
        return _theirs(index, flow, plain=False)
    purpose = f" ({flow.purpose.rstrip('.')})" if flow.purpose else ""
    return (
        f"{index.name(flow.source)} to {index.name(flow.recipient)}{purpose}: "
        f"{_basis(index, flow.legal_bases)}."
    )


def sharing_blocks(
    index: DocumentIndex,
    controller: str,
    activities: list[ProcessingActivity],
    plain: bool = False,
) -> list[Block]:
    """The body of 'Who we share it with, and why'; `plain` leaves the legal bases out (they
    go to the notice's own section of legal details)."""
    found = lineage(index, controller, activities)
    if not found.direct:
        return [para("We do not share this information with other organisations.")]
    blocks = [
        para(
            "We share information only where the law allows it. For each organisation we say "
            + (
                "what we share, why and when."
                if plain
                else "what we share, why, when, and our lawful basis."
            )
        )
    ]
    by_recipient: dict[str, list[Flow]] = {}
    for flow in found.direct:
        by_recipient.setdefault(flow.recipient, []).append(flow)
    appointments = {
        p.organisation: p
        for a in activities
        for p in a.processors
        if p.organisation in by_recipient
    }
    for org_id in sorted(by_recipient, key=index.name):
        blocks.extend(_recipient_blocks(index, org_id, by_recipient[org_id], plain))
        subs = [e for e in found.engagements if e.processor == org_id]
        if subs:
            blocks.append(para(_uses(index, org_id)))
            blocks.append(bullets([_engagement_text(index, e) for e in subs]))
        terms = _terms(appointments.get(org_id))
        if terms and subs:
            blocks.append(para(terms))
    deeper = [e for e in found.engagements if e.processor not in by_recipient]
    if deeper:
        blocks.append(subheading("Their sub-processors"))
        blocks.append(
            bullets(
                [f"{index.name(e.processor)} uses {_engagement_text(index, e)}" for e in deeper]
            )
        )
    if found.onward:
        blocks.append(subheading("What happens to it next"))
        blocks.append(bullets([_onward_text(index, f, plain) for f in found.onward]))
    return blocks
