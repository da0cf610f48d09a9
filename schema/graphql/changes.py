"""The change feed in GraphQL: `SubProcessorChange`, webhook endpoints, and their root fields.

`changes` reads the recorded history, which is public while processors' lists are
(`ROPA_PUBLIC_READS`), else cut to the caller's registers; the actor only to those whose scope
holds the change's register. `webhooks` lists the webhook endpoints the caller administers.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, Any

import strawberry

from schema.access.policy import ReadScope, require_writer
from schema.document import EngagementStatus, OrganisationKind
from schema.errors import ErrorCode, RopaError
from schema.graphql.access import Info, loaders, many, resolver
from schema.graphql.arguments import given as _given
from schema.graphql.records import OrganisationRecord, RefKind
from schema.graphql.reference import DataCategory, Organisation, categories
from schema.graphql.writes import ChangeRecord, History, WebhookData, Writer

MAX_FIRST = 500


class InvalidArgument(RopaError):
    """An argument out of its range."""

    code = ErrorCode.BAD_USER_INPUT


@strawberry.enum(description="What happened to an engagement")
class SubProcessorChangeType(enum.Enum):
    ADDED = "ADDED"
    CHANGED = "CHANGED"
    # Ended (endEngagement), withdrawn, or taken out of the register.
    REMOVED = "REMOVED"


@strawberry.enum(description="Whether the notifier delivers to a webhook endpoint")
class WebhookStatus(enum.Enum):
    ACTIVE = "active"
    DISABLED = "disabled"
    FAILED = "failed"


def _history(info: Info) -> History | None:
    history: History | None = info.context.history
    return history


async def organisation(info: Info, organisation_id: str) -> Organisation:
    """The organisation with this id; one taken out of the register since still renders, as
    it was last recorded (or, failing that, by its id alone)."""
    found = await loaders(info).organisations.load(organisation_id)
    history = _history(info)
    if found is None and history is not None:
        found = await history.organisation(organisation_id)
    if found is None:
        found = OrganisationRecord(
            id=organisation_id, name=organisation_id, kind=OrganisationKind.OTHER
        )
    return Organisation.from_record(found)


def _date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if isinstance(value, str) and value else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


@strawberry.type(description="An engagement as a change recorded it, before or after the change")
class EngagementSnapshot:
    id: strawberry.ID
    processor_id: strawberry.ID | None
    sub_processor_id: strawberry.ID | None
    purpose: str | None
    category_ids: list[strawberry.ID] = strawberry.field(
        description="The categories of data covered, by id (including any since removed)"
    )
    activity_id: strawberry.ID | None
    location: str | None
    since: dt.date | None = strawberry.field(description="Effective date")
    until: dt.date | None = strawberry.field(description="Last day of the engagement")
    status: EngagementStatus | None
    notice_date: dt.date | None = strawberry.field(description="When controllers were told")
    contract: str | None

    @classmethod
    def from_view(cls, view: dict[str, Any] | None) -> EngagementSnapshot | None:
        """From a change's engagement view (graph.subprocessor_changes.engagement_view)."""
        if view is None:
            return None
        status = _text(view.get("status"))
        return cls(
            id=strawberry.ID(str(view.get("id"))),
            processor_id=_id(view.get("processor")),
            sub_processor_id=_id(view.get("subProcessor")),
            purpose=_text(view.get("purpose")),
            category_ids=[strawberry.ID(str(c)) for c in view.get("dataCategories") or []],
            activity_id=_id(view.get("activity")),
            location=_text(view.get("location")),
            since=_date(view.get("since")),
            until=_date(view.get("until")),
            status=EngagementStatus(status) if status else None,
            notice_date=_date(view.get("noticeDate")),
            contract=_text(view.get("contract")),
        )

    @strawberry.field
    async def processor(self, info: Info) -> Organisation | None:
        return await organisation(info, self.processor_id) if self.processor_id else None

    @strawberry.field
    async def sub_processor(self, info: Info) -> Organisation | None:
        return await organisation(info, self.sub_processor_id) if self.sub_processor_id else None

    @resolver(description="The categories of data covered that are still in the register")
    async def categories(self, info: Info) -> list[DataCategory]:
        return categories(await many(loaders(info).categories, [str(c) for c in self.category_ids]))


def _id(value: Any) -> strawberry.ID | None:
    return strawberry.ID(value) if isinstance(value, str) and value else None


