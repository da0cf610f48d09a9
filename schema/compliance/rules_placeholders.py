"""The rule on placeholders: each value marked as standing in for an unknown one is a gap."""

from __future__ import annotations

from collections.abc import Iterator

from schema.compliance.issues import EntityKind, Severity
from schema.compliance.placeholders import Placeholder, placeholders
from schema.compliance.rule import BOTH, Context, Finding, Rule

# What each commonly marked field is missing, and the law that asks for it.
_NEEDED_BY = {
    "dpo": "UK GDPR Article 37(7), 13(1)(b) and 30(1)(a)",
    "contract": "UK GDPR Article 28(3) and 28(9)",
}
# The same in a processor's own record, which Article 30(2) asks for.
_PROCESSOR_NEEDED_BY = {
    "dpo": "UK GDPR Article 37(7) and 30(2)(a)",
    "contract": "UK GDPR Article 28(3), 28(4) and 28(9)",
}
_PROCESSOR_RECORD = "UK GDPR Article 5(1)(d) and Article 30(2)"


def _processors_own(ctx: Context, found: Placeholder) -> bool:
    """In a processor's own record, whether a placeholder is the processor's to fill: in its
    own details, its engagements or its sub-processors' details (a controller's details and
    activities are its copies of the controller's record, whose gaps they are)."""
    if found.entity_kind is EntityKind.ENGAGEMENT:
        return True
    subs = {e.sub_processor for e in ctx.doc.engagements}
    return found.entity_kind is EntityKind.ORGANISATION and (
        found.entity_id == ctx.processor or found.entity_id in subs
    )


def _placeholder_in_record(ctx: Context) -> Iterator[Finding]:
    for found in placeholders(ctx.doc):
        if ctx.processor is not None and not _processors_own(ctx, found):
            continue
        value = "; ".join(found.texts)
        field = found.field.rpartition(".")[2]
        yield Finding(
            found.entity_kind,
            found.entity_id,
            f"{found.field} is a placeholder ({value}), to be replaced with the real value",
            _NEEDED_BY.get(field)
            if ctx.processor is None
            else _PROCESSOR_NEEDED_BY.get(field, _PROCESSOR_RECORD),
        )


RULES: tuple[Rule, ...] = (
    Rule(
        "placeholder-in-record",
        Severity.ERROR,
        "A value marked as a placeholder (a DPO not named, a contract not found, ...)",
        "UK GDPR Article 5(1)(d) and Article 30(1)",
        _placeholder_in_record,
        BOTH,
    ),
)
