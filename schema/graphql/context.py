"""The request context: the abstract data access the GraphQL types rely on.

The service builds one context per request, with fresh loaders, so that every record is read
at most once per operation and nothing is cached between requests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Collection, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from schema.access.policy import PublicReads, ReadScope, read_scope
from schema.access.principal import Principal
from schema.compliance.graphql_types import ComplianceDocuments
from schema.graphql.records import (
    ActivityFilter,
    ActivityRecord,
    CategoryRecord,
    ChangeEntryRecord,
    DisclosureFilter,
    DisclosureRecord,
    EngagementRecord,
    LegalBasisRecord,
    LineageAnswer,
    ObjectionRecord,
    OrganisationRecord,
    OrganisationRole,
    RecipientsQuestion,
    RefKind,
    SubjectRecord,
    SystemRecord,
)
from schema.graphql.writes import ChangeRecord, History, Writer
from schema.sub_processor_list import NoticeTerms

K = TypeVar("K", contravariant=True)
V = TypeVar("V")


class Loader(Protocol[K, V]):
    """Batches the loads of one request into few queries (a DataLoader fits)."""

    def load(self, key: K) -> Awaitable[V]:
        """The value for `key`; loads issued together are fetched together."""
        ...

    def load_many(self, keys: Iterable[K]) -> Awaitable[list[V]]:
        """The values for `keys`, in order."""
        ...


class Catalogue(Loader[str, V | None], Protocol[V]):
    """A small set (categories, legal bases, ...) read whole, at most once per request."""

    def all(self) -> Awaitable[list[V]]:
        """Every member of the set."""
        ...


@dataclass(frozen=True)
class Loaders:
    """Per-request loaders by id; an unknown id loads as None."""

    organisations: Loader[str, OrganisationRecord | None]
    activities: Loader[str, ActivityRecord | None]
    disclosures: Loader[str, DisclosureRecord | None]
    activity_disclosures: Loader[str, list[DisclosureRecord]]
    engagements: Loader[str, EngagementRecord | None]
    categories: Catalogue[CategoryRecord]
    subjects: Catalogue[SubjectRecord]
    legal_bases: Catalogue[LegalBasisRecord]
    systems: Loader[str, SystemRecord | None]
    # By processor id: each controller's contract terms with it (for objection deadlines).
    notice_terms: Loader[str, list[NoticeTerms]]
    # By engagement id: the objections recorded against it.
    objections: Loader[str, list[ObjectionRecord]]


class Reader(Protocol):
    """The questions the root fields ask; each answer primes the loaders."""

    async def resolve(self, kind: RefKind, ref: str, recorded_at: dt.datetime | None = None) -> str:
        """The id of the thing `ref` names by id or name (any case), in the current record or
        the one as recorded at `recorded_at`; NotFound if it named nothing there."""
        ...

    def loaders_at(self, recorded_at: dt.datetime) -> Loaders:
        """The loaders of the record as recorded at `recorded_at`: one set per moment and
        request, apart from the current record's, so that records never share a cache."""
        ...

    async def organisations(
        self, *, fields: Collection[str] | None = None
    ) -> list[OrganisationRecord]:
        """Every organisation, by name; with `fields` (of OrganisationRecord), records that
        hold only those, the id, name and kind (for a selection of no more)."""
        ...

    async def systems(self) -> list[SystemRecord]:
        """Every system, by name."""
        ...

    async def activities(
        self, question: ActivityFilter, *, fields: Collection[str] | None = None
    ) -> list[ActivityRecord]:
        """The activities that match, by name; with `fields` (of ActivityRecord), records that
        hold only those, the id, name and controller (for a selection of no more)."""
        ...

    async def change_head(self) -> str:
        """A token of the change log's head: another after every change recorded."""
        ...

    async def horizons(self, moments: Sequence[dt.datetime]) -> tuple[str, ...]:
        """For each moment, all that the record as recorded then depends on, as a token: the
        part of the change log it is made of (graph.read.snapshots.Horizon)."""
        ...

    async def recipients(
        self,
        question: RecipientsQuestion,
        *,
        named: bool = False,
        activities: bool = False,
        engagements: bool = False,
        properties: Collection[str] | None = None,
        reference: bool = False,
        cited: bool = True,
    ) -> LineageAnswer:
        """Who receives the data, with every path that reaches each recipient; with `named`,
        the question's category and controller are as the client gave them (an id or a name,
        any case; NotFound if one names nothing); with `activities` or `engagements`, those
        on the paths come with it (and prime the loaders), or with `properties` (of
        ActivityRecord) only those of an activity and an engagement's own (for a selection of
        no more: such records prime nothing); with `reference`, the reference data comes with
        it (and primes its loaders); without `cited`, the hops come without their citations."""
        ...

    async def sub_processors(
        self, processor_id: str, as_of: dt.date, recorded_at: dt.datetime | None = None
    ) -> list[EngagementRecord]:
        """The processor's engagements in force on `as_of`, in the record as recorded at
        `recorded_at` (None: the current record)."""
        ...

    async def organisation_roles(self) -> dict[str, frozenset[OrganisationRole]]:
        """The roles each organisation plays anywhere in the register, by id."""
        ...

    async def disclosures(self, question: DisclosureFilter) -> list[DisclosureRecord]:
        """The disclosures in force on the day that match, by id."""
        ...

    async def changes_per_month(
        self, controller_id: str | None, recorded_at: dt.datetime | None = None
    ) -> list[tuple[str, int]]:
        """(YYYY-MM, changes recorded) for the controller's registers (or all), oldest first;
        with `recorded_at`, those recorded before that moment."""
        ...

    async def latest_changes(
        self, controller_id: str | None, limit: int, recorded_at: dt.datetime | None = None
    ) -> list[ChangeEntryRecord]:
        """The newest `limit` changes in the controller's registers (or all), newest first;
        with `recorded_at`, the newest recorded before that moment."""
        ...

    async def register_objections(
        self, register_id: str, recorded_at: dt.datetime | None = None
    ) -> list[ObjectionRecord]:
        """The newest objections belonging to the register (made by it, or to the engagements
        of the processor whose register it is); with `recorded_at`, those made before it."""
        ...


