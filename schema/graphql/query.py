"""The root query: the questions clients and dashboards rely on."""

from __future__ import annotations

import asyncio
from typing import Annotated, TypeVar

import strawberry

from schema.compliance.graphql_types import (
    ComplianceIssueType,
    ComplianceSeverity,
    compliance_issues,
)
from schema.graphql.access import Info, loaders, resolver
from schema.graphql.activity import (
    ENGAGEMENT_PROPERTIES,
    Disclosure,
    Engagement,
    ProcessingActivity,
    activity_fields,
)
from schema.graphql.arguments import given as _given
from schema.graphql.enums import OrganisationKind, OrganisationRole
from schema.graphql.lineage import Recipient, reads_reference
from schema.graphql.lineage import recipients as lineage_views
from schema.graphql.records import (
    ActivityFilter,
    DisclosureFilter,
    RecipientsQuestion,
    RefKind,
)
from schema.graphql.reference import (
    DataCategory,
    DataSubjectCategory,
    LegalBasis,
    Organisation,
    System,
    categories,
    legal_bases,
    organisation_fields,
)
from schema.graphql.selection import selected_names, selects
from schema.graphql.time_arguments import AsOf, RecordedAt, recorded, resolve

Ref = Annotated[str, strawberry.argument(description="An id or a name, in any case")]
OptionalRef = Annotated[str | None, strawberry.argument(description="An id or a name, in any case")]
T = TypeVar("T")


def _reads_any(info: Info) -> bool:
    # The shared vocabulary (categories, data subjects, legal bases) goes to whoever may read
    # some register: it holds no one's personal data, and every register draws on it.
    scope = info.context.scope
    return scope.registers is None or bool(scope.registers)


