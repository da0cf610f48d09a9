"""Turn a validated ROPA document into the entities and links the graph should hold."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from graph import model as m
from schema import document as d


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


def _contact(prefix: str, contact: d.Contact | None) -> dict[str, Any]:
    if contact is None:
        return {}
    return {
        f"{prefix}Name": contact.name,
        f"{prefix}Role": contact.role,
        f"{prefix}Email": contact.email,
        f"{prefix}Phone": contact.phone,
        f"{prefix}Address": contact.address,
    }


def _recurrence(recurs: d.Recurrence | None) -> dict[str, Any]:
    # Flat properties, so that graph.read.validity can read them in Cypher.
    if recurs is None:
        return {}
    return {"recurEvery": recurs.every, "recurLasts": recurs.lasts, "recurNote": recurs.note}


def _entity(kind: str, entity_id: str, props: dict[str, Any], links: Iterable[m.Link]) -> m.Entity:
    return m.Entity(kind, entity_id, m.clean_props(props), frozenset(links))


def entities(doc: d.RopaDocument) -> list[m.Entity]:
    """Every entity the document describes, the register node first."""
    out = [
        _entity(
            m.REGISTER,
            doc.register_info.id,
            {"name": doc.register_info.name, "description": doc.register_info.description},
            [m.Link("OWNED_BY", m.ORGANISATION, doc.register_info.owner)],
        )
    ]
    for org in doc.organisations:
        out.append(
            _entity(
                m.ORGANISATION,
                org.id,
                {
                    "name": org.name,
                    "kind": org.kind.value,
                    "description": org.description,
                    "address": org.address,
                    "country": org.country,
                    "registration": org.registration,
                    "icoRegistration": org.ico_registration,
                    "website": org.website,
                    "subProcessorList": org.sub_processor_list,
                    "group": org.group,
                    "appropriatePolicyDocument": org.appropriate_policy_document,
                    "placeholders": org.placeholders,
                    "assumptions": org.assumptions,
                    **_contact("contact", org.contact),
                    **_contact("dpo", org.dpo),
                    **_contact("representative", org.representative),
                },
                [],
            )
        )
    for subject in doc.data_subjects:
        out.append(
            _entity(
                m.DATA_SUBJECT,
                subject.id,
                {
                    "name": subject.name,
                    "description": subject.description,
                    "assumptions": subject.assumptions,
                },
                _links(m.DATA_SUBJECT, "PART_OF", [subject.parent]),
            )
        )
    for cat in doc.data_categories:
        out.append(
            _entity(
                m.DATA_CATEGORY,
                cat.id,
                {
                    "name": cat.name,
                    "description": cat.description,
                    "examples": cat.examples,
                    "special": cat.special,
                    "criminalOffence": cat.criminal_offence,
                    "assumptions": cat.assumptions,
                },
                _links(m.DATA_CATEGORY, "PART_OF", [cat.parent]),
            )
        )
    for basis in doc.legal_bases:
        out.append(
            _entity(
                m.LEGAL_BASIS,
                basis.id,
                {
                    "kind": basis.kind.value,
                    "title": basis.title,
                    "article": basis.article,
                    "description": basis.description,
                    "url": basis.url,
                    "needsPolicyDocument": basis.needs_policy_document,
                    "assumptions": basis.assumptions,
                },
                _links(m.LEGAL_BASIS, "RESTS_ON", basis.rests_on),
            )
        )
    for system in doc.systems:
        out.append(
            _entity(
                m.SYSTEM,
                system.id,
                {
                    "name": system.name,
                    "description": system.description,
                    "location": system.location,
                    "assumptions": system.assumptions,
                },
                _links(m.ORGANISATION, "OPERATED_BY", [system.operator]),
            )
        )
    out.extend(_activity(act) for act in doc.activities)
    for flow in doc.flows:
        out.append(
            _entity(
                m.DISCLOSURE,
                flow.id,
                {
                    "kind": flow.kind.value,
                    "recipientRole": flow.recipient_role.value,
                    "purpose": flow.purpose,
                    "condition": flow.condition,
                    "method": flow.method,
                    "frequency": flow.frequency,
                    "contract": flow.contract,
                    "retention": flow.retention,
                    "validFrom": flow.valid_from,
                    "validUntil": flow.valid_until,
                    **_recurrence(flow.recurs),
                    "assumptions": flow.assumptions,
                    "placeholders": flow.placeholders,
                },
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
            _entity(
                m.ENGAGEMENT,
                eng.id,
                {
                    "purpose": eng.purpose,
                    "location": eng.location,
                    "since": eng.since,
                    "until": eng.until,
                    "status": eng.status.value,
                    **_recurrence(eng.recurs),
                    "noticeDate": eng.notice_date,
                    "contract": eng.contract,
                    "assumptions": eng.assumptions,
                    "placeholders": eng.placeholders,
                },
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
    dpia = act.dpia
    transfers = [t.model_dump(mode="json", exclude_none=True) for t in act.third_country_transfers]
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
    return _entity(
        m.ACTIVITY,
        act.id,
        {
            "name": act.name,
            "description": act.description,
            "purposes": act.purposes,
            "recipientCategories": act.recipient_categories,
            "legitimateInterests": act.legitimate_interests,
            "legitimateInterestsAssessment": act.legitimate_interests_assessment,
            "consentRecord": act.consent_record,
            "consentWithdrawal": act.consent_withdrawal,
            "rights": act.rights,
            "automatedDecisionMaking": act.automated_decision_making,
            "source": act.source,
            "location": act.location,
            "retention": act.retention,
            "retentionSchedule": act.retention_schedule,
            "securityMeasures": act.security_measures,
            # A list of maps is not a Neo4j property type; transfers are kept as JSON text.
            "thirdCountryTransfers": json.dumps(transfers, sort_keys=True) if transfers else None,
            "dpiaStatus": dpia.status.value if dpia else None,
            "dpiaLink": dpia.link if dpia else None,
            "dpiaCompletedOn": dpia.completed_on if dpia else None,
            "dpiaNotes": dpia.notes if dpia else None,
            "validFrom": act.valid_from,
            "validUntil": act.valid_until,
            **_recurrence(act.recurs),
            "assumptions": act.assumptions,
            "placeholders": act.placeholders,
        },
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
