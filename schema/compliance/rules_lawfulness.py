"""Rules on lawful bases: Articles 6, 7, 9 and 10, and DPA 2018 Schedule 1."""

from __future__ import annotations

import re
from collections.abc import Iterator

from schema.compliance.index import describe_basis
from schema.compliance.issues import EntityKind, Severity
from schema.compliance.rule import Context, Finding, Rule
from schema.document import Citation, Flow, LegalBasis, LegalBasisKind, basis_ids, cited_ids

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
            cited_ids(activity.legal_bases),
        )
    for flow in ctx.doc.flows:
        yield (
            EntityKind.FLOW,
            flow.id,
            ctx.flow_label(flow),
            flow.data_categories,
            cited_ids(flow.legal_bases),
        )


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
        if LegalBasisKind.ARTICLE_6 in ctx.index.kinds(basis_ids(flow.legal_bases)):
            continue
        if flow.legal_bases:
            named = ", ".join(cited_ids(flow.legal_bases))
            reason = f"names {named} but no Article 6 lawful basis"
        else:
            reason = "names no lawful basis"
        yield Finding(EntityKind.FLOW, flow.id, f"{ctx.flow_label(flow)} {reason}")


def _activity_without_lawful_basis(ctx: Context) -> Iterator[Finding]:
    for activity in ctx.doc.activities:
        if LegalBasisKind.ARTICLE_6 not in ctx.index.kinds(basis_ids(activity.legal_bases)):
            yield Finding(
                EntityKind.ACTIVITY,
                activity.id,
                f"activity '{activity.name}' names no Article 6 lawful basis",
            )


def _all_bases(ctx: Context, activity_id: str, own: list[Citation]) -> list[str]:
    return cited_ids(own) + ctx.index.flow_bases(activity_id)


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


# "Sch 1 Pt 2 para 18", "Schedule 1, paragraph 6"; ids such as "dpa2018-sch1-para18" are the
# fallback. The paragraph number alone says which Part a condition is in.
_PARAGRAPH = re.compile(r"para(?:graph)?\s*-?\s*(\d+)", re.I)


def needs_policy_document(basis: LegalBasis) -> bool:
    """Whether relying on a Schedule 1 condition needs an appropriate policy document.

    The record's `needs_policy_document` decides when set. Otherwise: paragraph 1 (employment,
    social security and social protection, para 1(1)(b)) and every Part 2 condition, paragraphs
    6 to 28 (para 5(1): "except as otherwise provided"); Part 1 paragraphs 2 to 4 and the Part 3
    conditions do not, though a Part 2 condition reached through para 36 still does.
    """
    if basis.kind is not LegalBasisKind.DPA_SCHEDULE_1:
        return False
    if basis.needs_policy_document is not None:
        return basis.needs_policy_document
    for text in (basis.article or "", basis.id):
        match = _PARAGRAPH.search(text)
        if match:
            number = int(match.group(1))
            return number == 1 or 6 <= number <= 28
    return False


def _schedule_1_without_policy_document(ctx: Context) -> Iterator[Finding]:
    # One finding per controller: the policy document is the controller's, one for all its uses.
    needing: dict[str, dict[str, list[str]]] = {}
    for activity in ctx.doc.activities:
        for basis_id in dict.fromkeys(_all_bases(ctx, activity.id, activity.legal_bases)):
            basis = ctx.index.bases.get(basis_id)
            if basis is not None and needs_policy_document(basis):
                uses = needing.setdefault(activity.controller, {})
                uses.setdefault(describe_basis(basis), []).append(activity.name)
    for controller_id, uses in sorted(needing.items()):
        controller = ctx.index.organisations.get(controller_id)
        if controller is None or controller.appropriate_policy_document:
            continue
        listed = "; ".join(f"{basis} (for {', '.join(names)})" for basis, names in uses.items())
        yield Finding(
            EntityKind.ORGANISATION,
            controller_id,
            f"controller {controller.name} relies on Schedule 1 conditions that need an "
            f"appropriate policy document, and records none (appropriate_policy_document): "
            f"{listed}",
        )


def _consent_without_withdrawal(ctx: Context) -> Iterator[Finding]:
    for activity in ctx.doc.activities:
        bases = _all_bases(ctx, activity.id, activity.legal_bases)
        consent = "a" in ctx.index.points(bases, LegalBasisKind.ARTICLE_6) or "a" in (
            ctx.index.points(bases, LegalBasisKind.ARTICLE_9)
        )
        if consent and not activity.consent_withdrawal:
            yield Finding(
                EntityKind.ACTIVITY,
                activity.id,
                f"activity '{activity.name}' relies on consent but records no way to withdraw "
                "it (consent_withdrawal)",
            )


# Words by which a disclosure says it happens only in an emergency, and words naming another
# route (consent, agreement, a legal duty) that make it routine sharing. Read only when the
# record's structure does not settle it (see `_routine`).
_EMERGENCY = re.compile(r"\bemergenc", re.I)
_OTHER_ROUTE = re.compile(r"\b(consent|agree|law|legal|required|routine|duty|statutory)", re.I)


def _routine(ctx: Context, flow: Flow) -> str | None:
    """Why the flow is routine sharing, or None when the record says it is for emergencies only.

    The structure decides first: a flow that recurs (its own `recurs`, or its activity's) is a
    scheduled, repeated disclosure, which vital interests never cover, whatever its words say.
    The model has no field saying "only in an emergency", so for a flow that does not recur the
    words decide: it is emergency-only when its condition, purpose or frequency says
    "emergency" and names no other route (consent, agreement, law, a duty); otherwise routine.
    """
    activity = ctx.index.activities.get(flow.activity)
    recurs = flow.recurs or (activity.recurs if activity is not None else None)
    if recurs is not None:
        return f"it recurs (every {recurs.every}): routine sharing needs another Article 6 basis"
    said = " ".join(t for t in (flow.condition, flow.purpose, flow.frequency) if t)
    if _EMERGENCY.search(said) and not _OTHER_ROUTE.search(said):
        return None
    return "routine sharing needs another Article 6 basis"


def _vital_interests_only(ctx: Context) -> Iterator[Finding]:
    for flow in ctx.doc.flows:
        if ctx.index.points(basis_ids(flow.legal_bases), LegalBasisKind.ARTICLE_6) != {"d"}:
            continue
        why = _routine(ctx, flow)
        if why is None:
            continue
        yield Finding(
            EntityKind.FLOW,
            flow.id,
            f"{ctx.flow_label(flow)} rests on vital interests (Article 6(1)(d)) alone, which "
            f"covers only a life-or-death emergency where no other basis applies; {why}",
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
    Rule(
        "schedule-1-condition-without-policy-document",
        Severity.ERROR,
        "A DPA 2018 Schedule 1 condition that needs an appropriate policy document, with none",
        "DPA 2018 Schedule 1 paragraphs 1(1)(b), 5(1) and Part 4 (paragraphs 38 to 41)",
        _schedule_1_without_policy_document,
    ),
    Rule(
        "consent-without-withdrawal",
        Severity.ERROR,
        "Consent as the basis with no way recorded to withdraw it",
        "UK GDPR Article 7(3)",
        _consent_without_withdrawal,
    ),
    Rule(
        "vital-interests-only-basis",
        Severity.WARNING,
        "Vital interests as the only Article 6 basis of sharing that is not for emergencies only",
        "UK GDPR Article 6(1)(d) and Recital 46; ICO guidance on vital interests",
        _vital_interests_only,
    ),
)
