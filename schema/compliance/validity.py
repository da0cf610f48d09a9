"""Which parts of a record apply on a given day: the validity step, kept apart from history.

History (what the values were on a day) is the graph's job; these functions take a document
whose values are already those of the day and keep only what applied then.
"""

from __future__ import annotations

import datetime as dt

from schema.document import (
    Engagement,
    EngagementStatus,
    Flow,
    ProcessingActivity,
    Recurrence,
    RopaDocument,
)
from schema.recurrence import occurrence_on


def valid_on(
    day: dt.date, start: dt.date | None, end: dt.date | None, recurs: Recurrence | None = None
) -> bool:
    """Within `start`..`end` (inclusive, either open) and, when it recurs, within the
    occurrence covering `day`: the one definition of "valid on day D", whose Cypher twin is
    `graph.read.validity.VALID`."""
    if not ((start is None or start <= day) and (end is None or day <= end)):
        return False
    if recurs is None or start is None:
        return True
    return occurrence_on(start, recurs.every, recurs.lasts, day) is not None


def applies_on(entity: ProcessingActivity | Flow, day: dt.date) -> bool:
    """The activity or flow, by its own dates and recurrence, applies on `day`."""
    return valid_on(day, entity.valid_from, entity.valid_until, entity.recurs)


def engagement_in_force(engagement: Engagement, day: dt.date) -> bool:
    """Active, and effective on `day` (`since` and `until` inclusive, within an occurrence)."""
    return engagement.status is EngagementStatus.ACTIVE and valid_on(
        day, engagement.since, engagement.until, engagement.recurs
    )


def in_force(doc: RopaDocument, day: dt.date) -> RopaDocument:
    """Only the activities, flows and engagements that applied on `day`."""
    activities = [a for a in doc.activities if applies_on(a, day)]
    kept = {a.id for a in activities}
    return doc.model_copy(
        update={
            "activities": activities,
            "flows": [f for f in doc.flows if f.activity in kept and applies_on(f, day)],
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
