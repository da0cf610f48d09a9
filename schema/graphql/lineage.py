"""Types of the lineage answer: who receives the data, and along which paths."""

from __future__ import annotations

import strawberry

from schema.graphql import records as r
from schema.graphql.access import Info, loaders, many, maybe, one, resolver
from schema.graphql.activity import Disclosure, Engagement, ProcessingActivity
from schema.graphql.enums import HopKind
from schema.graphql.reference import DataCategory, LegalBasis, Organisation, categories, legal_bases


@strawberry.type(description="One step of a path: a disclosure or a sub-processor engagement")
class Hop:
    kind: HopKind
    condition: str | None = strawberry.field(description="e.g. once enrolment is confirmed")
    rec: strawberry.Private[r.HopRecord]

    @resolver(name="from")
    async def from_(self, info: Info) -> Organisation:
        rec = await one(loaders(info).organisations, self.rec.from_id, "organisation")
        return Organisation.from_record(rec)

    @strawberry.field
    async def to(self, info: Info) -> Organisation:
        rec = await one(loaders(info).organisations, self.rec.to_id, "organisation")
        return Organisation.from_record(rec)

    @resolver(
        description="The activity the data moves in (for a sub-processor, the activity it was "
        "engaged for, else the one that brought the data to the processor)"
    )
    async def activity(self, info: Info) -> ProcessingActivity | None:
        rec = await maybe(loaders(info).activities, self.rec.activity_id)
        return ProcessingActivity.from_record(rec) if rec else None

    @resolver(
        description="The hop's categories that the question is about: carried categories at or "
        "below the asked one; for an engagement, covered categories at, below or above it"
    )
    async def categories(self, info: Info) -> list[DataCategory]:
        return categories(await many(loaders(info).categories, self.rec.category_ids))

    @resolver(
        description="The disclosure's legal bases; a sub-processor works under those of the "
        "hop that brought the data to its processor"
    )
    async def legal_bases(self, info: Info) -> list[LegalBasis]:
        return legal_bases(await many(loaders(info).legal_bases, self.rec.legal_basis_ids))

    @resolver(description="The engagement, for a SUB_PROCESSING hop")
    async def engagement(self, info: Info) -> Engagement | None:
        rec = await maybe(loaders(info).engagements, self.rec.engagement_id)
        return Engagement.from_record(rec) if rec else None

    @resolver(description="The disclosure, for a DISCLOSURE or ONWARD_DISCLOSURE hop")
    async def disclosure(self, info: Info) -> Disclosure | None:
        rec = await maybe(loaders(info).disclosures, self.rec.disclosure_id)
        return Disclosure.from_record(rec) if rec else None


@strawberry.type(description="The hops from a controller to a recipient, in order")
class LineagePath:
    hops: list[Hop]

    @classmethod
    def from_record(cls, hops: tuple[r.HopRecord, ...]) -> LineagePath:
        """The GraphQL view of a path."""
        return cls(hops=[Hop(kind=h.kind, condition=h.condition, rec=h) for h in hops])


@strawberry.type(description="An organisation that receives the data")
class Recipient:
    paths: list[LineagePath] = strawberry.field(description="Every distinct path that reaches it")
    organisation_id: strawberry.Private[str]

    @classmethod
    def from_record(cls, rec: r.RecipientRecord) -> Recipient:
        """The GraphQL view of a record."""
        return cls(
            paths=[LineagePath.from_record(p) for p in rec.paths],
            organisation_id=rec.organisation_id,
        )

    @strawberry.field
    async def organisation(self, info: Info) -> Organisation:
        rec = await one(loaders(info).organisations, self.organisation_id, "organisation")
        return Organisation.from_record(rec)