@dataclass(frozen=True)
class ChangeReplay:
    """Recorded changes after a sequence, oldest first, and how far the log was read."""

    changes: Sequence[ChangeRecord]
    # The highest sequence looked at, matching or not; None when there was nothing after.
    scanned_through: int | None


class LiveChanges(Protocol):
    """One subscriber's share of the changes as they are committed."""

    @property
    def position(self) -> int:
        """Every change up to this sequence was committed before the subscriber registered;
        `next` gives every later one (of its processor), in order."""
        ...

    async def next(self) -> ChangeRecord | None:
        """The next change; None once the subscriber fell too far behind and was dropped."""
        ...


class ChangeStream(Protocol):
    """The sub-processor changes: live, and recorded (to replay from a given event)."""

    def live(self, processor_id: str | None) -> AbstractAsyncContextManager[LiveChanges]:
        """Register a subscriber (of one processor's changes, or all) for the block."""
        ...

    async def sequence_of(self, event_id: str) -> int | None:
        """The sequence number of a change event; None when no event has that id."""
        ...

    async def replay(self, after: int, processor_id: str | None, limit: int) -> ChangeReplay:
        """Up to `limit` recorded changes with sequence > `after`, oldest first."""
        ...


@dataclass
class RegistryContext:
    """What every resolver gets as `info.context`."""

    reader: Reader
    loaders: Loaders
    today: dt.date
    # Reads a controller's whole record for the gap checks (schema.compliance).
    compliance_documents: ComplianceDocuments | None = None
    request: Any = None
    response: Any = None
    # Set by the graphql-transport-ws handler when a subscription connects.
    connection_params: Any = field(default=None)
    # The process's change follower; subscriptions need it, queries do not.
    changes: ChangeStream | None = None
    # Who the request acts as: the bearer token it presented, if that is a configured one.
    principal: Principal | None = None
    # What callers without a principal may read (ROPA_PUBLIC_READS).
    public_reads: PublicReads = PublicReads.SUBPROCESSORS
    # Mutations and webhook administration, and the recorded change history.
    writer: Writer | None = None
    history: History | None = None
    # The moment of the past record each root field (by response key) reads, if not the
    # current one: the fields below it load from that record's loaders (`loaders_for`).
    root_records: dict[str, dt.datetime] = field(default_factory=dict)

    def loaders_for(self, root: str) -> Loaders:
        """The loaders of the record the root field `root` (its response key) reads."""
        at = self.root_records.get(root)
        return self.loaders if at is None else self.reader.loaders_at(at)

    @property
    def scope(self) -> ReadScope:
        """What this request may read: its principal's scope and the public reads."""
        return read_scope(self.principal, self.public_reads)
