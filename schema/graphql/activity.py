"""Types of processing: activities (Article 30 records), disclosures and engagements."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import strawberry

from schema import document
from schema.compliance.index import bases_holder
from schema.graphql import records as r
from schema.graphql.access import Info, loaders, many, maybe, one, resolver
from schema.graphql.assumption import Assumption
from schema.graphql.derived import record_values, with_public_fields
from schema.graphql.enums import DpiaStatus, EngagementStatus, FlowKind, RecipientRole
from schema.graphql.recurrence import Recurrence
from schema.graphql.reference import (
    Citation,
    DataCategory,
    DataSubjectCategory,
    LegalBasis,
    Organisation,
    System,
    categories,
    legal_bases,
    load_citations,
)
from schema.sub_processor_list import objection_deadline


@strawberry.type(description="A controller's objection to an announced engagement")
class Objection:
    id: strawberry.ID
    register: str = strawberry.field(description="The register of the controller that objects")
    reason: str
    objected_at: dt.datetime
    engagement_id: strawberry.ID = strawberry.field(description="The engagement objected to")

    @classmethod
    def from_record(cls, rec: r.ObjectionRecord) -> Objection:
        """The GraphQL view of a record."""
        return cls(
            id=strawberry.ID(rec.id),
            register=rec.register_id,
            reason=rec.reason,
            objected_at=rec.objected_at,
            engagement_id=strawberry.ID(rec.engagement_id),
        )


async def _organisation(info: Info, key: str) -> Organisation:
    return Organisation.from_record(await one(loaders(info).organisations, key, "organisation"))


async def _organisations(info: Info, keys: tuple[str, ...]) -> list[Organisation]:
    return [Organisation.from_record(o) for o in await many(loaders(info).organisations, keys)]


@strawberry.type(description="A processor acting for the controller (Article 28 contract)")
class ProcessorAppointment:
    contract: str | None = strawberry.field(description="Link to the processor contract")
    notice_period_days: int | None = strawberry.field(
        description="Advance notice of sub-processor changes the contract gives"
    )
    objection_window_days: int | None
    organisation_id: strawberry.Private[str]

    @classmethod
    def from_record(cls, rec: r.ProcessorAppointmentRecord) -> ProcessorAppointment:
        """The GraphQL view of a record."""
        return cls(**record_values(cls, rec, organisation_id=rec.organisation_id))

    @strawberry.field
    async def organisation(self, info: Info) -> Organisation:
        return await _organisation(info, self.organisation_id)


@strawberry.type(description="A transfer to a third country (Article 30(1)(e))")
class ThirdCountryTransfer:
    country: str
    safeguard: str | None = strawberry.field(
        description="Adequacy regulations, IDTA, Addendum to EU SCCs, ..."
    )
    documentation: str | None
    recipient_id: strawberry.Private[str | None]

    @classmethod
    def from_record(cls, rec: r.TransferRecord) -> ThirdCountryTransfer:
        """The GraphQL view of a record."""
        return cls(**record_values(cls, rec, recipient_id=rec.recipient_id))

    @strawberry.field
    async def recipient(self, info: Info) -> Organisation | None:
        rec = await maybe(loaders(info).organisations, self.recipient_id)
        return Organisation.from_record(rec) if rec else None


@strawberry.type(description="Data protection impact assessment")
class Dpia:
    status: DpiaStatus
    link: str | None
    completed_on: dt.date | None

    @classmethod
    def from_record(cls, rec: r.DpiaRecord | None) -> Dpia | None:
        """The GraphQL view of a record (None stays None)."""
        if rec is None:
            return None
        return cls(**record_values(cls, rec))


# The fields of ProcessingActivity that its node's own properties (and its controller) answer,
# with the field of ActivityRecord behind each: a list selecting only these reads only those.
ACTIVITY_PROPERTIES: dict[str, str | None] = {
    "__typename": None,
    "id": "id",
    "name": "name",
    "description": "description",
    "purposes": "purposes",
    "recipientCategories": "recipient_categories",
    "legitimateInterests": "legitimate_interests",
    "legitimateInterestsAssessment": "legitimate_interests_assessment",
    "consentRecord": "consent_record",
    "rights": "rights",
    "automatedDecisionMaking": "automated_decision_making",
    "source": "source",
    "location": "location",
    "retention": "retention",
    "retentionSchedule": "retention_schedule",
    "securityMeasures": "security_measures",
    "thirdCountryTransfers": "third_country_transfers",
    "dpia": "dpia",
    "validFrom": "valid_from",
    "validUntil": "valid_until",
    "recurs": "recurs",
    "assumptions": "assumptions",
    "controller": "controller_id",
}


# The fields of Engagement that its node's own properties and its two organisations answer.
ENGAGEMENT_PROPERTIES = frozenset(
    {
        "__typename",
        "id",
        "purpose",
        "location",
        "since",
        "until",
        "status",
        "noticeDate",
        "announcedOn",
        "effectiveFrom",
        "assumptions",
        "processor",
        "subProcessor",
    }
)


def activity_fields(selected: Iterable[str]) -> set[str] | None:
    """The ActivityRecord fields behind a selection of ProcessingActivity's fields, when it
    asks only its own properties (ACTIVITY_PROPERTIES); None when it asks more."""
    names = set(selected)
    if not names <= ACTIVITY_PROPERTIES.keys():
        return None
    return {f for name in names if (f := ACTIVITY_PROPERTIES[name]) is not None}


@strawberry.type(description="A processing activity: one record of the Article 30 register")
@with_public_fields(document.ProcessingActivity)
class ProcessingActivity:
    id: strawberry.ID
    name: str
    description: str | None
    purposes: list[str]
    recipient_categories: list[str] = strawberry.field(
        description="Article 30(1)(d) categories of recipients, in words"
    )
    legitimate_interests: str | None
    legitimate_interests_assessment: str | None
    consent_record: str | None = strawberry.field(description="Where consent is recorded")
    rights: str | None = strawberry.field(
        description="Rights available to individuals, and how they are met"
    )
    automated_decision_making: str | None
    source: str | None = strawberry.field(description="Where the personal data comes from")
    location: str | None = strawberry.field(description="Where the data is held")
    retention: str | None
    retention_schedule: str | None
    security_measures: list[str]
    third_country_transfers: list[ThirdCountryTransfer]
    processors: list[ProcessorAppointment]
    dpia: Dpia | None
    valid_from: dt.date | None = strawberry.field(description="First day it applies")
    valid_until: dt.date | None = strawberry.field(description="Last day it applies")
    recurs: Recurrence | None = strawberry.field(
        description="How it repeats from validFrom (until validUntil), if it does"
    )
    assumptions: list[Assumption]
    rec: strawberry.Private[r.ActivityRecord]

    @classmethod
    def from_record(cls, rec: r.ActivityRecord) -> ProcessingActivity:
        """The GraphQL view of a record."""
        return cls(
            **record_values(
                cls,
                rec,
                third_country_transfers=[
                    ThirdCountryTransfer.from_record(t) for t in rec.third_country_transfers
                ],
                processors=[ProcessorAppointment.from_record(p) for p in rec.processors],
                dpia=Dpia.from_record(rec.dpia),
                recurs=Recurrence.of(rec.recurs),
                rec=rec,
            )
        )

    @strawberry.field
    async def controller(self, info: Info) -> Organisation:
        return await _organisation(info, self.rec.controller_id)

    @strawberry.field
    async def joint_controllers(self, info: Info) -> list[Organisation]:
        return await _organisations(info, self.rec.joint_controller_ids)

    @strawberry.field
    async def data_subjects(self, info: Info) -> list[DataSubjectCategory]:
        recs = await many(loaders(info).subjects, self.rec.subject_ids)
        return [DataSubjectCategory.from_record(s) for s in recs]

    @resolver(description="The categories of personal data processed")
    async def categories(self, info: Info) -> list[DataCategory]:
        return categories(await many(loaders(info).categories, self.rec.category_ids))

    @resolver(description="Article 6 bases and Article 9/10 conditions (see `citations`)")
    async def legal_bases(self, info: Info) -> list[LegalBasis]:
        return legal_bases(await many(loaders(info).legal_bases, self.rec.legal_basis_ids))

    @resolver(description="Each basis of the activity with the law it rests on for it")
    async def citations(self, info: Info) -> list[Citation]:
        return await load_citations(info, self.rec.citations)

    @strawberry.field
    async def systems(self, info: Info) -> list[System]:
        return [
            System.from_record(s) for s in await many(loaders(info).systems, self.rec.system_ids)
        ]

    @resolver(description="The disclosures (data flows) made in this activity")
    async def disclosures(self, info: Info) -> list[Disclosure]:
        recs = await loaders(info).activity_disclosures.load(self.rec.id)
        return [Disclosure.from_record(d) for d in recs]

    @resolver(description="The organisations its disclosures go to, by name")
    async def recipients(self, info: Info) -> list[Organisation]:
        recs = await loaders(info).activity_disclosures.load(self.rec.id)
        found = await _organisations(info, tuple(dict.fromkeys(d.to_id for d in recs)))
        return sorted(found, key=lambda o: (o.name, o.id))


@strawberry.type(description="A disclosure (data flow) from one organisation to another")
@with_public_fields(document.Flow)
class Disclosure:
    id: strawberry.ID
    kind: FlowKind
    recipient_role: RecipientRole
    purpose: str | None
    condition: str | None = strawberry.field(description="e.g. once enrolment is confirmed")
    method: str | None = strawberry.field(description="How it is transferred")
    frequency: str | None
    contract: str | None = strawberry.field(description="Processor contract or sharing agreement")
    valid_from: dt.date | None
    valid_until: dt.date | None
    recurs: Recurrence | None = strawberry.field(
        description="How it repeats from validFrom (until validUntil), if it does"
    )
    assumptions: list[Assumption]
    rec: strawberry.Private[r.DisclosureRecord]

    @classmethod
    def from_record(cls, rec: r.DisclosureRecord) -> Disclosure:
        """The GraphQL view of a record."""
        return cls(
            **record_values(
                cls,
                rec,
                recurs=Recurrence.of(rec.recurs),
                rec=rec,
            )
        )

    @strawberry.field
    async def activity(self, info: Info) -> ProcessingActivity:
        rec = await one(loaders(info).activities, self.rec.activity_id, "activity")
        return ProcessingActivity.from_record(rec)

    @resolver(name="from", description="The organisation that discloses")
    async def from_(self, info: Info) -> Organisation:
        return await _organisation(info, self.rec.from_id)

    @resolver(description="The organisation that receives")
    async def to(self, info: Info) -> Organisation:
        return await _organisation(info, self.rec.to_id)

    @strawberry.field
    async def categories(self, info: Info) -> list[DataCategory]:
        return categories(await many(loaders(info).categories, self.rec.category_ids))

    @strawberry.field
    async def legal_bases(self, info: Info) -> list[LegalBasis]:
        return legal_bases(await many(loaders(info).legal_bases, self.rec.legal_basis_ids))

    @resolver(description="Each basis of the disclosure with the law it rests on for it")
    async def citations(self, info: Info) -> list[Citation]:
        return await load_citations(info, self.rec.citations)

    @resolver(
        description="Whose lawful bases `legalBases` and `citations` are: the activity's "
        "controller, or, for a disclosure another controller makes as its own processing (the "
        "DfE sharing from the National Pupil Database), that controller"
    )
    async def basis_of(self, info: Info) -> Organisation:
        activity = await one(loaders(info).activities, self.rec.activity_id, "activity")
        acting = [*activity.joint_controller_ids, *(p.organisation_id for p in activity.processors)]
        holder = bases_holder(self.rec.from_id, activity.controller_id, acting)
        return await _organisation(info, holder)

    @resolver(description="The system the data moves through")
    async def system(self, info: Info) -> System | None:
        rec = await maybe(loaders(info).systems, self.rec.system_id)
        return System.from_record(rec) if rec else None


@strawberry.type(description="A processor's engagement of a sub-processor")
@with_public_fields(document.Engagement)
class Engagement:
    id: strawberry.ID
    purpose: str | None
    location: str | None
    since: dt.date | None = strawberry.field(description="Effective date")
    until: dt.date | None = strawberry.field(description="Last day of the engagement")
    status: EngagementStatus
    recurs: Recurrence | None = strawberry.field(
        description="How it repeats from since (until until), if it does"
    )
    notice_date: dt.date | None = strawberry.field(description="When controllers were told")
    announced_on: dt.date | None = strawberry.field(
        description="When controllers were told of it: the same date as noticeDate"
    )
    effective_from: dt.date | None = strawberry.field(
        description="The first day it applies: the same date as since"
    )
    assumptions: list[Assumption]
    rec: strawberry.Private[r.EngagementRecord]

    @classmethod
    def from_record(cls, rec: r.EngagementRecord) -> Engagement:
        """The GraphQL view of a record."""
        return cls(
            **record_values(
                cls,
                rec,
                recurs=Recurrence.of(rec.recurs),
                announced_on=rec.notice_date,
                effective_from=rec.since,
                rec=rec,
            )
        )

    @strawberry.field
    async def processor(self, info: Info) -> Organisation:
        return await _organisation(info, self.rec.processor_id)

    @strawberry.field
    async def sub_processor(self, info: Info) -> Organisation:
        return await _organisation(info, self.rec.sub_processor_id)

    @resolver(description="The categories of data the sub-processor handles")
    async def categories(self, info: Info) -> list[DataCategory]:
        return categories(await many(loaders(info).categories, self.rec.category_ids))

    @resolver(
        description="The last day a controller may object: the announcement plus the longest "
        "objection window of the contracts with the processor that cover it (else the day "
        "before it takes effect); null if never announced"
    )
    async def objection_deadline(self, info: Info) -> dt.date | None:
        terms = await loaders(info).notice_terms.load(self.rec.processor_id)
        return objection_deadline(self.rec, terms)

    @resolver(
        description="Controllers' objections to it, oldest first: those the caller may see (the "
        "objecting register's and the processor's own register's principals)"
    )
    async def objections(self, info: Info) -> list[Objection]:
        found = await loaders(info).objections.load(self.rec.id)
        return [Objection.from_record(o) for o in found]

    @resolver(description="The activity the sub-processor was engaged for")
    async def activity(self, info: Info) -> ProcessingActivity | None:
        rec = await maybe(loaders(info).activities, self.rec.activity_id)
        return ProcessingActivity.from_record(rec) if rec else None
