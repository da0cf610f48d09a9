"""Rules on a processor's own record (Article 30(2)): what it must say of itself and of the
processing it carries out for each controller. They run only on such a record (a register
whose owner controls none of its activities and is appointed processor in them:
`schema.compliance.check.processor_of`); the controller's own duties are its register's gaps."""

from __future__ import annotations

from collections.abc import Iterator

from schema.compliance.issues import EntityKind, Severity
from schema.compliance.rule import Context, Duty, Finding, Rule
from schema.compliance.rules_record import reachable

_PROCESSOR = frozenset({Duty.PROCESSOR})

# (field, what the record calls it, the point of Article 30(2) that asks for it)
_ARTICLE_30_2_FIELDS = (
    ("purposes", "categories of processing carried out for the controller", "(b)"),
    ("data_categories", "categories of personal data it processes for the controller", "(b)"),
    ("security_measures", "technical and organisational security measures", "(d)"),
)


def _processor_missing_contact(ctx: Context) -> Iterator[Finding]:
    org = ctx.index.organisations.get(ctx.processor or "")
    if org is None:
        return
    if org.address or reachable(org.contact):
        return
    yield Finding(
        EntityKind.ORGANISATION,
        org.id,
        f"processor {org.name} records no contact details of its own (address, e-mail or "
        "telephone) in its record as processor",
    )


def _processor_record_missing_field(ctx: Context) -> Iterator[Finding]:
    for activity in ctx.doc.activities:
        controller = ctx.index.name(activity.controller)
        for field, label, point in _ARTICLE_30_2_FIELDS:
            if not getattr(activity, field):
                yield Finding(
                    EntityKind.ACTIVITY,
                    activity.id,
                    f"the processing '{activity.name}' for {controller} does not record its "
                    f"{label} ({field})",
                    f"UK GDPR Article 30(2){point}",
                )


RULES: tuple[Rule, ...] = (
    Rule(
        "processor-missing-contact-details",
        Severity.ERROR,
        "A processor's own record with no contact details of the processor",
        "UK GDPR Article 30(2)(a)",
        _processor_missing_contact,
        _PROCESSOR,
    ),
    Rule(
        "processor-record-missing-field",
        Severity.ERROR,
        "A processing in a processor's own record missing a field Article 30(2) requires",
        "UK GDPR Article 30(2)",
        _processor_record_missing_field,
        _PROCESSOR,
    ),
)
