"""Rules on lawful bases: Articles 6, 7, 9 and 10, and DPA 2018 Schedule 1."""

from __future__ import annotations

from collections.abc import Iterator

from schema.compliance.issues import EntityKind, Severity
from schema.compliance.rule import Context, Finding, Rule
from schema.document import LegalBasisKind

# Article 9(2) points that need a DPA 2018 Schedule 1 condition (DPA 2018 s10(2)-(3)).
_NEEDS_SCHEDULE_1 = {"b", "g", "h", "i", "j"}


def _carriers(ctx: Context) -> Iterator[tuple[EntityKind, str, str, list[str], list[str]]]:
    """(kind, id, label, categories, bases) of every activity and disclosure."""
    for activity in ctx.doc.activities:
        yield (
            EntityKind.ACTIVITY,
            activity.id,
            f"activity '{activity.name}'",
            activity.data_categories,
            activity.legal_bases,
        )
    for flow in ctx.doc.flows:
        yield EntityKind.FLOW, flow.id, ctx.flow_label(flow), flow.data_categories, flow.legal_bases


def _special_without_article_9(ctx: Context) -> Iterator[Finding]:
    for kind, entity_id, label, categories, bases in _carriers(ctx):
        special = ctx.index.special(categories)
        if special and LegalBasisKind.ARTICLE_9 not in ctx.index.kinds(bases):
            yield Finding(
                kind,
                entity_id,
                f"{label} processes special category data ({', '.join(special)}) "
                "but names no Article 9 condition",
            )


def _article_9_without_schedule_1(ctx: Context) -> Iterator[Finding]:
    for kind, entity_id, label, _, bases in _carriers(ctx):
        points = sorted(ctx.index.points(bases, LegalBasisKind.ARTICLE_9) & _NEEDS_SCHEDULE_1)
        if points and LegalBasisKind.DPA_SCHEDULE_1 not in ctx.index.kinds(bases):
            named = ", ".join(f"9(2)({p})" for p in points)
            yield Finding(
                kind,
                entity_id,
                f"{label} relies on Article {named}, which needs a condition in DPA 2018 "
                "Schedule 1, but names none",
            )


def _criminal_without_article_10(ctx: Context) -> Iterator[Finding]:
    for kind, entity_id, label, categories, bases in _carriers(ctx):
        offence = ctx.index.criminal_offence(categories)
        if offence and LegalBasisKind.ARTICLE_10 not in ctx.index.kinds(bases):
            yield Finding(
                kind,
                entity_id,
                f"{label} processes criminal offence data ({', '.join(offence)}) "
                "but names no Article 10 basis",
            )


def _disclosure_without_lawful_basis(ctx: Context) -> Iterator[Finding]:
    for flow in ctx.doc.flows:
        if LegalBasisKind.ARTICLE_6 in ctx.index.kinds(flow.legal_bases):
            continue
        if flow.legal_bases:
            reason = f"names {', '.join(flow.legal_bases)} but no Article 6 lawful basis"
        else:
            reason = "names no lawful basis"
        yield Finding(EntityKind.FLOW, flow.id, f"{ctx.flow_label(flow)} {reason}")


def _activity_without_lawful_basis(ctx: Context) -> Iterator[Finding]:
    for activity in ctx.doc.activities:
        if LegalBasisKind.ARTICLE_6 not in ctx.index.kinds(activity.legal_bases):
            yield Finding(
                EntityKind.ACTIVITY,
                activity.id,
                f"activity '{activity.name}' names no Article 6 lawful basis",
            )


def _all_bases(ctx: Context, activity_id: str, own: list[str]) -> list[str]:
    return own + ctx.index.flow_bases(activity_id)


def _consent_without_record(ctx: Context) -> Iterator[Finding]:
    for activity in ctx.doc.activities:
        bases = _all_bases(ctx, activity.id, activity.legal_bases)
        uses = [
            f"Article {article}({paragraph})(a)"
            for kind, article, paragraph in (
                (LegalBasisKind.ARTICLE_6, 6, 1),
                (LegalBasisKind.ARTICLE_9, 9, 2),
            )
            if "a" in ctx.index.points(bases, kind)
        ]
        if uses and not activity.consent_record:
            yield Finding(
                EntityKind.ACTIVITY,
                activity.id,
                f"activity '{activity.name}' relies on consent ({', '.join(uses)}) "
                "but has no record of consent",
            )


def _legitimate_interests_without_assessment(ctx: Context) -> Iterator[Finding]:
    for activity in ctx.doc.activities:
        bases = _all_bases(ctx, activity.id, activity.legal_bases)
        if "f" not in ctx.index.points(bases, LegalBasisKind.ARTICLE_6):
            continue
        if activity.legitimate_interests_assessment:
            continue
        missing = "no link to its legitimate interests assessment"
        if not activity.legitimate_interests:
            missing += ", nor the interests pursued"
        yield Finding(
            EntityKind.ACTIVITY,
            activity.id,
            f"activity '{activity.name}' relies on legitimate interests (Article 6(1)(f)) "
            f"with {missing}",
        )


RULES: tuple[Rule, ...] = (
    Rule(
        "special-category-without-article-9",
        Severity.ERROR,
        "Special category data with no Article 9 condition",
        "UK GDPR Article 9(1)-(2)",
        _special_without_article_9,
    ),
    Rule(
        "article-9-without-schedule-1",
        Severity.ERROR,
        "Article 9(2)(b), (g), (h), (i) or (j) with no DPA 2018 Schedule 1 condition",
        "DPA 2018 s10(2)-(3) and Schedule 1 Parts 1-2",
        _article_9_without_schedule_1,
    ),
    Rule(
        "criminal-offence-without-article-10",
        Severity.ERROR,
        "Criminal offence data with no Article 10 basis",
        "UK GDPR Article 10; DPA 2018 s10(5) and Schedule 1",
        _criminal_without_article_10,
    ),
    Rule(
        "disclosure-without-lawful-basis",
        Severity.ERROR,
        "A disclosure with no Article 6 lawful basis",
        "UK GDPR Article 6(1) and Article 5(1)(a)",
        _disclosure_without_lawful_basis,
    ),
    Rule(
        "activity-without-lawful-basis",
        Severity.ERROR,
        "An activity with no Article 6 lawful basis",
        "UK GDPR Article 6(1); ICO documentation template",
        _activity_without_lawful_basis,
    ),
    Rule(
        "consent-without-record",
        Severity.ERROR,
        "Consent as the basis with no record of consent",
        "UK GDPR Article 7(1)",
        _consent_without_record,
    ),
    Rule(
        "legitimate-interests-without-assessment",
        Severity.ERROR,
        "Legitimate interests with no link to a legitimate interests assessment",
        "UK GDPR Article 6(1)(f) and Article 5(2); ICO guidance on legitimate interests",
        _legitimate_interests_without_assessment,
    ),
)
