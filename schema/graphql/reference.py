"""Types of the register's reference data: organisations, categories, bases and systems."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import strawberry
from strawberry.types.base import get_object_definition

from schema import document
from schema.graphql import records as r
from schema.graphql.access import Info, loaders, many, maybe, resolver
from schema.graphql.assumption import Assumption
from schema.graphql.derived import record_values, with_public_fields
from schema.graphql.enums import LegalBasisKind, OrganisationKind
from schema.node_properties import camel, node_properties


@strawberry.type(description="A person or post to contact")
class Contact:
    name: str | None
    role: str | None
    email: str | None
    phone: str | None
    address: str | None

    @classmethod
    def from_record(cls, rec: r.ContactRecord | None) -> Contact | None:
        """The GraphQL view of a record (None stays None)."""
        if rec is None:
            return None
        return cls(**record_values(cls, rec))


@strawberry.type(
    description="A school, authority, company or group of recipients; its roles live on "
    "activities, disclosures and engagements"
)
@with_public_fields(document.Organisation)
class Organisation:
    id: strawberry.ID
    name: str
    kind: OrganisationKind
    description: str | None
    address: str | None
    country: str | None = strawberry.field(description="ISO 3166 alpha-2 code or name")
    registration: str | None = strawberry.field(description="Company or charity number")
    ico_registration: str | None
    website: str | None
    sub_processor_list: str | None = strawberry.field(
        description="Where it publishes the list of its own sub-processors (watched)"
    )
    contact: Contact | None
    dpo: Contact | None = strawberry.field(description="Data Protection Officer")
    representative: Contact | None = strawberry.field(description="UK/EU representative")
    group: bool = strawberry.field(
        description="Stands for a class of recipients (e.g. 'approved third parties')"
    )
    assumptions: list[Assumption]

    @classmethod
    def from_record(cls, rec: r.OrganisationRecord) -> Organisation:
        """The GraphQL view of a record."""
        return cls(
            **record_values(
                cls,
                rec,
                contact=Contact.from_record(rec.contact),
                dpo=Contact.from_record(rec.dpo),
                representative=Contact.from_record(rec.representative),
            )
        )


def organisation_fields(selected: Iterable[str]) -> set[str] | None:
    """The OrganisationRecord fields behind a selection of Organisation's fields, when each is
    one of the node's own properties (a list selecting only these reads only those); None when
    it asks anything else."""
    own = _own_properties()
    names = set(selected) - {"__typename"}
    if not names <= own.keys():
        return None
    return {own[name] for name in names}


def _own_properties() -> dict[str, str]:
    # GraphQL name -> record field, for Organisation's fields that are its node's properties.
    stored = {prop.field for prop in node_properties(document.Organisation)} | {"id"}
    fields = get_object_definition(Organisation, strict=True).fields
    return {
        camel(f.python_name): f.python_name
        for f in fields
        if f.base_resolver is None and f.python_name in stored
    }


@strawberry.type(description="A category of personal data, in a hierarchy (PART_OF)")
@with_public_fields(document.DataCategory)
class DataCategory:
    id: strawberry.ID
    name: str
    description: str | None
    examples: list[str]
    special: bool = strawberry.field(description="Special category data (Article 9)")
    criminal_offence: bool = strawberry.field(description="Criminal offence data (Article 10)")
    assumptions: list[Assumption]
    parent_id: strawberry.Private[str | None]
    children_ids: strawberry.Private[tuple[str, ...]]

    @classmethod
    def from_record(cls, rec: r.CategoryRecord) -> DataCategory:
        """The GraphQL view of a record."""
        return cls(
            **record_values(
                cls,
                rec,
                parent_id=rec.parent_id,
                children_ids=rec.children_ids,
            )
        )

    @resolver(description="The broader category this is part of")
    async def parent(self, info: Info) -> DataCategory | None:
        rec = await maybe(loaders(info).categories, self.parent_id)
        return DataCategory.from_record(rec) if rec else None

    @resolver(description="The narrower categories that are part of this one")
    async def children(self, info: Info) -> list[DataCategory]:
        return categories(await many(loaders(info).categories, self.children_ids))


def categories(recs: list[r.CategoryRecord]) -> list[DataCategory]:
    """GraphQL views of category records."""
    return [DataCategory.from_record(rec) for rec in recs]


@strawberry.type(description="A category of people the data is about")
@with_public_fields(document.DataSubjectCategory)
class DataSubjectCategory:
    id: strawberry.ID
    name: str
    description: str | None
    assumptions: list[Assumption]
    parent_id: strawberry.Private[str | None]
    children_ids: strawberry.Private[tuple[str, ...]]

    @classmethod
    def from_record(cls, rec: r.SubjectRecord) -> DataSubjectCategory:
        """The GraphQL view of a record."""
        return cls(
            **record_values(
                cls,
                rec,
                parent_id=rec.parent_id,
                children_ids=rec.children_ids,
            )
        )

    @resolver(description="The broader category these people belong to")
    async def parent(self, info: Info) -> DataSubjectCategory | None:
        rec = await maybe(loaders(info).subjects, self.parent_id)
        return DataSubjectCategory.from_record(rec) if rec else None

    @resolver(description="The narrower categories of people within this one")
    async def children(self, info: Info) -> list[DataSubjectCategory]:
        recs = await many(loaders(info).subjects, self.children_ids)
        return [DataSubjectCategory.from_record(rec) for rec in recs]


@strawberry.type(
    description="An Article 6 basis, an Article 9 or 10 condition, a DPA 2018 Schedule 1 "
    "condition, or a statute"
)
@with_public_fields(document.LegalBasis)
class LegalBasis:
    id: strawberry.ID
    kind: LegalBasisKind
    title: str
    article: str | None = strawberry.field(description="e.g. 6(1)(e), 9(2)(g), Sch 1 Pt 2 para 18")
    description: str | None
    url: str | None
    legislation: list[str] = strawberry.field(
        description="Titles of the statutes it rests on, directly or indirectly (a statute "
        "names itself)"
    )
    rests_on_ids: strawberry.Private[tuple[str, ...]]

    @classmethod
    def from_record(cls, rec: r.LegalBasisRecord) -> LegalBasis:
        """The GraphQL view of a record."""
        return cls(
            **record_values(
                cls,
                rec,
                rests_on_ids=rec.rests_on_ids,
            )
        )

    @resolver(description="The statutes this basis rests on directly")
    async def rests_on(self, info: Info) -> list[LegalBasis]:
        return legal_bases(await many(loaders(info).legal_bases, self.rests_on_ids))


def legal_bases(recs: list[r.LegalBasisRecord]) -> list[LegalBasis]:
    """GraphQL views of legal basis records."""
    return [LegalBasis.from_record(rec) for rec in recs]


@strawberry.type(
    description="A statute, regulation, guidance or DPA 2018 condition one use rests on"
)
class LawCitation:
    law: LegalBasis
    provision: str | None = strawberry.field(
        description="The section, regulation or paragraph for this use, e.g. s537A"
    )


@strawberry.type(
    description="A lawful basis as one activity or disclosure relies on it, with the law it "
    "rests on for that use only"
)
class Citation:
    basis: LegalBasis = strawberry.field(
        description="The Article 6 basis or Article 9/10 condition"
    )
    rests_on: list[LawCitation] = strawberry.field(
        description="The law this use of the basis rests on (empty for consent, vital interests)"
    )


def citation_ids(recs: Iterable[r.CitationRecord]) -> list[str]:
    """Every basis and law the citations name, each once."""
    return list(dict.fromkeys(i for c in recs for i in (c.basis_id, *(x.law_id for x in c.laws))))


def citations(recs: Iterable[r.CitationRecord], bases: Mapping[str, LegalBasis]) -> list[Citation]:
    """Views of citations from views of the bases and laws they name (missing ones left out)."""
    out = []
    for rec in recs:
        basis = bases.get(rec.basis_id)
        if basis is None:
            continue
        laws = [
            LawCitation(law=law, provision=x.provision)
            for x in rec.laws
            if (law := bases.get(x.law_id)) is not None
        ]
        out.append(Citation(basis=basis, rests_on=laws))
    return out


async def load_citations(info: Info, recs: tuple[r.CitationRecord, ...]) -> list[Citation]:
    """Views of a use's citations, reading the bases and laws they name in one batch."""
    found = await many(loaders(info).legal_bases, citation_ids(recs))
    return citations(recs, {b.id: LegalBasis.from_record(b) for b in found})


@strawberry.type(description="Software that holds or moves the data")
@with_public_fields(document.System)
class System:
    id: strawberry.ID
    name: str
    description: str | None
    location: str | None = strawberry.field(description="Where the data is hosted")
    operator_id: strawberry.Private[str | None]

    @classmethod
    def from_record(cls, rec: r.SystemRecord) -> System:
        """The GraphQL view of a record."""
        return cls(
            **record_values(
                cls,
                rec,
                operator_id=rec.operator_id,
            )
        )

    @resolver(description="The organisation that runs it")
    async def operator(self, info: Info) -> Organisation | None:
        rec = await maybe(loaders(info).organisations, self.operator_id)
        return Organisation.from_record(rec) if rec else None
