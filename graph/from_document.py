"""Turn a validated ROPA document into the entities and links the graph should hold."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from graph import model as m
from schema import document as d
from schema.node_properties import to_props


def _links(kind: str, rel: str, targets: Iterable[str | None]) -> list[m.Link]:
    return [m.Link(rel, kind, t) for t in targets if t is not None]


def _citations(rel: str, citations: Iterable[d.Citation]) -> list[m.Link]:
    """One link per basis; the law this use rests on rides on it, in order (no nulls in lists)."""
    out = []
    for c in citations:
        props: tuple[tuple[str, Any], ...] = ()
        if c.rests_on:
            props = (
                ("provisions", tuple(r.provision or "" for r in c.rests_on)),
                ("restsOn", tuple(r.law for r in c.rests_on)),
            )
        out.append(m.Link(rel, m.LEGAL_BASIS, c.basis, props))
    return out


def _entity(kind: str, entity_id: str, props: dict[str, Any], links: Iterable[m.Link]) -> m.Entity:
    return m.Entity(kind, entity_id, m.clean_props(props), frozenset(links))


# The document models whose instances are nodes of their own.
_Node = (
    d.Organisation
    | d.DataSubjectCategory
    | d.DataCategory
    | d.LegalBasis
    | d.System
    | d.ProcessingActivity
    | d.Flow
    | d.Engagement
)


def node(kind: str, entity: _Node, links: Iterable[m.Link]) -> m.Entity:
    """The entity of a document model instance: its node properties as the model describes
    them (schema.node_properties), and the links the caller makes of its LINKS fields."""
    return _entity(kind, entity.id, to_props(entity), links)


def entities(doc: d.RopaDocument) -> list[m.Entity]:
    """Every entity the document describes, the register node first."""
    info = doc.register_info
    out = [
        _entity(
            m.REGISTER,
            info.id,
            to_props(info),
            [m.Link("OWNED_BY", m.ORGANISATION, info.owner)],
        )
    ]
    out.extend(node(m.ORGANISATION, org, []) for org in doc.organisations)
    out.extend(
        node(m.DATA_SUBJECT, subject, _links(m.DATA_SUBJECT, "PART_OF", [subject.parent]))
        for subject in doc.data_subjects
    )
    out.extend(
        node(m.DATA_CATEGORY, cat, _links(m.DATA_CATEGORY, "PART_OF", [cat.parent]))
        for cat in doc.data_categories
    )
    out.extend(
        node(m.LEGAL_BASIS, basis, _links(m.LEGAL_BASIS, "RESTS_ON", basis.rests_on))
        for basis in doc.legal_bases
    )
    out.extend(
        node(m.SYSTEM, system, _links(m.ORGANISATION, "OPERATED_BY", [system.operator]))
        for system in doc.systems
    )
    out.extend(_activity(act) for act in doc.activities)
    for flow in doc.flows:
        out.append(
            node(
                m.DISCLOSURE,
                flow,
                [
                    m.Link("IN_ACTIVITY", m.ACTIVITY, flow.activity),
                    m.Link("FROM", m.ORGANISATION, flow.source),
                    m.Link("TO", m.ORGANISATION, flow.recipient),
                    *_links(m.DATA_CATEGORY, "CARRIES", flow.data_categories),
                    *_citations("UNDER", flow.legal_bases),
                    *_links(m.SYSTEM, "VIA", [flow.system]),
                ],
            )
        )
    for eng in doc.engagements:
        out.append(
            node(
                m.ENGAGEMENT,
                eng,
                [
                    m.Link("ENGAGED_BY", m.ORGANISATION, eng.processor),
                    m.Link("SUB_PROCESSOR", m.ORGANISATION, eng.sub_processor),
                    *_links(m.DATA_CATEGORY, "COVERS", eng.data_categories),
                    *_links(m.ACTIVITY, "FOR_ACTIVITY", [eng.activity]),
                ],
            )
        )
    return out


def _activity(act: d.ProcessingActivity) -> m.Entity:
    processors = [
        m.Link(
            "PROCESSOR",
            m.ORGANISATION,
            p.organisation,
            tuple(
                sorted(
                    m.clean_props(
                        {
                            "contract": p.contract,
                            "noticePeriodDays": p.notice_period_days,
                            "objectionWindowDays": p.objection_window_days,
                            # A relationship's props are hashed with it: a string, not a list.
                            "placeholders": ",".join(p.placeholders) or None,
                        }
                    ).items()
                )
            ),
        )
        for p in act.processors
    ]
    return node(
        m.ACTIVITY,
        act,
        [
            m.Link("CONTROLLED_BY", m.ORGANISATION, act.controller),
            *_links(m.ORGANISATION, "JOINT_CONTROLLER", act.joint_controllers),
            *processors,
            *_links(m.DATA_SUBJECT, "CONCERNS", act.data_subjects),
            *_links(m.DATA_CATEGORY, "PROCESSES", act.data_categories),
            *_citations("LAWFUL_BASIS", act.legal_bases),
            *_links(m.SYSTEM, "USES_SYSTEM", act.systems),
        ],
    )
