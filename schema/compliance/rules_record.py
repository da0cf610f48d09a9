"""Rules on the record itself: Article 30(1) fields, contacts, transfers and DPIAs."""

from __future__ import annotations

from collections.abc import Iterator

from schema.compliance.issues import EntityKind, Severity
from schema.compliance.rule import BOTH, Context, Finding, Rule
from schema.document import Contact, DpiaStatus, Organisation, OrganisationKind, RecipientRole

# (field, what the DPO calls it, the point of Article 30(1) that asks for it)
_ARTICLE_30_FIELDS = (
    ("purposes", "purposes of the processing", "UK GDPR Article 30(1)(b)"),
    ("data_subjects", "categories of individuals", "UK GDPR Article 30(1)(c)"),
    ("data_categories", "categories of personal data", "UK GDPR Article 30(1)(c)"),
    ("recipient_categories", "categories of recipients", "UK GDPR Article 30(1)(d)"),
    ("retention", "retention period (time limits for erasure)", "UK GDPR Article 30(1)(f)"),
    (
        "security_measures",
        "technical and organisational security measures",
        "UK GDPR Article 30(1)(g)",
    ),
)

# Bodies that are public authorities and so must designate a DPO (Article 37(1)(a)).
_PUBLIC_AUTHORITIES = {
    OrganisationKind.SCHOOL,
    OrganisationKind.LOCAL_AUTHORITY,
    OrganisationKind.GOVERNMENT,
    OrganisationKind.POLICE,
    OrganisationKind.HEALTH,
}


def _missing_article_30_field(ctx: Context) -> Iterator[Finding]:
    for activity in ctx.doc.activities:
        for field, label, reference in _ARTICLE_30_FIELDS:
            if not getattr(activity, field):
                yield Finding(
                    EntityKind.ACTIVITY,
                    activity.id,
                    f"activity '{activity.name}' does not record its {label} ({field})",
                    reference,
                )


def _controllers(ctx: Context) -> list[Organisation]:
    ids = {a.controller for a in ctx.doc.activities}
    ids |= {j for a in ctx.doc.activities for j in a.joint_controllers}
    return [ctx.index.organisations[i] for i in sorted(ids) if i in ctx.index.organisations]


def reachable(contact: Contact | None) -> bool:
    """Whether a contact gives a way to reach it (e-mail, telephone or address)."""
    return contact is not None and bool(contact.email or contact.phone or contact.address)


def _controller_missing_contact(ctx: Context) -> Iterator[Finding]:
    for org in _controllers(ctx):
        if not (org.address or reachable(org.contact)):
            yield Finding(
                EntityKind.ORGANISATION,
                org.id,
                f"controller {org.name} has no contact details (address, e-mail or telephone)",
                # A processor's record names each controller it acts for (Article 30(2)(a)).
                None if ctx.processor is None else "UK GDPR Article 30(2)(a)",
            )


def _controller_without_dpo(ctx: Context) -> Iterator[Finding]:
    for org in _controllers(ctx):
        if org.kind in _PUBLIC_AUTHORITIES and org.dpo is None:
            yield Finding(
                EntityKind.ORGANISATION,
                org.id,
                f"controller {org.name} is a public authority ({org.kind.value}) "
                "and records no Data Protection Officer",
            )


def _dpo_missing_contact(ctx: Context) -> Iterator[Finding]:
    for org in _controllers(ctx):
        if org.dpo is not None and not (org.dpo.email or org.dpo.phone):
            yield Finding(
                EntityKind.ORGANISATION,
                org.id,
                f"the Data Protection Officer of {org.name} has no e-mail or telephone recorded",
            )


def _disclosure_without_retention(ctx: Context) -> Iterator[Finding]:
    for flow in ctx.doc.flows:
        if flow.retention:
            continue
        keeper = ctx.index.name(flow.recipient)
        if flow.recipient_role is RecipientRole.PROCESSOR:
            keeper += " (a processor, whose contract must say when it deletes or returns the data)"
        yield Finding(
            EntityKind.FLOW,
            flow.id,
            f"{ctx.flow_label(flow)} records no retention: how long {keeper} keeps the data",
        )


def _transfer_without_safeguard(ctx: Context) -> Iterator[Finding]:
    for activity in ctx.doc.activities:
        for transfer in activity.third_country_transfers:
            if not transfer.safeguard:
                to = f" to {ctx.index.name(transfer.recipient)}" if transfer.recipient else ""
                yield Finding(
                    EntityKind.ACTIVITY,
                    activity.id,
                    f"activity '{activity.name}' transfers personal data{to} in "
                    f"{transfer.country} with no safeguard recorded",
                    None
                    if ctx.processor is None
                    else "UK GDPR Articles 44-46 and 49; Article 30(2)(c)",
                )


def _dpia_required_not_done(ctx: Context) -> Iterator[Finding]:
    for activity in ctx.doc.activities:
        dpia = activity.dpia
        if dpia is None or dpia.status not in (DpiaStatus.REQUIRED, DpiaStatus.IN_PROGRESS):
            continue
        state = (
            "in progress, not completed"
            if dpia.status is DpiaStatus.IN_PROGRESS
            else ("required but not recorded as done")
        )
        start = activity.valid_from
        if start is None or start <= ctx.as_of:
            since = f" since {start.isoformat()}" if start else ""
            when = f"; the processing has been running{since}"
        else:
            when = f"; it must be done before the processing starts on {start.isoformat()}"
        yield Finding(
            EntityKind.ACTIVITY,
            activity.id,
            f"activity '{activity.name}': a DPIA is {state}{when}",
        )


RULES: tuple[Rule, ...] = (
    Rule(
        "activity-missing-article-30-field",
        Severity.ERROR,
        "An activity missing a field Article 30(1) requires",
        "UK GDPR Article 30(1)",
        _missing_article_30_field,
    ),
    Rule(
        "controller-missing-contact-details",
        Severity.ERROR,
        "A controller with no contact details",
        "UK GDPR Article 30(1)(a)",
        _controller_missing_contact,
        BOTH,
    ),
    Rule(
        "controller-without-dpo",
        Severity.ERROR,
        "A public authority controller with no Data Protection Officer",
        "UK GDPR Article 37(1)(a) and Article 30(1)(a)",
        _controller_without_dpo,
    ),
    Rule(
        "dpo-missing-contact-details",
        Severity.WARNING,
        "A Data Protection Officer with no e-mail or telephone",
        "UK GDPR Article 30(1)(a) and Article 37(7)",
        _dpo_missing_contact,
    ),
    Rule(
        "disclosure-without-retention",
        Severity.ERROR,
        "A disclosure that records no retention",
        "UK GDPR Article 5(1)(e), Article 30(1)(f) and Article 28(3)(g)",
        _disclosure_without_retention,
    ),
    Rule(
        "transfer-without-safeguard",
        Severity.ERROR,
        "A third-country transfer with no safeguard",
        "UK GDPR Articles 44-46 and 49; Article 30(1)(e)",
        _transfer_without_safeguard,
        BOTH,
    ),
    Rule(
        "dpia-required-not-done",
        Severity.ERROR,
        "A DPIA required but not done",
        "UK GDPR Article 35(1)",
        _dpia_required_not_done,
    ),
)
