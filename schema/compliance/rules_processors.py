"""Rules on processors and sub-processors: Article 28 contracts and notice of changes."""

from __future__ import annotations

from collections.abc import Iterator

from schema.compliance.issues import EntityKind, Severity
from schema.compliance.rule import BOTH, Context, Finding, Rule
from schema.document import Engagement, ProcessingActivity, ProcessorAppointment, RecipientRole


def _appointment(activity: ProcessingActivity | None, org: str) -> ProcessorAppointment | None:
    if activity is None:
        return None
    return next((p for p in activity.processors if p.organisation == org), None)


def _disclosure_without_contract(ctx: Context) -> Iterator[Finding]:
    for flow in ctx.doc.flows:
        if flow.recipient_role is not RecipientRole.PROCESSOR:
            continue
        appointment = _appointment(ctx.index.activities.get(flow.activity), flow.recipient)
        if flow.contract or (appointment is not None and appointment.contract):
            continue
        yield Finding(
            EntityKind.FLOW,
            flow.id,
            f"{ctx.flow_label(flow)} goes to a processor with no link to the processor "
            "contract (neither on the disclosure nor on the activity's processor appointment)",
        )


def _appointment_without_contract(ctx: Context) -> Iterator[Finding]:
    # A processor reached by a disclosure is reported on the disclosure, once.
    for activity in ctx.doc.activities:
        reached = {
            f.recipient
            for f in ctx.doc.flows
            if f.activity == activity.id and f.recipient_role is RecipientRole.PROCESSOR
        }
        for appointment in activity.processors:
            if appointment.contract or appointment.organisation in reached:
                continue
            yield Finding(
                EntityKind.ACTIVITY,
                activity.id,
                f"activity '{activity.name}' appoints {ctx.index.name(appointment.organisation)} "
                "as processor with no link to the processor contract",
            )


def _notice_terms(
    ctx: Context, engagement: Engagement
) -> list[tuple[ProcessingActivity, ProcessorAppointment, int]]:
    """(activity, appointment, days of notice required) for each contract that covers it."""
    out = []
    for activity in ctx.doc.activities:
        if engagement.activity is not None and engagement.activity != activity.id:
            continue
        appointment = _appointment(activity, engagement.processor)
        if appointment is None:
            continue
        terms = [
            days
            for days in (appointment.notice_period_days, appointment.objection_window_days)
            if days is not None
        ]
        if terms:
            out.append((activity, appointment, max(terms)))
    return out


def _sub_processor_notice_too_short(ctx: Context) -> Iterator[Finding]:
    for engagement in ctx.doc.engagements:
        if engagement.since is None:
            continue
        for activity, appointment, required in sorted(
            _notice_terms(ctx, engagement), key=lambda t: -t[2]
        ):
            # Sub-processors in place when the processing starts come with the contract itself;
            # the notice terms govern changes made later.
            if activity.valid_from is not None and engagement.since <= activity.valid_from:
                continue
            terms = f"{appointment.notice_period_days or 0} days' notice"
            if appointment.objection_window_days is not None:
                terms += f", {appointment.objection_window_days} days to object"
            who = (
                f"{ctx.index.name(engagement.sub_processor)} as sub-processor of "
                f"{ctx.index.name(engagement.processor)}"
            )
            if engagement.notice_date is None:
                problem = "with no record of when controllers were told"
            else:
                days = (engagement.since - engagement.notice_date).days
                if days >= required:
                    continue
                problem = f"{days} days after notice on {engagement.notice_date.isoformat()}"
            yield Finding(
                EntityKind.ENGAGEMENT,
                engagement.id,
                f"{who} takes effect on {engagement.since.isoformat()}, {problem}; the contract "
                f"for '{activity.name}' gives {terms}",
            )
            break


RULES: tuple[Rule, ...] = (
    Rule(
        "processor-disclosure-without-contract",
        Severity.ERROR,
        "A disclosure to a processor with no contract link",
        "UK GDPR Article 28(3) and 28(9)",
        _disclosure_without_contract,
    ),
    Rule(
        "processor-appointment-without-contract",
        Severity.ERROR,
        "A processor appointed for an activity with no contract link",
        "UK GDPR Article 28(3) and 28(9)",
        _appointment_without_contract,
    ),
    Rule(
        "sub-processor-notice-too-short",
        Severity.ERROR,
        "A sub-processor engagement effective sooner than the contract's notice period",
        "UK GDPR Article 28(2) and 28(4); the processor contract's notice terms",
        _sub_processor_notice_too_short,
        BOTH,
    ),
)
