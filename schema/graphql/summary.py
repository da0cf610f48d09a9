"""`registerSummary`: the counts, the coming dates and the trends a compliance dashboard shows.

Each figure would otherwise take a client a pass over several lists; here it is computed from
the controller's record as it stood on the day (the same document `complianceIssues` checks),
and the trends from the change log. docs/api-connections.md lists the fields.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any

import strawberry

from schema.access.policy import Forbidden
from schema.compliance.check import check
from schema.compliance.graphql_types import ComplianceDocuments, ComplianceEntityKind
from schema.compliance.index import DocumentIndex
from schema.compliance.validity import in_force
from schema.document import (
    DpiaStatus,
    EngagementStatus,
    LegalBasisKind,
    RopaDocument,
    basis_ids,
)
from schema.errors import NotFound
from schema.graphql.access import Info, resolver
from schema.graphql.activity import Objection
from schema.graphql.records import RefKind
from schema.graphql.time_arguments import RecordedAt, recorded, resolve
from schema.recorded_at import end_of_day

HORIZON_DAYS = 90
TREND_MONTHS = 6
LATEST = 10


@strawberry.type(description="How many items share a key")
class KeyCount:
    key: str = strawberry.field(description="The key: a rule id, a severity, a basis, ...")
    label: str = strawberry.field(description="The key in words")
    count: int


@strawberry.type(description="A month's figure: YYYY-MM and a count")
class MonthCount:
    month: str
    count: int


@strawberry.enum(description="What happens on an upcoming date")
class UpcomingKind(enum.Enum):
    ENGAGEMENT_STARTS = "engagement-starts"
    ENGAGEMENT_ENDS = "engagement-ends"
    OBJECTION_WINDOW_CLOSES = "objection-window-closes"
    DPIA_DUE = "dpia-due"
    ACTIVITY_STARTS = "activity-starts"
    ACTIVITY_ENDS = "activity-ends"


@strawberry.type(description="Something that comes up on a date in the register")
class UpcomingEvent:
    date: dt.date
    kind: UpcomingKind
    entity_kind: ComplianceEntityKind
    entity_id: str
    description: str


@strawberry.type(description="One recorded change to the register")
class ChangeEntry:
    sequence: int
    occurred_at: str = strawberry.field(description="When it was recorded (ISO 8601, UTC)")
    actor: str | None = strawberry.field(
        description="Who made it; null unless the caller may read the register's people"
    )
    op: str = strawberry.field(
        description="CREATED, UPDATED or DELETED; DECLARED or RELEASED where the register takes "
        "up or lets go of an entity another register declares too"
    )
    entity_kind: str
    entity_id: str


@strawberry.type(description="A controller's record on a day, in figures")
class RegisterSummary:
    controller_id: str
    controller_name: str
    as_of: dt.date
    activities: int = strawberry.field(description="Activities in force that day")
    activities_by_lawful_basis: list[KeyCount] = strawberry.field(
        description="Activities in force per Article 6 basis (an activity may have several)"
    )
    special_category_flows: int = strawberry.field(
        description="Disclosures in force carrying special category data (Article 9)"
    )
    criminal_offence_flows: int = strawberry.field(
        description="Disclosures in force carrying criminal offence data (Article 10)"
    )
    recipients: int = strawberry.field(description="Organisations receiving disclosures")
    processors: int = strawberry.field(
        description="Organisations acting as processors (appointed, or receiving as processor)"
    )
    sub_processors: int = strawberry.field(description="Sub-processors engaged that day")
    third_country_transfers: int = strawberry.field(
        description="Transfers to third countries named by activities in force"
    )
    issues: int = strawberry.field(description="Gaps found that day")
    issues_by_severity: list[KeyCount]
    issues_by_rule: list[KeyCount]
    upcoming: list[UpcomingEvent] = strawberry.field(
        description="What comes up after the day, within the horizon, soonest first"
    )
    gaps_per_month: list[MonthCount] = strawberry.field(
        description="Gaps at the end of each of the last months (the record as it stood then)"
    )
    changes_per_month: list[MonthCount] = strawberry.field(
        description="Changes recorded per month in the controller's registers"
    )
    latest_changes: list[ChangeEntry] = strawberry.field(
        description="The newest changes recorded in the controller's registers, newest first"
    )
    objections: list[Objection] = strawberry.field(
        description="The newest objections belonging to the register (those it made, and "
        "those made to the engagements of the processor whose register it is), newest first"
    )


@dataclass(frozen=True)
class _Figures:
    activities: int
    by_basis: list[KeyCount]
    special_flows: int
    criminal_flows: int
    recipients: int
    processors: int
    sub_processors: int
    transfers: int


def _counts(items: Iterable[tuple[str, str]]) -> list[KeyCount]:
    counted = Counter(items)
    return [
        KeyCount(key=key, label=label, count=n)
        for (key, label), n in sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def figures(doc: RopaDocument, day: dt.date) -> _Figures:
    """The counts of the record on `day`."""
    now = in_force(doc, day)
    index = DocumentIndex(now)
    bases: list[tuple[str, str]] = []
    for activity in now.activities:
        for basis_id in basis_ids(activity.legal_bases):
            basis = index.bases.get(basis_id)
            if basis is not None and basis.kind is LegalBasisKind.ARTICLE_6:
                label = f"{basis.title} ({basis.article})" if basis.article else basis.title
                bases.append((basis.id, label))
    processors = {p.organisation for a in now.activities for p in a.processors}
    processors |= {f.recipient for f in now.flows if f.recipient_role.value == "processor"}
    return _Figures(
        activities=len(now.activities),
        by_basis=_counts(bases),
        special_flows=sum(1 for f in now.flows if index.special(f.data_categories)),
        criminal_flows=sum(1 for f in now.flows if index.criminal_offence(f.data_categories)),
        recipients=len({f.recipient for f in now.flows}),
        processors=len(processors),
        sub_processors=len({e.sub_processor for e in now.engagements}),
        transfers=sum(len(a.third_country_transfers) for a in now.activities),
    )


def upcoming(doc: RopaDocument, day: dt.date, horizon_days: int) -> list[UpcomingEvent]:
    """Dates after `day` and within the horizon: engagements and activities starting or
    ending, objection windows closing, DPIAs needed before (or while) an activity runs."""
    end = day + dt.timedelta(days=horizon_days)
    index = DocumentIndex(doc)
    found: list[UpcomingEvent] = []

    def add(
        when: dt.date | None, kind: UpcomingKind, entity: ComplianceEntityKind, key: str, text: str
    ) -> None:
        if when is not None and day < when <= end:
            found.append(
                UpcomingEvent(
                    date=when, kind=kind, entity_kind=entity, entity_id=key, description=text
                )
            )

    windows: dict[str, int] = {}
    for activity in doc.activities:
        for p in activity.processors:
            if p.objection_window_days is not None:
                windows[p.organisation] = max(
                    windows.get(p.organisation, 0), p.objection_window_days
                )
    for e in doc.engagements:
        if e.status is EngagementStatus.WITHDRAWN:
            continue
        who = f"{index.name(e.sub_processor)} for {index.name(e.processor)}"
        add(
            e.since,
            UpcomingKind.ENGAGEMENT_STARTS,
            ComplianceEntityKind.ENGAGEMENT,
            e.id,
            f"{who} starts",
        )
        add(
            e.until,
            UpcomingKind.ENGAGEMENT_ENDS,
            ComplianceEntityKind.ENGAGEMENT,
            e.id,
            f"{who} ends",
        )
        if e.notice_date is not None and e.processor in windows:
            closes = e.notice_date + dt.timedelta(days=windows[e.processor])
            add(
                closes,
                UpcomingKind.OBJECTION_WINDOW_CLOSES,
                ComplianceEntityKind.ENGAGEMENT,
                e.id,
                f"the window to object to {who} closes",
            )
    for a in doc.activities:
        add(
            a.valid_from,
            UpcomingKind.ACTIVITY_STARTS,
            ComplianceEntityKind.ACTIVITY,
            a.id,
            f"{a.name} starts",
        )
        add(
            a.valid_until,
            UpcomingKind.ACTIVITY_ENDS,
            ComplianceEntityKind.ACTIVITY,
            a.id,
            f"{a.name} ends",
        )
        if a.dpia is not None and a.dpia.status in (DpiaStatus.REQUIRED, DpiaStatus.IN_PROGRESS):
            # Due before the processing starts; one already running is overdue: due now.
            due = a.valid_from if a.valid_from and a.valid_from > day else day + dt.timedelta(1)
            add(
                due,
                UpcomingKind.DPIA_DUE,
                ComplianceEntityKind.ACTIVITY,
                a.id,
                f"DPIA for {a.name} ({a.dpia.status.value})",
            )
    return sorted(found, key=lambda u: (u.date, u.kind.value, u.entity_id))


def month_ends(day: dt.date, months: int) -> list[dt.date]:
    """The last day of each of the `months` months up to `day`'s (that one: `day` itself)."""
    ends = [day]
    first = day.replace(day=1)
    for _ in range(months - 1):
        last = first - dt.timedelta(days=1)
        ends.append(last)
        first = last.replace(day=1)
    return list(reversed(ends))