@strawberry.type(description="One change to a processor's sub-processors, as recorded")
class SubProcessorChange:
    id: strawberry.ID = strawberry.field(
        description="Stable and unique: the cursor to resume after (`after`), and the webhook-id"
    )
    sequence: int = strawberry.field(
        description="The register's gap-free change sequence; increasing, with gaps where "
        "other things changed"
    )
    type: SubProcessorChangeType
    occurred_at: dt.datetime = strawberry.field(description="When the change was recorded")
    effective_from: dt.date = strawberry.field(
        description="The first day it applies: the engagement's since; for a removal (an "
        "engagement ended, withdrawn or taken out of the register) the day after its until; "
        "else the day it was recorded"
    )
    before: EngagementSnapshot | None = strawberry.field(description="null when ADDED")
    after: EngagementSnapshot | None = strawberry.field(
        description="null when the engagement was taken out of the register; an ended or "
        "withdrawn one (REMOVED) is shown as it now stands"
    )
    actor: str | None = strawberry.field(
        description="Who made the change: a token's name, or the CLI user; null unless the "
        "caller's scope holds a register the change belongs to"
    )
    processor_id: strawberry.Private[str]
    sub_processor_id: strawberry.Private[str]

    @classmethod
    def from_record(cls, record: ChangeRecord, scope: ReadScope) -> SubProcessorChange:
        """The GraphQL view of a recorded change, as `scope` may see it (the actor is a
        person's name, for those whose scope holds the change's register only)."""
        return cls(
            id=strawberry.ID(record.id),
            sequence=record.sequence,
            type=SubProcessorChangeType(record.type),
            occurred_at=record.occurred_at,
            effective_from=record.effective_from,
            before=EngagementSnapshot.from_view(record.before),
            after=EngagementSnapshot.from_view(record.after),
            actor=record.actor if scope.reads_people(record.registers) else None,
            processor_id=record.processor,
            sub_processor_id=record.sub_processor,
        )

    @resolver(description="The processor whose sub-processors changed")
    async def processor(self, info: Info) -> Organisation:
        return await organisation(info, self.processor_id)

    @strawberry.field
    async def sub_processor(self, info: Info) -> Organisation:
        return await organisation(info, self.sub_processor_id)


@strawberry.type(description="An endpoint the notifier delivers sub-processor changes to")
class Webhook:
    id: strawberry.ID
    url: str
    status: WebhookStatus
    cursor: int = strawberry.field(
        description="The change sequence it has been served up to; it gets the changes after"
    )
    created_at: dt.datetime
    created_by: str
    attempts: int = strawberry.field(description="Failed attempts at the next change")
    failing_since: dt.datetime | None
    next_attempt_at: dt.datetime | None
    last_error: str | None
    last_delivered_at: dt.datetime | None
    registers: list[strawberry.ID] | None = strawberry.field(
        description="The registers whose changes it is sent: the scope of the principal that "
        "registered it; null: every register (an admin's)"
    )
    processor_id: strawberry.Private[str | None]

    @classmethod
    def from_record(cls, record: WebhookData) -> Webhook:
        """The GraphQL view of an endpoint (which holds no secret)."""
        return cls(
            id=strawberry.ID(record.id),
            url=record.url,
            status=WebhookStatus(record.status),
            cursor=record.cursor,
            created_at=record.created_at,
            created_by=record.created_by,
            attempts=record.attempts,
            failing_since=record.failing_since,
            next_attempt_at=record.next_attempt_at,
            last_error=record.last_error,
            last_delivered_at=record.last_delivered_at,
            registers=None
            if record.registers is None
            else [strawberry.ID(r) for r in sorted(record.registers)],
            processor_id=record.processor,
        )

    @resolver(description="Only this processor's changes are sent; null: every change")
    async def processor(self, info: Info) -> Organisation | None:
        return await organisation(info, self.processor_id) if self.processor_id else None


def change_registers(scope: ReadScope) -> frozenset[str] | None:
    """The registers whose sub-processor changes `scope` may read (None: every register's, as
    processors' lists are public)."""
    return None if scope.lists else scope.registers


def history(info: Info) -> History:
    """The request's change history; a service that builds no history serves no changes."""
    found = _history(info)
    if found is None:
        raise RuntimeError("the context has no change history")
    return found


def writer(info: Info) -> Writer:
    """The request's writer; a service that builds none serves no mutations."""
    found: Writer | None = info.context.writer
    if found is None:
        raise RuntimeError("the context has no writer")
    return found


OptionalRef = Annotated[
    str | None, strawberry.argument(description="Only this processor's: its id or name, any case")
]


async def processor_id(info: Info, ref: str | None) -> str | None:
    """The id of the organisation `ref` names (NotFound if none); None when not given."""
    given = _given(ref)
    return None if given is None else await info.context.reader.resolve(RefKind.ORGANISATION, given)


@strawberry.type
class ChangesQuery:
    @resolver(
        description="The sub-processor changes in the order they were recorded, for replay and "
        "audit: at most `first` (1 to 500) after the change whose id is `after` (each change's "
        "`id` is the cursor for the next page), of one processor or all"
    )
    async def changes(
        self,
        info: Info,
        processor: OptionalRef = strawberry.UNSET,
        after: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="The id of the last change seen; none: the first"),
        ] = strawberry.UNSET,
        first: int | None = 50,
        since: Annotated[
            dt.date | None,
            strawberry.argument(
                description="Without `after`: start at the first change recorded on or after "
                "this day (UTC)"
            ),
        ] = strawberry.UNSET,
    ) -> list[SubProcessorChange]:
        size = 50 if first is None else first
        if not 1 <= size <= MAX_FIRST:
            raise InvalidArgument(f"first: must be between 1 and {MAX_FIRST}, not {size}")
        scope = info.context.scope
        found = await history(info).changes(
            await processor_id(info, processor),
            _given(after),
            size,
            _given(since),
            registers=change_registers(scope),
        )
        return [SubProcessorChange.from_record(c, scope) for c in found]

    @resolver(
        description="Webhook endpoints (of one processor, if given), oldest first, with their "
        "delivery state; never their secrets. Needs the dpo role"
    )
    async def webhooks(
        self, info: Info, processor: OptionalRef = strawberry.UNSET
    ) -> list[Webhook]:
        principal = require_writer(info.context.principal)
        found = await writer(info).webhooks(await processor_id(info, processor), principal)
        return [Webhook.from_record(w) for w in found]