@strawberry.type
class Query:
    @resolver(
        description="Every organisation, by name; `kind` keeps one kind of body, `role` those "
        "that play that role somewhere in the register"
    )
    async def organisations(
        self,
        info: Info,
        kind: OrganisationKind | None = strawberry.UNSET,
        role: OrganisationRole | None = strawberry.UNSET,
    ) -> list[Organisation]:
        fields = organisation_fields(selected_names(info))
        found = await info.context.reader.organisations(fields=fields)
        wanted_kind, wanted_role = _given(kind), _given(role)
        if wanted_kind is not None:
            found = [o for o in found if o.kind == wanted_kind]
        if wanted_role is not None:
            roles = await info.context.reader.organisation_roles()
            found = [o for o in found if wanted_role in roles.get(o.id, ())]
        return [Organisation.from_record(o) for o in found]

    @resolver(description="One organisation, by id or name")
    async def organisation(self, info: Info, ref: Ref) -> Organisation | None:
        key = await info.context.reader.resolve(RefKind.ORGANISATION, ref)
        found = await loaders(info).organisations.load(key)
        if found is None or not info.context.scope.reads(found.registers):
            return None
        return Organisation.from_record(found)

    @resolver(
        description="Activities valid on `asOf`, by name: those a controller (or joint "
        "controller) runs, that process a category or any category below it, or that rely on "
        "a legal basis or on a basis resting on it"
    )
    async def activities(
        self,
        info: Info,
        controller: OptionalRef = strawberry.UNSET,
        category: OptionalRef = strawberry.UNSET,
        legal_basis: OptionalRef = strawberry.UNSET,
        as_of: AsOf = strawberry.UNSET,
        recorded_at: RecordedAt = strawberry.UNSET,
    ) -> list[ProcessingActivity]:
        at = recorded(info, recorded_at)
        controller_id, category_id, basis_id = await asyncio.gather(
            resolve(info, RefKind.ORGANISATION, controller, at),
            resolve(info, RefKind.DATA_CATEGORY, category, at),
            resolve(info, RefKind.LEGAL_BASIS, legal_basis, at),
        )
        question = ActivityFilter(
            as_of=_given(as_of) or info.context.today,
            controller_id=controller_id,
            category_id=category_id,
            legal_basis_id=basis_id,
            recorded_at=at,
        )
        fields = activity_fields(selected_names(info))
        found = await info.context.reader.activities(question, fields=fields)
        return [ProcessingActivity.from_record(a) for a in found]

    @resolver(description="One activity, by id or name, whatever its validity")
    async def activity(self, info: Info, ref: Ref) -> ProcessingActivity | None:
        key = await info.context.reader.resolve(RefKind.ACTIVITY, ref)
        found = await loaders(info).activities.load(key)
        return ProcessingActivity.from_record(found) if found else None

    @resolver(description="Data categories by name; `special` keeps only Article 9 ones")
    async def data_categories(
        self, info: Info, special: bool | None = strawberry.UNSET
    ) -> list[DataCategory]:
        found = await loaders(info).categories.all() if _reads_any(info) else []
        wanted = _given(special)
        if wanted is not None:
            found = [c for c in found if c.special == wanted]
        return categories(sorted(found, key=lambda c: (c.name, c.id)))

    @resolver(description="Categories of data subjects, by name")
    async def data_subjects(self, info: Info) -> list[DataSubjectCategory]:
        found = await loaders(info).subjects.all() if _reads_any(info) else []
        return [DataSubjectCategory.from_record(s) for s in sorted(found, key=lambda s: s.name)]

    @resolver(description="Legal bases, conditions and statutes, by title")
    async def legal_bases(self, info: Info) -> list[LegalBasis]:
        found = await loaders(info).legal_bases.all() if _reads_any(info) else []
        return legal_bases(sorted(found, key=lambda b: (b.title, b.id)))

    @resolver(description="Systems that hold or move the data, by name")
    async def systems(self, info: Info) -> list[System]:
        return [System.from_record(s) for s in await info.context.reader.systems()]

    @resolver(
        description="Who receives a category of data (or any category below it) on `asOf`: "
        "from the controller (or every controller) along disclosures, then through processors' "
        "sub-processors and onward disclosures, with every path; `transitive: false` gives "
        "direct recipients only"
    )
    async def recipients(
        self,
        info: Info,
        category: Ref,
        controller: OptionalRef = strawberry.UNSET,
        as_of: AsOf = strawberry.UNSET,
        transitive: bool | None = True,
        recorded_at: RecordedAt = strawberry.UNSET,
    ) -> list[Recipient]:
        # The category and controller as given (an id or a name): the reader resolves them,
        # where it can in the traversal's own read.
        question = RecipientsQuestion(
            category_id=category,
            as_of=_given(as_of) or info.context.today,
            controller_id=_given(controller),
            transitive=transitive is not False,
            recorded_at=recorded(info, recorded_at),
        )
        hop = ("paths", "hops")
        properties = activity_fields(selected_names(info, *hop, "activity"))
        if not selected_names(info, *hop, "engagement") <= ENGAGEMENT_PROPERTIES:
            properties = None
        found = await info.context.reader.recipients(
            question,
            named=True,
            activities=selects(info, *hop, "activity"),
            engagements=selects(info, *hop, "engagement"),
            properties=properties,
            reference=reads_reference(info),
            cited=selects(info, *hop, "citations"),
        )
        return await lineage_views(info, found)

    @resolver(
        description="Gaps in a controller's record (or every controller's) on `asOf`: each "
        "with its rule id, severity, the entity it concerns, a message and the Article or "
        "guidance it rests on"
    )
    async def compliance_issues(
        self,
        info: Info,
        controller: OptionalRef = strawberry.UNSET,
        as_of: AsOf = strawberry.UNSET,
        severity: ComplianceSeverity | None = strawberry.UNSET,
        rule: Annotated[
            str | None, strawberry.argument(description="Only this rule's, by its id")
        ] = strawberry.UNSET,
        recorded_at: RecordedAt = strawberry.UNSET,
    ) -> list[ComplianceIssueType]:
        at = recorded(info, recorded_at)
        controller_id = await resolve(info, RefKind.ORGANISATION, controller, at)
        found = await compliance_issues(info, controller_id, _given(as_of), at)
        wanted_severity, wanted_rule = _given(severity), _given(rule)
        return [
            issue
            for issue in found
            if (wanted_severity is None or issue.severity == wanted_severity)
            and (wanted_rule is None or issue.rule_id == wanted_rule)
        ]

    @resolver(
        description="Disclosures in force on `asOf` (theirs and their activity's validity), "
        "by id: from an organisation, to an organisation, carrying a category or one below it"
    )
    async def disclosures(
        self,
        info: Info,
        from_: Annotated[
            str | None,
            strawberry.argument(name="from", description="The discloser: id or name, any case"),
        ] = strawberry.UNSET,
        to: OptionalRef = strawberry.UNSET,
        category: OptionalRef = strawberry.UNSET,
        as_of: AsOf = strawberry.UNSET,
        recorded_at: RecordedAt = strawberry.UNSET,
    ) -> list[Disclosure]:
        at = recorded(info, recorded_at)
        from_id, to_id, category_id = await asyncio.gather(
            resolve(info, RefKind.ORGANISATION, from_, at),
            resolve(info, RefKind.ORGANISATION, to, at),
            resolve(info, RefKind.DATA_CATEGORY, category, at),
        )
        question = DisclosureFilter(
            as_of=_given(as_of) or info.context.today,
            from_id=from_id,
            to_id=to_id,
            category_id=category_id,
            recorded_at=at,
        )
        return [Disclosure.from_record(d) for d in await info.context.reader.disclosures(question)]

    @resolver(
        description="A processor's sub-processors on `asOf`: its active engagements in force "
        "that day, by sub-processor name"
    )
    async def sub_processors(
        self,
        info: Info,
        processor: Ref,
        as_of: AsOf = strawberry.UNSET,
        recorded_at: RecordedAt = strawberry.UNSET,
    ) -> list[Engagement]:
        at = recorded(info, recorded_at)
        key = await info.context.reader.resolve(RefKind.ORGANISATION, processor, at)
        found = await info.context.reader.sub_processors(
            key, _given(as_of) or info.context.today, at
        )
        return [Engagement.from_record(e) for e in found]
