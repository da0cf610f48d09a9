"""Rules on restricted transfers: recipients and sub-processors located outside the UK."""

from __future__ import annotations

from collections.abc import Iterator

from schema.compliance.countries import named_in, structured
from schema.compliance.issues import EntityKind, Severity
from schema.compliance.rule import BOTH, Context, Finding, Rule


def _declared(ctx: Context) -> set[str]:
    # A declared transfer to the organisation, with or without its safeguard: a missing one is
    # `transfer-without-safeguard`'s finding, not this rule's.
    return {
        t.recipient
        for a in ctx.full.activities
        for t in a.third_country_transfers
        if t.recipient is not None
    }


def _where(country: str | None, location: str | None) -> list[str]:
    """The countries needing a safeguard: the structured one, then those free text names."""
    return list(dict.fromkeys(structured(country) + named_in(location)))


def _outside_uk_without_safeguard(ctx: Context) -> Iterator[Finding]:
    declared = _declared(ctx)

    def unsafe(org_id: str, location: str | None = None) -> str | None:
        org = ctx.index.organisations.get(org_id)
        if org_id in declared:
            return None
        countries = _where(org.country if org is not None else None, location)
        return " and ".join(countries) if countries else None

    for flow in ctx.doc.flows:
        country = unsafe(flow.recipient)
        if country is not None:
            yield Finding(
                EntityKind.FLOW,
                flow.id,
                f"{ctx.flow_label(flow)} goes to {ctx.index.name(flow.recipient)} in {country}, "
                "which no UK adequacy regulation covers, and no transfer safeguard is recorded",
            )
    for engagement in ctx.doc.engagements:
        country = unsafe(engagement.sub_processor, engagement.location)
        if country is not None:
            yield Finding(
                EntityKind.ENGAGEMENT,
                engagement.id,
                f"{ctx.index.name(engagement.sub_processor)}, sub-processor of "
                f"{ctx.index.name(engagement.processor)}, is in {country}, which no UK adequacy "
                "regulation covers, and no transfer safeguard is recorded",
            )
    for activity in ctx.doc.activities:
        # A transfer's country is a code or a name, or (in older records) a phrase naming one.
        transferred = {
            c
            for t in activity.third_country_transfers
            for c in (*structured(t.country), *named_in(t.country))
        }
        missing = [c for c in named_in(activity.location) if c not in transferred]
        if missing:
            yield Finding(
                EntityKind.ACTIVITY,
                activity.id,
                f"activity '{activity.name}' is located in {' and '.join(missing)} "
                f"(location: {activity.location!r}), which no UK adequacy regulation covers, "
                "and declares no transfer there",
            )


RULES: tuple[Rule, ...] = (
    Rule(
        "recipient-outside-uk-without-safeguard",
        Severity.ERROR,
        "A recipient, sub-processor or processing located outside the UK with no adequacy "
        "regulation or safeguard",
        "UK GDPR Articles 44 to 46; DPA 2018 section 17A",
        _outside_uk_without_safeguard,
        BOTH,
    ),
)
