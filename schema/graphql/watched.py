"""Proposed changes found in the sub-processor lists organisations publish (watched by the
notifier), for a DPO to confirm or dismiss."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, Any

import strawberry

from schema.access.policy import require_writer
from schema.graphql.access import Info, resolver
from schema.graphql.activity import Engagement
from schema.graphql.changes import organisation, processor_id, writer
from schema.graphql.reference import Organisation
from schema.graphql.writes import ListChangeData


@strawberry.enum(description="Whether a name appeared in a published list or left it")
class ListChangeKind(enum.Enum):
    ADDED = "added"
    REMOVED = "removed"


@strawberry.enum(description="What a DPO decided about a proposed change")
class ListChangeStatus(enum.Enum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


@strawberry.type(description="A name added to or gone from an organisation's published list")
class ListChange:
    id: strawberry.ID
    url: str = strawberry.field(description="The published list it was found in")
    kind: ListChangeKind
    name: str = strawberry.field(description="The sub-processor as the list names it")
    status: ListChangeStatus
    detected_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    organisation_id: strawberry.Private[str]
    engagement_id: strawberry.Private[str | None]

    @classmethod
    def from_record(cls, record: ListChangeData) -> ListChange:
        """The GraphQL view of a recorded change."""
        return cls(
            id=strawberry.ID(record.id),
            url=record.url,
            kind=ListChangeKind(record.kind),
            name=record.name,
            status=ListChangeStatus(record.status),
            detected_at=record.detected_at,
            decided_by=record.decided_by,
            decided_at=record.decided_at,
            organisation_id=record.organisation,
            engagement_id=record.engagement,
        )

    @resolver(description="The organisation whose published list it is")
    async def organisation(self, info: Info) -> Organisation:
        return await organisation(info, self.organisation_id)

    @resolver(
        description="The engagement confirming it made, ended or found engaged already (null: "
        "not confirmed, or nothing to end)"
    )
    async def engagement(self, info: Info) -> Engagement | None:
        if self.engagement_id is None:
            return None
        found = await info.context.loaders.engagements.load(self.engagement_id)
        return None if found is None else Engagement.from_record(found)


@strawberry.type
class WatchedQuery:
    @resolver(
        description="Differences the notifier found in published sub-processor lists, oldest "
        "first (dpo role)"
    )
    async def list_changes(
        self,
        info: Info,
        organisation: Annotated[
            str | None, strawberry.argument(description="Only this organisation's (id or name)")
        ] = strawberry.UNSET,
        status: ListChangeStatus | None = strawberry.UNSET,
    ) -> list[ListChange]:
        require_writer(info.context.principal)
        given: Any = None if status in (None, strawberry.UNSET) else status
        found = await writer(info).list_changes(
            await processor_id(info, organisation), given.value if given else None
        )
        return [ListChange.from_record(c) for c in found]
