"""A processor's published sub-processor list on a day: in force, announced, and when to object.

Pure: the page, the GraphQL fields and the objection check all take their answers from here.

An engagement is announced on its `notice_date` (`announcedOn`) and takes effect on its
`since` (`effectiveFrom`); ending it takes effect the day after its `until`. The contract
terms come from each controller's appointment of the processor (an activity's `processors`
entry, the PROCESSOR relationship): `objection_window_days` counts from the announcement.
The objection deadline is the last day an objection is accepted:

- the announcement plus the longest objection window among the contracts that cover the
  engagement (those of its activity, when it names one), or, with no window in any contract,
- the day before the engagement takes effect;
- none when it was never announced (nothing to object to in time).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from schema.document import EngagementStatus
from schema.errors import ErrorCode, RopaError
from schema.graphql.records import EngagementRecord

_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class NoticeTerms:
    """One controller's contract with the processor, for one activity, as its register keeps it."""

    processor_id: str
    activity_id: str
    registers: tuple[str, ...]
    notice_period_days: int | None = None
    objection_window_days: int | None = None


def covering(engagement: EngagementRecord, terms: Iterable[NoticeTerms]) -> list[NoticeTerms]:
    """The contracts whose terms govern changes to this engagement."""
    return [
        t
        for t in terms
        if t.processor_id == engagement.processor_id
        and (engagement.activity_id is None or engagement.activity_id == t.activity_id)
    ]


def objection_deadline(
    engagement: EngagementRecord, terms: Iterable[NoticeTerms]
) -> dt.date | None:
    """The last day a controller may object to the engagement (see the module's rule)."""
    announced = engagement.notice_date
    if announced is None:
        return None
    windows = [
        t.objection_window_days
        for t in covering(engagement, terms)
        if t.objection_window_days is not None
    ]
    if windows:
        return announced + dt.timedelta(days=max(windows))
    if engagement.since is not None:
        return max(announced, engagement.since - _DAY)
    return None


class ObjectionWindowClosed(RopaError):
    """An objection after the deadline, or to an engagement that was never announced."""

    code = ErrorCode.OBJECTION_WINDOW_CLOSED

    def __init__(self, engagement_id: str, deadline: dt.date | None, today: dt.date) -> None:
        self.engagement_id = engagement_id
        self.deadline = deadline
        if deadline is None:
            reason = "it was never announced, so it has no objection window"
        else:
            reason = f"objections closed on {deadline.isoformat()} (today is {today.isoformat()})"
        super().__init__(f"engagement '{engagement_id}' cannot be objected to: {reason}")


def check_objection(
    engagement: EngagementRecord, terms: Iterable[NoticeTerms], today: dt.date
) -> dt.date:
    """The objection deadline, if `today` is on or before it; else ObjectionWindowClosed."""
    deadline = objection_deadline(engagement, terms)
    if deadline is None or today > deadline:
        raise ObjectionWindowClosed(engagement.id, deadline, today)
    return deadline


def objecting_registers(engagement: EngagementRecord, terms: Iterable[NoticeTerms]) -> list[str]:
    """The registers whose contracts with the processor cover the engagement, in order."""
    return sorted({r for t in covering(engagement, terms) for r in t.registers})


def in_force(engagement: EngagementRecord, day: dt.date) -> bool:
    """Whether the engagement applies on `day`: active, and `day` within since..until."""
    return (
        engagement.status is EngagementStatus.ACTIVE
        and (engagement.since is None or engagement.since <= day)
        and (engagement.until is None or day <= engagement.until)
    )


class Coming(StrEnum):
    """What an announced change will do."""

    STARTS = "starts"
    ENDS = "ends"


@dataclass(frozen=True)
class Announcement:
    """A change announced but not yet in force on the day asked about."""

    engagement: EngagementRecord
    coming: Coming
    effective_from: dt.date
    objection_deadline: dt.date | None


@dataclass(frozen=True)
class ListOnDay:
    """What the page shows for one day."""

    day: dt.date
    in_force: tuple[EngagementRecord, ...]
    announced: tuple[Announcement, ...]


def list_on(
    engagements: Sequence[EngagementRecord], terms: Sequence[NoticeTerms], day: dt.date
) -> ListOnDay:
    """The list in force on `day`, and the changes announced by then that take effect later."""
    current = tuple(e for e in engagements if in_force(e, day))
    coming: list[Announcement] = []
    for e in engagements:
        if e.status is EngagementStatus.WITHDRAWN:
            continue
        announced = e.notice_date is None or e.notice_date <= day
        if not announced:
            continue
        if e.since is not None and e.since > day:
            coming.append(Announcement(e, Coming.STARTS, e.since, objection_deadline(e, terms)))
        elif e.status is EngagementStatus.PROPOSED and (e.since is None or e.since <= day):
            # Due, not yet confirmed active (the notifier activates it on its first round).
            coming.append(
                Announcement(e, Coming.STARTS, e.since or day, objection_deadline(e, terms))
            )
        elif in_force(e, day) and e.until is not None:
            coming.append(Announcement(e, Coming.ENDS, e.until + _DAY, None))
    coming.sort(key=lambda a: (a.effective_from, a.engagement.id))
    return ListOnDay(day, current, tuple(coming))
