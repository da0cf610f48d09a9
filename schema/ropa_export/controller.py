"""The controller record (Article 30(1)): one row per processing activity, ICO columns."""

from __future__ import annotations

from schema.compliance.index import DocumentIndex
from schema.document import LegalBasisKind, ProcessingActivity, RecipientRole
from schema.ropa_export import values as v
from schema.ropa_export.columns import ASSUMPTIONS, CONTROLLER_COLUMNS


def _contracts(index: DocumentIndex, activity: ProcessingActivity) -> str:
    links: dict[str, str | None] = {p.organisation: p.contract for p in activity.processors}
    for flow in index.doc.flows:
        if flow.activity == activity.id and flow.recipient_role is RecipientRole.PROCESSOR:
            links[flow.recipient] = links.get(flow.recipient) or flow.contract
    return v.joined(
        f"{index.name(org)}: {link or 'no contract link recorded'}"
        for org, link in sorted(links.items(), key=lambda item: index.name(item[0]))
    )


def _sensitive(index: DocumentIndex, activity: ProcessingActivity) -> bool:
    categories = activity.data_categories
    return bool(index.special(categories) or index.criminal_offence(categories))


def _assumptions(index: DocumentIndex, activity: ProcessingActivity) -> str:
    flows = [f for f in index.doc.flows if f.activity == activity.id]
    placeholders = [
        f"placeholder: {p.organisation}'s {field}"
        for p in activity.processors
        for field in p.placeholders
    ] + [f"placeholder: disclosure '{f.id}' {field}" for f in flows for field in f.placeholders]
    return v.assumptions_text(
        [*activity.assumptions, *placeholders],
        [(f"disclosure '{f.id}'", f.assumptions) for f in flows],
    )


def activity_row(index: DocumentIndex, activity: ProcessingActivity, controller: str) -> list[str]:
    """The activity's cells, in the order of `CONTROLLER_COLUMNS`."""
    bases = activity.legal_bases
    transfers = activity.third_country_transfers
    article_6 = v.citations_text(index, bases, LegalBasisKind.ARTICLE_6)
    schedule_1 = v.conditions_text(index, bases)
    article_10 = v.citations_text(index, bases, LegalBasisKind.ARTICLE_10)
    others = [activity.controller, *activity.joint_controllers]
    joint = [o for o in others if o != controller] if activity.joint_controllers else []
    dpia = activity.dpia
    retention = activity.retention or ""
    if activity.recurs is not None and activity.valid_from is not None:
        last = activity.valid_until.isoformat() if activity.valid_until else None
        series = activity.recurs.series(activity.valid_from.isoformat(), last)
        retention = v.joined([retention, f"Recurs {series}"])
    if activity.retention_schedule:
        retention = v.joined([retention, f"Schedule: {activity.retention_schedule}"])
    row = {
        "Business function": activity.name,
        "Purpose of processing": v.joined(activity.purposes),
        "Name and contact details of joint controller (if applicable)": v.joined(
            v.organisation_text(index.organisations.get(o), o) for o in joint
        ),
        "Categories of individuals": v.joined(
            next((s.name for s in index.doc.data_subjects if s.id == sid), sid)
            for sid in activity.data_subjects
        ),
        "Categories of personal data": v.categories_text(index, activity.data_categories),
        "Categories of recipients": v.joined(activity.recipient_categories),
        "Link to contract with processor": _contracts(index, activity),
        CONTROLLER_COLUMNS[7]: v.joined(
            f"{t.country} ({index.name(t.recipient)})" if t.recipient else t.country
            for t in transfers
        ),
        CONTROLLER_COLUMNS[8]: v.joined(
            f"{t.country}: {t.safeguard or 'no safeguard recorded'}"
            + (f" ({t.documentation})" if t.documentation else "")
            for t in transfers
        ),
        "Retention schedule (if possible)": retention,
        CONTROLLER_COLUMNS[10]: v.joined(activity.security_measures),
        "Article 6 lawful basis for processing personal data": article_6,
        "Article 9 condition for processing special category data": v.citations_text(
            index, bases, LegalBasisKind.ARTICLE_9
        ),
        "Legitimate interests for the processing (if applicable)": (
            activity.legitimate_interests or ""
        ),
        "Link to record of legitimate interests assessment (if applicable)": (
            activity.legitimate_interests_assessment or ""
        ),
        "Rights available to individuals": activity.rights or "",
        CONTROLLER_COLUMNS[16]: activity.automated_decision_making or "",
        "The source of the personal data (if applicable)": activity.source or "",
        "Link to record of consent": activity.consent_record or "",
        "Location of personal data": activity.location or "",
        "Data Protection Impact Assessment required?": v.dpia_required(dpia),
        "Data Protection Impact Assessment progress": v.dpia_progress(dpia),
        "Link to Data Protection Impact Assessment": (dpia.link or "") if dpia else "",
        # The register does not record breaches; these stay for the DPO to fill.
        "Has a personal data breach occurred?": "",
        "Link to record of personal data breach": "",
        "Data Protection Act 2018 Schedule 1 Condition for processing": v.joined(
            [schedule_1, f"Criminal offence data: {article_10}" if article_10 else None]
        ),
        "GDPR Article 6 lawful basis for processing": (
            article_6 if _sensitive(index, activity) else ""
        ),
        "Link to retention and erasure policy document": activity.retention_schedule or "",
        CONTROLLER_COLUMNS[28]: "",
        CONTROLLER_COLUMNS[29]: "",
        ASSUMPTIONS: _assumptions(index, activity),
    }
    return [row[column] for column in CONTROLLER_COLUMNS]
