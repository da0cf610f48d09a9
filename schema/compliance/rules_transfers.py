"""Rules on restricted transfers: recipients and sub-processors located outside the UK."""

from __future__ import annotations

from collections.abc import Iterator

from schema.compliance.issues import EntityKind, Severity
from schema.compliance.rule import Context, Finding, Rule

# How a register may write the UK in `Organisation.country` (an ISO 3166 code or a name).
_UK = frozenset(
    {"gb", "gbr", "uk", "united kingdom", "great britain", "england", "scotland", "wales"}
    | {"northern ireland"}
)

# Countries that UK adequacy regulations cover, so that a transfer there needs no further
# safeguard (UK GDPR Article 45; DPA 2018 section 17A and Schedule 21 paragraphs 4 and 5): the
# EEA states, Gibraltar, the countries of the EU adequacy decisions kept at 31 December 2020,
# and the Republic of Korea (The Data Protection (Adequacy) (Republic of Korea) Regulations
# 2022). Source: the ICO's guide to international transfers, "Adequacy regulations". Canada is
# adequate only for PIPEDA-covered organisations and the US only for organisations certified to
# the UK Extension to the EU-US Data Privacy Framework: both need the record to say so, as a
# `third_country_transfers` entry naming the recipient with its safeguard.
_ADEQUATE = frozenset(
    {
        # EEA: the EU 27, Iceland, Liechtenstein and Norway.
        *("at", "be", "bg", "hr", "cy", "cz", "dk", "ee", "fi", "fr", "de", "gr", "hu", "ie"),
        *("it", "lv", "lt", "lu", "mt", "nl", "pl", "pt", "ro", "sk", "si", "es", "se"),
        *("is", "li", "no"),
        *("austria", "belgium", "bulgaria", "croatia", "cyprus", "czechia", "czech republic"),
        *("denmark", "estonia", "finland", "france", "germany", "greece", "hungary"),
        *("ireland", "italy", "latvia", "lithuania", "luxembourg", "malta", "netherlands"),
        *("poland", "portugal", "romania", "slovakia", "slovenia", "spain", "sweden"),
        *("iceland", "liechtenstein", "norway"),
        # Gibraltar, and the EU adequacy decisions the UK kept.
        *("gi", "gibraltar", "ad", "andorra", "ar", "argentina", "fo", "faroe islands"),
        *("gg", "guernsey", "il", "israel", "im", "isle of man", "jp", "japan", "je", "jersey"),
        *("nz", "new zealand", "ch", "switzerland", "uy", "uruguay"),
        # UK adequacy regulations made since.
        *("kr", "republic of korea", "south korea"),
    }
)


def _needs_safeguard(country: str | None) -> bool:
    if country is None or not country.strip():
        return False
    where = country.strip().lower()
    return where not in _UK and where not in _ADEQUATE


def _declared(ctx: Context) -> set[str]:
    # A declared transfer to the organisation, with or without its safeguard: a missing one is
    # `transfer-without-safeguard`'s finding, not this rule's.
    return {
        t.recipient
        for a in ctx.full.activities
        for t in a.third_country_transfers
        if t.recipient is not None
    }


def _outside_uk_without_safeguard(ctx: Context) -> Iterator[Finding]:
    declared = _declared(ctx)

    def unsafe(org_id: str) -> str | None:
        org = ctx.index.organisations.get(org_id)
        if org is None or org_id in declared or not _needs_safeguard(org.country):
            return None
        return org.country

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
        country = unsafe(engagement.sub_processor)
        if country is not None:
            yield Finding(
                EntityKind.ENGAGEMENT,
                engagement.id,
                f"{ctx.index.name(engagement.sub_processor)}, sub-processor of "
                f"{ctx.index.name(engagement.processor)}, is in {country}, which no UK adequacy "
                "regulation covers, and no transfer safeguard is recorded",
            )


RULES: tuple[Rule, ...] = (
    Rule(
        "recipient-outside-uk-without-safeguard",
        Severity.ERROR,
        "A recipient or sub-processor outside the UK with no adequacy regulation or safeguard",
        "UK GDPR Articles 44 to 46; DPA 2018 section 17A",
        _outside_uk_without_safeguard,
    ),
)
