"""Types of the lineage answer: who receives the data, and along which paths.

A `recipients` answer may hold thousands of hops, so the root field builds them whole: the
organisations, categories, legal bases, activity and engagement of every hop are plain fields,
each view built once per id and shared, and resolve without a coroutine each; what the
selection does not ask for is not read (and left empty: nothing resolves it). Only a hop's
disclosure goes through its loader.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import strawberry

from schema.graphql import records as r
from schema.graphql.access import DanglingReference, Info, loaders, maybe, resolver
from schema.graphql.activity import Disclosure, Engagement, ProcessingActivity
from schema.graphql.assumption import Assumption
from schema.graphql.enums import HopKind
from schema.graphql.reference import (
    Citation,
    DataCategory,
    LegalBasis,
    Organisation,
    citation_ids,
    citations,
)
from schema.graphql.selection import selects


@strawberry.type(description="One step of a path: a disclosure or a sub-processor engagement")
class Hop:
    kind: HopKind
    condition: str | None = strawberry.field(description="e.g. once enrolment is confirmed")
    from_: Organisation = strawberry.field(name="from")
    to: Organisation

    categories: list[DataCategory] = strawberry.field(
        description="The hop's categories that the question is about: carried categories at or "
        "below the asked one; for an engagement, covered categories at, below or above it"
    )
    legal_bases: list[LegalBasis] = strawberry.field(
        description="The disclosure's legal bases; a sub-processor works under those of the "
        "hop that brought the data to its processor"
    )
    citations: list[Citation] = strawberry.field(
        description="Each basis of the hop with the law it rests on for this disclosure only; "
        "a sub-processor works under those of the hop that brought the data to its processor"
    )
    basis_of: Organisation | None = strawberry.field(
        description="Whose lawful bases `legalBases` and `citations` are: the controller of "
        "the activity, or, for a disclosure another controller makes as its own processing "
        "(the DfE sharing from the National Pupil Database), that controller; null on a "
        "SUB_PROCESSING hop"
    )
    activity: ProcessingActivity | None = strawberry.field(
        description="The activity the data moves in (for a sub-processor, the activity it was "
        "engaged for, else the one that brought the data to the processor)"
    )
    engagement: Engagement | None = strawberry.field(
        description="The engagement, for a SUB_PROCESSING hop"
    )
    assumptions: list[Assumption] = strawberry.field(
        description="What the record assumes that this hop rests on: the assumptions of its "
        "disclosure or engagement (`on`: disclosure or engagement), then those of the "
        "organisation it reaches (`on`: to), each with the field it is `about` (empty when the "
        "hop rests on none)"
    )
    rec: strawberry.Private[r.HopRecord]

    @resolver(description="The disclosure, for a DISCLOSURE or ONWARD_DISCLOSURE hop")
    async def disclosure(self, info: Info) -> Disclosure | None:
        rec = await maybe(loaders(info).disclosures, self.rec.disclosure_id)
        return Disclosure.from_record(rec) if rec else None


@strawberry.type(description="The hops from a controller to a recipient, in order")
class LineagePath:
    hops: list[Hop]


@strawberry.type(description="An organisation that receives the data")
class Recipient:
    paths: list[LineagePath] = strawberry.field(description="Every distinct path that reaches it")
    organisation: Organisation


def _own(rec: r.HopRecord) -> list[Assumption]:
    own = "engagement" if rec.kind is r.HopKind.SUB_PROCESSING else "disclosure"
    return [Assumption.from_record(a, on=own) for a in dict.fromkeys(rec.assumptions)]


@dataclass
class _Views:
    """One GraphQL view per id, shared by every hop that names it."""

    organisations: Mapping[str, Organisation]
    categories: Mapping[str, DataCategory]
    legal_bases: Mapping[str, LegalBasis]
    activities: Mapping[str, ProcessingActivity]
    engagements: Mapping[str, Engagement]
    # Whether the selection shows the hops' citations and assumptions (else left empty).
    cited: bool = True
    assumed: bool = True
    # Per organisation reached: its assumptions as a hop's (`on: to`), built once.
    reached: dict[str, list[Assumption]] = field(default_factory=dict)

    def assumptions(self, rec: r.HopRecord, to: Organisation) -> list[Assumption]:
        """The hop's own assumptions, then those of the organisation it reaches."""
        theirs = self.reached.get(rec.to_id)
        if theirs is None:
            theirs = self.reached[rec.to_id] = [
                Assumption(text=a.text, about=a.about, on="to") for a in to.assumptions
            ]
        return [*_own(rec), *theirs] if rec.assumptions else theirs

    def organisation(self, key: str) -> Organisation:
        found = self.organisations.get(key)
        if found is None:
            raise DanglingReference(f"organisation '{key}' is referenced but missing")
        return found

    def hop(self, rec: r.HopRecord) -> Hop:
        to = self.organisation(rec.to_id)
        return Hop(
            kind=rec.kind,
            condition=rec.condition,
            rec=rec,
            from_=self.organisation(rec.from_id),
            to=to,
            assumptions=self.assumptions(rec, to) if self.assumed else [],
            categories=[c for k in rec.category_ids if (c := self.categories.get(k))],
            legal_bases=[b for k in rec.legal_basis_ids if (b := self.legal_bases.get(k))],
            citations=citations(rec.citations, self.legal_bases) if self.cited else [],
            basis_of=self.organisations.get(rec.basis_of_id or ""),
            activity=self.activities.get(rec.activity_id or ""),
            engagement=self.engagements.get(rec.engagement_id or ""),
        )


