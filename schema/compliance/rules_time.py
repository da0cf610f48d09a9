"""Rules on time: processing that has ended must stop flowing."""

from __future__ import annotations

from collections.abc import Iterator

from schema.compliance.issues import EntityKind, Severity
from schema.compliance.rule import Context, Finding, Rule
from schema.document import EngagementStatus


def _ended_with_live_flows(ctx: Context) -> Iterator[Finding]:
    ended = {
        a.id: a
        for a in ctx.full.activities
        if a.valid_until is not None and a.valid_until < ctx.as_of
    }
    for flow in ctx.full.flows:
        activity = ended.get(flow.activity)
        if activity is None or (flow.valid_until is not None and flow.valid_until < ctx.as_of):
            continue
        until = flow.valid_until.isoformat() if flow.valid_until else "no end date"
        yield Finding(
            EntityKind.FLOW,
            flow.id,
            f"{ctx.flow_label(flow)} is still live ({until}) but its activity "
            f"'{activity.name}' ended on {activity.valid_until}",
        )
    for engagement in ctx.full.engagements:
        activity = ended.get(engagement.activity or "")
        if activity is None or engagement.status is EngagementStatus.WITHDRAWN:
            continue
        if engagement.until is not None and engagement.until < ctx.as_of:
            continue
        until = engagement.until.isoformat() if engagement.until else "no end date"
        yield Finding(
            EntityKind.ENGAGEMENT,
            engagement.id,
            f"{ctx.index.name(engagement.sub_processor)} is still engaged by "
            f"{ctx.index.name(engagement.processor)} ({engagement.status.value}, {until}) "
            f"but the activity '{activity.name}' ended on {activity.valid_until}",
        )


RULES: tuple[Rule, ...] = (
    Rule(
        "activity-ended-with-live-flows",
        Severity.ERROR,
        "An activity past its end still with live flows or engagements",
        "UK GDPR Article 5(1)(b) and 5(1)(e)",
        _ended_with_live_flows,
    ),
)