def _documents(info: Info) -> ComplianceDocuments:
    found = info.context.compliance_documents
    if found is None:
        raise LookupError("the request context has no compliance_documents loader")
    return found


async def _gaps_then(
    documents: ComplianceDocuments, controller: str, day: dt.date, recorded_at: dt.datetime | None
) -> int:
    try:
        # Each month's gaps in the record as it was recorded by the end of that month (or by
        # the record's moment, if that came first).
        moment = end_of_day(day) if recorded_at is None else min(end_of_day(day), recorded_at)
        record = await documents.controller_document(controller, moment)
        return len(check(record, day))
    except NotFound:
        # Nothing recorded for the controller yet on that day.
        return 0


@strawberry.type
class SummaryQuery:
    @resolver(
        description="A controller's record on `asOf` (default today) in figures: counts, "
        "gaps by severity and rule, what comes up within `horizonDays` (default 90), and gaps "
        "and changes per month over the last `months` (1 to 12, default 6), and the `latest` "
        "(0 to 100, default 10) changes; FORBIDDEN outside the caller's scope. With "
        "`recordedAt`, all of it in the record as recorded then: its figures, and the gaps, "
        "changes and objections recorded by then"
    )
    async def register_summary(
        self,
        info: Info,
        controller: Annotated[
            str | None,
            strawberry.argument(description="An id or a name; none: the one register owner"),
        ] = strawberry.UNSET,
        as_of: Annotated[
            dt.date | None, strawberry.argument(description="The day; default today")
        ] = strawberry.UNSET,
        horizon_days: int | None = HORIZON_DAYS,
        months: int | None = TREND_MONTHS,
        latest: int | None = LATEST,
        recorded_at: RecordedAt = strawberry.UNSET,
    ) -> RegisterSummary:
        at = recorded(info, recorded_at)
        given: Any = None if controller in (None, strawberry.UNSET) else controller
        day: dt.date = info.context.today if as_of in (None, strawberry.UNSET) else as_of
        horizon = HORIZON_DAYS if horizon_days is None else max(0, min(horizon_days, 3660))
        span = TREND_MONTHS if months is None else max(1, min(months, 12))
        key = await resolve(info, RefKind.ORGANISATION, given, at)
        documents = _documents(info)
        # asOf is the day the processing is valid, in the record read (as complianceIssues).
        doc = await documents.controller_document(key, at)
        register = doc.register_info.id
        scope = info.context.scope
        if not scope.reads([register]):
            raise Forbidden(f"register {register!r} is outside the caller's scope")
        controller_id = key or doc.register_info.owner
        ends = month_ends(day, span)
        count = LATEST if latest is None else max(0, min(latest, 100))
        gaps, changes, newest, objected = await asyncio.gather(
            asyncio.gather(*(_gaps_then(documents, controller_id, end, at) for end in ends)),
            info.context.reader.changes_per_month(controller_id, at),
            info.context.reader.latest_changes(controller_id, count, at),
            info.context.reader.register_objections(register, at),
        )
        people = scope.reads_people([register])
        issues = check(doc, day)
        numbers = figures(doc, day)
        months_shown = {end.strftime("%Y-%m") for end in ends}
        name = DocumentIndex(doc).name(controller_id)
        return RegisterSummary(
            controller_id=controller_id,
            controller_name=name,
            as_of=day,
            activities=numbers.activities,
            activities_by_lawful_basis=numbers.by_basis,
            special_category_flows=numbers.special_flows,
            criminal_offence_flows=numbers.criminal_flows,
            recipients=numbers.recipients,
            processors=numbers.processors,
            sub_processors=numbers.sub_processors,
            third_country_transfers=numbers.transfers,
            issues=len(issues),
            issues_by_severity=_counts((i.severity.value, i.severity.value) for i in issues),
            issues_by_rule=_counts((i.rule_id, i.rule_id) for i in issues),
            upcoming=upcoming(doc, day, horizon),
            gaps_per_month=[
                MonthCount(month=end.strftime("%Y-%m"), count=n)
                for end, n in zip(ends, gaps, strict=True)
            ],
            changes_per_month=[
                MonthCount(month=m, count=n) for m, n in changes if m in months_shown
            ],
            latest_changes=[
                ChangeEntry(
                    sequence=c.sequence,
                    occurred_at=c.occurred_at,
                    actor=c.actor if people else None,
                    op=c.op,
                    entity_kind=c.entity_type,
                    entity_id=c.entity_id,
                )
                for c in newest
            ],
            objections=[Objection.from_record(o) for o in objected],
        )
