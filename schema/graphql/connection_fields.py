"""The `...Connection` twin of every root list field (see schema.graphql.connections).

`changes` pages by itself already (`first`, `after` the id of the last change seen), so it
has no twin.

Each twin calls its list field's own resolver with the same arguments, so the two cannot
disagree on what is in the list, its order, or the caller's scope; then it takes the page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import strawberry

from schema.compliance.graphql_types import ComplianceIssueType, ComplianceSeverity
from schema.graphql.access import Info, resolver
from schema.graphql.activity import Disclosure, Engagement, ProcessingActivity
from schema.graphql.connections import After, Connection, First, paginate
from schema.graphql.enums import OrganisationKind, OrganisationRole
from schema.graphql.lineage import Recipient
from schema.graphql.query import AsOf, OptionalRef, Query, Ref
from schema.graphql.reference import (
    DataCategory,
    DataSubjectCategory,
    LegalBasis,
    Organisation,
    System,
)

T = TypeVar("T")
UNSET: Any = strawberry.UNSET


async def _page(
    field: Callable[..., Awaitable[list[Any]]],
    info: Info,
    first: int | None,
    after: str | None,
    **arguments: Any,
) -> Connection[Any]:
    # The list field's own resolver (strawberry leaves the method on the class); root fields
    # take no root value.
    items = await field(None, info, **arguments)
    return paginate(items, first, after)


@strawberry.type
class ConnectionsQuery:
    @resolver(description="`organisations` as a connection")
    async def organisations_connection(
        self,
        info: Info,
        kind: OrganisationKind | None = UNSET,
        role: OrganisationRole | None = UNSET,
        first: First = UNSET,
        after: After = UNSET,
    ) -> Connection[Organisation]:
        return await _page(Query.organisations, info, first, after, kind=kind, role=role)

    @resolver(description="`activities` as a connection")
    async def activities_connection(
        self,
        info: Info,
        controller: OptionalRef = UNSET,
        category: OptionalRef = UNSET,
        legal_basis: OptionalRef = UNSET,
        as_of: AsOf = UNSET,
        first: First = UNSET,
        after: After = UNSET,
    ) -> Connection[ProcessingActivity]:
        return await _page(
            Query.activities,
            info,
            first,
            after,
            controller=controller,
            category=category,
            legal_basis=legal_basis,
            as_of=as_of,
        )

    @resolver(description="`disclosures` as a connection")
    async def disclosures_connection(
        self,
        info: Info,
        from_: Annotated[
            str | None,
            strawberry.argument(name="from", description="The discloser: id or name, any case"),
        ] = UNSET,
        to: OptionalRef = UNSET,
        category: OptionalRef = UNSET,
        as_of: AsOf = UNSET,
        first: First = UNSET,
        after: After = UNSET,
    ) -> Connection[Disclosure]:
        return await _page(
            Query.disclosures,
            info,
            first,
            after,
            from_=from_,
            to=to,
            category=category,
            as_of=as_of,
        )

    @resolver(description="`dataCategories` as a connection")
    async def data_categories_connection(
        self, info: Info, special: bool | None = UNSET, first: First = UNSET, after: After = UNSET
    ) -> Connection[DataCategory]:
        return await _page(Query.data_categories, info, first, after, special=special)

    @resolver(description="`dataSubjects` as a connection")
    async def data_subjects_connection(
        self, info: Info, first: First = UNSET, after: After = UNSET
    ) -> Connection[DataSubjectCategory]:
        return await _page(Query.data_subjects, info, first, after)

    @resolver(description="`legalBases` as a connection")
    async def legal_bases_connection(
        self, info: Info, first: First = UNSET, after: After = UNSET
    ) -> Connection[LegalBasis]:
        return await _page(Query.legal_bases, info, first, after)

    @resolver(description="`systems` as a connection")
    async def systems_connection(
        self, info: Info, first: First = UNSET, after: After = UNSET
    ) -> Connection[System]:
        return await _page(Query.systems, info, first, after)

    @resolver(description="`recipients` as a connection")
    async def recipients_connection(
        self,
        info: Info,
        category: Ref,
        controller: OptionalRef = UNSET,
        as_of: AsOf = UNSET,
        transitive: bool | None = True,
        first: First = UNSET,
        after: After = UNSET,
    ) -> Connection[Recipient]:
        return await _page(
            Query.recipients,
            info,
            first,
            after,
            category=category,
            controller=controller,
            as_of=as_of,
            transitive=transitive,
        )

    @resolver(description="`complianceIssues` as a connection")
    async def compliance_issues_connection(
        self,
        info: Info,
        controller: OptionalRef = UNSET,
        as_of: AsOf = UNSET,
        severity: ComplianceSeverity | None = UNSET,
        rule: str | None = UNSET,
        first: First = UNSET,
        after: After = UNSET,
    ) -> Connection[ComplianceIssueType]:
        return await _page(
            Query.compliance_issues,
            info,
            first,
            after,
            controller=controller,
            as_of=as_of,
            severity=severity,
            rule=rule,
        )

    @resolver(description="`subProcessors` as a connection")
    async def sub_processors_connection(
        self,
        info: Info,
        processor: Ref,
        as_of: AsOf = UNSET,
        first: First = UNSET,
        after: After = UNSET,
    ) -> Connection[Engagement]:
        return await _page(
            Query.sub_processors, info, first, after, processor=processor, as_of=as_of
        )
