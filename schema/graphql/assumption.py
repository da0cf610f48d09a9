"""The `Assumption` type: what the record assumes, about one field of its entity or all of it."""

from __future__ import annotations

import strawberry

from schema.graphql import records as r
from schema.graphql.derived import view_of


@view_of(r.AssumptionRecord)
@strawberry.type(
    description="Something the record assumes where its sources do not say: to confirm, "
    "never a fact"
)
class Assumption:
    text: str = strawberry.field(description="What is assumed, and why")
    about: str | None = strawberry.field(
        description="The field of the entity holding it that it concerns, by its name in the "
        "ROPA document (legal_bases, retention, location, country...); null: the whole entity"
    )
    on: str | None = strawberry.field(
        default=None,
        description="On a hop: which part of the hop holds it: `disclosure` or `engagement` "
        "(the hop's own), or `to` (the organisation it reaches); null elsewhere",
    )

    @classmethod
    def from_record(cls, rec: r.AssumptionRecord, on: str | None = None) -> Assumption:
        """The GraphQL view of a record (`on`: the part of a hop that holds it)."""
        return cls(text=rec.text, about=rec.about, on=on)
