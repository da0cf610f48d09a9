"""The loaders of a past record: every load answered from the register as recorded at a moment.

A request that reads the record as recorded at T (`recordedAt`) gets a loader set of its own for
T, beside the current record's (services.registry.loaders): a field under a root field that
read T loads T's organisations, activities, disclosures, engagements, systems and reference
sets, never today's, whatever else the request reads. The record is rebuilt once per request
and moment (graph.read.recorded), on first use; the objections are today's as recorded by then
(an objection is never changed once made). Scope applies as for the current record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Generic, TypeVar

from strawberry.dataloader import DataLoader

from graph import objections
from graph.database import Database
from graph.read import recorded
from schema.graphql.context import Loaders
from schema.graphql.records import DisclosureRecord, ObjectionRecord
from schema.sub_processor_list import NoticeTerms
from services.registry.scoping import Scope, scoped_loaders

V = TypeVar("V")
L = TypeVar("L")
Record = Callable[[], Awaitable[recorded.Record]]


class _ById(Generic[V]):
    """A loader (and catalogue) of one kind of the record's entities, by id."""

    def __init__(self, record: Record, pick: Callable[[recorded.Record], Mapping[str, V]]) -> None:
        self._record = record
        self._pick = pick

    async def load(self, key: str) -> V | None:
        return self._pick(await self._record()).get(key)

    async def load_many(self, keys: Iterable[str]) -> list[V | None]:
        found = self._pick(await self._record())
        return [found.get(key) for key in keys]

    async def all(self) -> list[V]:
        return list(self._pick(await self._record()).values())


class _Lists(Generic[L]):
    """A loader of lists computed from the record, by key (an empty list for none)."""

    def __init__(
        self,
        record: Record,
        pick: Callable[[recorded.Record, list[str]], Awaitable[Mapping[str, list[L]]]],
    ) -> None:
        self._record = record
        self._pick = pick

    async def load(self, key: str) -> list[L]:
        return (await self.load_many([key]))[0]

    async def load_many(self, keys: Iterable[str]) -> list[list[L]]:
        wanted = list(keys)
        found = await self._pick(await self._record(), wanted)
        return [list(found.get(key, [])) for key in wanted]


def record_loaders(db: Database, record: Record, recorded_at: dt.datetime, scope: Scope) -> Loaders:
    """The loaders of the record `record` gives (the one as recorded at `recorded_at`)."""

    async def terms(found: recorded.Record, keys: list[str]) -> Mapping[str, list[NoticeTerms]]:
        return recorded.notice_terms(found, keys)

    async def disclosures(
        found: recorded.Record, keys: list[str]
    ) -> Mapping[str, list[DisclosureRecord]]:
        return recorded.disclosures_of_activities(found, keys)

    async def objected(keys: list[str]) -> list[list[ObjectionRecord]]:
        # Objections are not part of a register's snapshots; made before the moment, they are
        # in its record (one is never changed once made).
        made = await objections.of_engagements(db, keys)
        return [[o for o in made.get(key, []) if o.objected_at < recorded_at] for key in keys]

    raw = Loaders(
        organisations=_ById(record, lambda r: r.organisations),
        activities=_ById(record, lambda r: r.activities),
        disclosures=_ById(record, lambda r: r.disclosures),
        activity_disclosures=_Lists(record, disclosures),
        engagements=_ById(record, lambda r: r.engagements),
        categories=_ById(record, lambda r: r.reference.categories),
        subjects=_ById(record, lambda r: r.reference.subjects),
        legal_bases=_ById(record, lambda r: r.reference.legal_bases),
        systems=_ById(record, lambda r: r.systems),
        notice_terms=_Lists(record, terms),
        objections=DataLoader(load_fn=objected),
    )
    return scoped_loaders(raw, scope)
