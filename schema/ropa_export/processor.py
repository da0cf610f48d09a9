"""The processor record (Article 30(2)): each organisation acting as processor for the controller.

One row per processor and activity: the processors the controller appoints (or discloses to as
processors), and the sub-processors those processors engage, who act for the controller too.
"""

from __future__ import annotations

from schema.compliance.index import DocumentIndex
from schema.document import Assumption, Engagement, Organisation, ProcessingActivity, RecipientRole
from schema.ropa_export import values as v


def _org_cells(org: Organisation | None, fallback: str) -> list[str]:
    if org is None:
        return [fallback, "", ""]
    return [
        v.organisation_text(org),
        v.contact_text(org.dpo),
        v.contact_text(org.representative),
    ]


def _org_assumptions(index: DocumentIndex, org_id: str) -> list[Assumption]:
    org = index.organisations.get(org_id)
    return list(org.assumptions) if org is not None else []


def _transfers(activity: ProcessingActivity | None, org: str) -> tuple[str, str]:
    transfers = [
        t for t in (activity.third_country_transfers if activity else []) if t.recipient == org
    ]
    return (
        v.joined(t.country for t in transfers),
        v.joined(f"{t.country}: {t.safeguard or 'no safeguard recorded'}" for t in transfers),
    )


def _row(
    index: DocumentIndex,
    controller: Organisation | None,
    processor: str,
    activity: ProcessingActivity | None,
    categories: list[str],
    *,
    engaged_by: str = "",
    purpose: str | None = None,
    location: str | None = None,
    contract: str | None = None,
    assumptions: str = "",
) -> list[str]:
    """Cells in the order of `columns.PROCESSOR_COLUMNS`."""
    countries, safeguards = _transfers(activity, processor)
    processing = v.joined(
        [
            activity.name if activity else None,
            purpose or (v.joined(activity.purposes) if activity else None),
        ]
    )
    return [
        *_org_cells(index.organisations.get(processor), processor),
        *_org_cells(controller, ""),
        index.name(engaged_by) if engaged_by else "",
        processing,
        v.categories_text(index, categories),
        location or (activity.location if activity and activity.location else ""),
        countries,
        safeguards,
        v.joined(activity.security_measures) if activity else "",
        contract or "",
        assumptions,
    ]


def processor_rows(index: DocumentIndex, controller_id: str) -> list[list[str]]:
    """Rows of the processor record, by processor name then activity."""
    controller = index.organisations.get(controller_id)
    rows: list[tuple[str, str, list[str]]] = []
    for activity in index.doc.activities:
        flows = [
            f
            for f in index.doc.flows
            if f.activity == activity.id and f.recipient_role is RecipientRole.PROCESSOR
        ]
        appointed = {p.organisation: p.contract for p in activity.processors}
        for flow in flows:
            appointed.setdefault(flow.recipient, None)
        for org, contract in appointed.items():
            carried = [c for f in flows if f.recipient == org for c in f.data_categories]
            flow_contract = next(
                (f.contract for f in flows if f.recipient == org and f.contract), None
            )
            rows.append(
                (
                    index.name(org),
                    activity.name,
                    _row(
                        index,
                        controller,
                        org,
                        activity,
                        list(dict.fromkeys(carried)) or activity.data_categories,
                        contract=contract or flow_contract,
                        assumptions=v.assumptions_text(
                            [],
                            [
                                (f"disclosure '{f.id}'", f.assumptions)
                                for f in flows
                                if f.recipient == org
                            ]
                            + [(index.name(org), _org_assumptions(index, org))],
                        ),
                    ),
                )
            )
    rows.extend(_engagement_row(index, controller, e) for e in index.doc.engagements)
    return [row for _, _, row in sorted(rows, key=lambda r: (r[0], r[1]))]


def _engagement_row(
    index: DocumentIndex, controller: Organisation | None, engagement: Engagement
) -> tuple[str, str, list[str]]:
    activity = index.activities.get(engagement.activity or "")
    row = _row(
        index,
        controller,
        engagement.sub_processor,
        activity,
        engagement.data_categories,
        engaged_by=engagement.processor,
        purpose=engagement.purpose,
        location=engagement.location,
        contract=engagement.contract,
        assumptions=v.assumptions_text(
            engagement.assumptions,
            [
                (
                    index.name(engagement.sub_processor),
                    _org_assumptions(index, engagement.sub_processor),
                )
            ],
        ),
    )
    return index.name(engagement.sub_processor), activity.name if activity else "", row


def processes_for(index: DocumentIndex, processor_id: str) -> list[ProcessingActivity]:
    """The activities `processor_id` carries out for their controllers: those appointing it."""
    return [
        a
        for a in index.doc.activities
        if any(p.organisation == processor_id for p in a.processors)
        or any(
            f.activity == a.id
            and f.recipient == processor_id
            and f.recipient_role is RecipientRole.PROCESSOR
            for f in index.doc.flows
        )
    ]


def own_record_rows(index: DocumentIndex, processor_id: str) -> list[list[str]]:
    """A processor's own record (Article 30(2), from its own register): for each controller it
    acts for, the processing it carries out, then each sub-processor it engages for it."""
    rows: list[list[str]] = []
    activities = sorted(
        processes_for(index, processor_id), key=lambda a: (index.name(a.controller), a.name)
    )
    for activity in activities:
        controller = index.organisations.get(activity.controller)
        appointment = next((p for p in activity.processors if p.organisation == processor_id), None)
        rows.append(
            _row(
                index,
                controller,
                processor_id,
                activity,
                activity.data_categories,
                contract=appointment.contract if appointment else None,
                assumptions=v.assumptions_text(activity.assumptions),
            )
        )
        engaged = [
            e
            for e in index.doc.engagements
            if e.processor == processor_id and e.activity in (None, activity.id)
        ]
        for engagement in sorted(engaged, key=lambda e: index.name(e.sub_processor)):
            rows.append(_engagement_row(index, controller, engagement)[2])
    return rows