async def _organisations(info: Info, keys: Iterable[str]) -> dict[str, Organisation]:
    ids = sorted(set(keys))
    found = await loaders(info).organisations.load_many(ids)
    return {k: Organisation.from_record(o) for k, o in zip(ids, found, strict=True) if o}


def reads_reference(info: Info) -> bool:
    """Whether the selection shows what the reference data holds (categories, legal bases)."""
    hop = ("paths", "hops")
    return any(selects(info, *hop, name) for name in ("categories", "legalBases", "citations"))


async def recipients(info: Info, answer: r.LineageAnswer) -> list[Recipient]:
    """The views of a lineage answer, for the field being resolved: the reference data is read
    only when the selection shows categories or legal bases, activities and engagements only
    when the answer did not bring them."""
    found = answer.recipients
    hops = [hop for rec in found for path in rec.paths for hop in path]
    orgs = await _organisations(
        info,
        [rec.organisation_id for rec in found]
        + [k for h in hops for k in (h.from_id, h.to_id)]
        + [h.basis_of_id for h in hops if h.basis_of_id],
    )
    categories: dict[str, DataCategory] = {}
    if selects(info, "paths", "hops", "categories"):
        ids = sorted({k for h in hops for k in h.category_ids})
        recs = await loaders(info).categories.load_many(ids)
        categories = {c.id: DataCategory.from_record(c) for c in recs if c}
    bases: dict[str, LegalBasis] = {}
    cited = selects(info, "paths", "hops", "citations")
    if cited or selects(info, "paths", "hops", "legalBases"):
        ids = sorted(
            {k for h in hops for k in h.legal_basis_ids}
            | ({k for h in hops for k in citation_ids(h.citations)} if cited else set())
        )
        found_bases = await loaders(info).legal_bases.load_many(ids)
        bases = {b.id: LegalBasis.from_record(b) for b in found_bases if b}
    activities: dict[str, ProcessingActivity] = {}
    if selects(info, "paths", "hops", "activity"):
        brought = answer.activities
        if brought is None:
            ids = sorted({h.activity_id for h in hops if h.activity_id})
            brought = {a.id: a for a in await loaders(info).activities.load_many(ids) if a}
        activities = {k: ProcessingActivity.from_record(a) for k, a in brought.items()}
    engagements: dict[str, Engagement] = {}
    if selects(info, "paths", "hops", "engagement"):
        given = answer.engagements
        if given is None:
            ids = sorted({h.engagement_id for h in hops if h.engagement_id})
            given = {e.id: e for e in await loaders(info).engagements.load_many(ids) if e}
        engagements = {k: Engagement.from_record(e) for k, e in given.items()}
    # 9,000 hops over 1,000 schools: their citations were a third of building the views.
    assumed = selects(info, "paths", "hops", "assumptions")
    views = _Views(orgs, categories, bases, activities, engagements, cited, assumed)
    # Paths through one organisation share the records of their first hops: one view each.
    hop_views: dict[int, Hop] = {}
    for hop in hops:
        if id(hop) not in hop_views:
            hop_views[id(hop)] = views.hop(hop)
    return [
        Recipient(
            paths=[LineagePath(hops=[hop_views[id(h)] for h in path]) for path in rec.paths],
            organisation=views.organisation(rec.organisation_id),
        )
        for rec in found
    ]
