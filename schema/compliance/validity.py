"""Which parts of a record apply on a given day: the validity step, kept apart from history.

History (what the values were on a day) is the graph's job; these functions take a document
whose values are already those of the day and keep only what applied then.
"""

from __future__ import annotations

import datetime as dt

from schema.document import Engagement, EngagementStatus, RopaDocument


def _within(day: dt.date, start: dt.date | None, end: dt.date | None) -> bool:
    return (start is None or start <= day) and (end is None or day <= end)


def engagement_in_force(engagement: Engagement, day: dt.date) -> bool:
    """Active, and effective on `day` (`since` and `until` inclusive)."""
    return engagement.status is EngagementStatus.ACTIVE and _within(
        day, engagement.since, engagement.until
    )


def in_force(doc: RopaDocument, day: dt.date) -> RopaDocument:
    """Only the activities, flows and engagements that applied on `day`."""
    activities = [a for a in doc.activities if _within(day, a.valid_from, a.valid_until)]
    kept = {a.id for a in activities}
    return doc.model_copy(
        update={
            "activities": activities,
            "flows": [
                f
                for f in doc.flows
                if f.activity in kept and _within(day, f.valid_from, f.valid_until)
            ],
            "engagements": [
                e
                for e in doc.engagements
                if (e.activity is None or e.activity in kept) and engagement_in_force(e, day)
            ],
        }
    )


def not_ended(doc: RopaDocument, day: dt.date) -> RopaDocument:
    """What applies on `day` or is planned after it: everything not ended or withdrawn by then."""
    activities = [a for a in doc.activities if a.valid_until is None or a.valid_until >= day]
    kept = {a.id for a in activities}
    return doc.model_copy(
        update={
            "activities": activities,
            "flows": [
                f
                for f in doc.flows
                if f.activity in kept and (f.valid_until is None or f.valid_until >= day)
            ],
            "engagements": [
                e
                for e in doc.engagements
                if (e.activity is None or e.activity in kept)
                and e.status is not EngagementStatus.WITHDRAWN
                and (e.until is None or e.until >= day)
            ],
        }
    )
