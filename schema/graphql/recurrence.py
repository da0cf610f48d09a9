"""The `Recurrence` type: processing that repeats (schema.recurrence)."""

from __future__ import annotations

import strawberry

from schema.graphql import records as r
from schema.recurrence import describe


@strawberry.type(
    description="Processing that repeats: an occurrence starts every `every` from its first "
    "day and applies for `lasts`"
)
class Recurrence:
    every: str = strawberry.field(description="ISO 8601 period between starts, e.g. P1Y")
    lasts: str = strawberry.field(description="ISO 8601 period each occurrence applies for")
    note: str | None = strawberry.field(description="What happens to each occurrence's data")
    description: str = strawberry.field(description="In words: every year, for 1 year each time")

    @classmethod
    def of(cls, rec: r.RecurrenceRecord | None) -> Recurrence | None:
        """The GraphQL view of a record, if there is one."""
        if rec is None:
            return None
        return cls(
            every=rec.every,
            lasts=rec.lasts,
            note=rec.note,
            description=describe(rec.every, rec.lasts),
        )
