"""The request context on the graph: per-request DataLoaders and the root questions.

Each loader batches the loads of one tick into one read transaction and caches its records
for the rest of the request; the reference data (categories, data subjects, legal bases) is
read whole, once, on first use. Nothing outlives the request.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Generic, TypeVar

from strawberry.dataloader import DataLoader

from graph import changes, objections
from graph.database import Database
from graph.read import (
    activities,
    catalogue,
    engagements,
    lineage,
    organisations,
    recorded,
    refs,
    snapshots,
)
from graph.read import changes as read_changes
from graph.secret_box import SecretBox
from graph.to_document import GraphDocumentLoader
from schema.access.policy import PublicReads
from schema.errors import NotFound
from schema.graphql.context import Loaders, RegistryContext
from schema.graphql.records import (
    ActivityFilter,
    ActivityRecord,
    ChangeEntryRecord,
    DisclosureFilter,
    DisclosureRecord,
    EngagementRecord,
    LineageAnswer,
    ObjectionRecord,
    OrganisationRecord,
    OrganisationRole,
    RecipientsQuestion,
    RefKind,
    SystemRecord,
)
from schema.sub_processor_list import NoticeTerms
from schema.webhook_url import TargetPolicy
from services.registry.auth import request_principal
from services.registry.client_address import client_address
from services.registry.record_loaders import record_loaders
from services.registry.scoping import (
    Scope,
    organisation_view,
    readable,
    readable_engagement,
    scoped_loaders,
)
from services.registry.settings import RegistrySettings
from services.registry.writer import GraphHistory, GraphWriter

K = TypeVar("K")
V = TypeVar("V")


def _by_id(
    fetch: Callable[[Database, list[str]], Awaitable[Mapping[str, V]]], db: Database
) -> DataLoader[str, V | None]:
    async def load(keys: list[str]) -> list[V | None]:
        found = await fetch(db, keys)
        return [found.get(key) for key in keys]

    return DataLoader(load_fn=load)


class _Once(Generic[V]):
    """One fetch per request, shared by every caller, including those that ask meanwhile."""

    def __init__(self, fetch: Callable[[], Awaitable[V]]) -> None:
        self._fetch = fetch
        self._task: asyncio.Future[V] | None = None

    def get(self) -> Awaitable[V]:
        if self._task is None:
            self._task = asyncio.ensure_future(self._fetch())
        return self._task

    def prime(self, value: V) -> None:
        """Take `value`, read with another answer, as the fetch's, unless it has begun."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_future()
            self._task.set_result(value)


class _Catalogue(Generic[V]):
    """One of the reference sets, viewed from the request's single read of all of them."""

    def __init__(
        self,
        data: _Once[catalogue.ReferenceData],
        pick: Callable[[catalogue.ReferenceData], Mapping[str, V]],
    ) -> None:
        self._data = data
        self._pick = pick

    async def load(self, key: str) -> V | None:
        return self._pick(await self._data.get()).get(key)

    async def load_many(self, keys: Iterable[str]) -> list[V | None]:
        found = self._pick(await self._data.get())
        return [found.get(key) for key in keys]

    async def all(self) -> list[V]:
        return list(self._pick(await self._data.get()).values())


async def _notice_terms(db: Database, processor_ids: list[str]) -> dict[str, list[NoticeTerms]]:
    out: dict[str, list[NoticeTerms]] = defaultdict(list)
    for terms in await engagements.notice_terms(db, processor_ids):
        out[terms.processor_id].append(terms)
    return out


def _lists(
    fetch: Callable[[Database, list[str]], Awaitable[Mapping[str, list[V]]]], db: Database
) -> DataLoader[str, list[V]]:
    async def load(keys: list[str]) -> list[list[V]]:
        found = await fetch(db, keys)
        return [found.get(key, []) for key in keys]

    return DataLoader(load_fn=load)


class GraphReader:
    """The root questions of one request, answered from the graph, and the request's loaders.

    Root answers prime the loaders, so that fields of the records they return cost nothing.
    Every answer, and every load, is cut to the request's scope (services.registry.scoping).
    """

    def __init__(self, db: Database, scope: Scope) -> None:
        self._db = db
        self._scope = scope
        self._refs: DataLoader[tuple[RefKind, str], str] = DataLoader(load_fn=self._resolve)
        self._organisations = _by_id(organisations.organisations_by_id, db)
        self._activities = _by_id(activities.activities_by_id, db)
        self._engagements = _by_id(engagements.engagements_by_id, db)
        self._systems = _by_id(organisations.systems_by_id, db)
        self._disclosures = _by_id(activities.disclosures_by_id, db)
        data = _Once(lambda: catalogue.reference_data(db))
        self._reference = data
        raw = Loaders(
            organisations=self._organisations,
            activities=self._activities,
            disclosures=self._disclosures,
            activity_disclosures=_lists(activities.disclosures_of_activities, db),
            engagements=self._engagements,
            categories=_Catalogue(data, lambda d: d.categories),
            subjects=_Catalogue(data, lambda d: d.subjects),
            legal_bases=_Catalogue(data, lambda d: d.legal_bases),
            systems=self._systems,
            notice_terms=_lists(_notice_terms, db),
            objections=_lists(objections.of_engagements, db),
        )
        self.loaders = scoped_loaders(raw, scope)
        # Each past record read, once per request and moment, and its own loader set.
        self._records: dict[dt.datetime, _Once[recorded.Record]] = {}
        self._past: dict[dt.datetime, Loaders] = {}

    def _once(self, at: dt.datetime) -> _Once[recorded.Record]:
        found = self._records.get(at)
        if found is None:
            found = _Once(lambda: self._rebuild(at))
            self._records[at] = found
        return found

    async def _rebuild(self, at: dt.datetime) -> recorded.Record:
        scope = self._scope()
        registers = None if scope.registers is None else scope.register_list()
        return await recorded.record_at(self._db, registers, at, lists=scope.lists)

    async def _record(self, at: dt.datetime) -> recorded.Record:
        """The registers in scope as recorded at `at`, rebuilt once per request and moment."""
        return await self._once(at).get()

    def loaders_at(self, recorded_at: dt.datetime) -> Loaders:
        found = self._past.get(recorded_at)
        if found is None:
            found = record_loaders(self._db, self._once(recorded_at).get, recorded_at, self._scope)
            self._past[recorded_at] = found
        return found

    async def _resolve(self, keys: list[tuple[RefKind, str]]) -> list[str | BaseException]:
        # Every kind at once: a `recipients` names a category and a controller.
        return list(await refs.resolve_many(self._db, keys))

    async def resolve(self, kind: RefKind, ref: str, recorded_at: dt.datetime | None = None) -> str:
        if recorded_at is None:
            return await self._refs.load((kind, ref))
        found = recorded.resolve(await self._record(recorded_at), kind, ref, recorded_at)
        if isinstance(found, Exception):
            raise found
        return found

    async def organisations(
        self, *, fields: Collection[str] | None = None
    ) -> list[OrganisationRecord]:
        found = await organisations.all_organisations(self._db, fields=fields)
        if fields is None:  # incomplete records must not answer other fields' loads
            self._organisations.prime_many({o.id: o for o in found})
        scope = self._scope()
        return [organisation_view(scope, o) for o in found if scope.reads(o.registers)]

    async def systems(self) -> list[SystemRecord]:
        found = await organisations.all_systems(self._db)
        self._systems.prime_many({s.id: s for s in found})
        scope = self._scope()
        return [s for s in found if readable(scope, s)]

    async def activities(
        self, question: ActivityFilter, *, fields: Collection[str] | None = None
    ) -> list[ActivityRecord]:
        if question.recorded_at is not None:
            past = recorded.activities(await self._record(question.recorded_at), question)
            scope = self._scope()
            return [a for a in past if readable(scope, a)]
        found = await activities.find_activities(self._db, question, fields=fields)
        if fields is None:  # incomplete records must not answer other fields' loads
            self._activities.prime_many({a.id: a for a in found})
        scope = self._scope()
        return [a for a in found if readable(scope, a)]

    async def change_head(self) -> str:
        # Read before every cached operation: one auto-commit query (about half the driver's
        # CPU of a managed transaction); an outage leaves the operation uncached, not failed.
        return await self._db.read_autocommit(changes.head)

    async def horizons(self, moments: Sequence[dt.datetime]) -> tuple[str, ...]:
        found = await self._db.read(snapshots.covered_each, list(moments))
        return tuple(h.token for h in found)

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
        scope = self._scope()
        at = question.recorded_at
        found: lineage.Lineage | None = None
        if at is not None:
            if named:
                question = await self._resolved(question)
            # Its records are already those of the past record's own loaders.
            found = recorded.trace(await self._record(at), question)
        else:
            question = replace(question, scope=scope)
            if named and _may_be_ids(question):
                # Refs are mostly ids: tried as such in the traversal's own read, which says
                # when one is no id; only then are they resolved (names), in a read before it.
                with contextlib.suppress(NotFound):
                    found = await self._trace(
                        _as_ids(question), activities, engagements, properties, reference, cited
                    )
            if found is None:
                if named:
                    question = await self._resolved(question)
                found = await self._trace(
                    question, activities, engagements, properties, reference, cited
                )
        return LineageAnswer(
            found.recipients,
            {k: a for k, a in found.activities.items() if readable(scope, a)}
            if activities
            else None,
            {k: e for k, e in found.engagements.items() if readable_engagement(scope, e)}
            if engagements
            else None,
        )

    async def _resolved(self, question: RecipientsQuestion) -> RecipientsQuestion:
        """`question` with its category and controller, as the client named them, resolved."""
        at = question.recorded_at
        category_id, controller_id = await asyncio.gather(
            self.resolve(RefKind.DATA_CATEGORY, question.category_id, at),
            _maybe_resolved(self, RefKind.ORGANISATION, question.controller_id, at),
        )
        return replace(question, category_id=category_id, controller_id=controller_id)

    async def _trace(
        self,
        question: RecipientsQuestion,
        activities: bool,
        engagements: bool,
        properties: Collection[str] | None,
        reference: bool,
        cited: bool,
    ) -> lineage.Lineage:
        found = await lineage.trace(
            self._db,
            question,
            activities=activities,
            engagements=engagements,
            properties=properties,
            reference=reference,
            cited=cited,
        )
        self._organisations.prime_many(found.organisations)
        if found.complete:  # incomplete records must not answer other fields' loads
            self._activities.prime_many(found.activities)
            self._engagements.prime_many(found.engagements)
        if found.reference is not None:
            self._reference.prime(found.reference)
        return found

    async def sub_processors(
        self, processor_id: str, as_of: dt.date, recorded_at: dt.datetime | None = None
    ) -> list[EngagementRecord]:
        if recorded_at is not None:
            past = await self._record(recorded_at)
            found = recorded.sub_processors(past, processor_id, as_of)
        else:
            found = await engagements.in_force(self._db, processor_id, as_of)
            self._engagements.prime_many({e.id: e for e in found})
        scope = self._scope()
        return [e for e in found if readable_engagement(scope, e)]

    async def organisation_roles(self) -> dict[str, frozenset[OrganisationRole]]:
        return await organisations.organisation_roles(self._db)

    async def disclosures(self, question: DisclosureFilter) -> list[DisclosureRecord]:
        if question.recorded_at is not None:
            found = recorded.disclosures(await self._record(question.recorded_at), question)
        else:
            found = await activities.find_disclosures(self._db, question)
            self._disclosures.prime_many({d.id: d for d in found})
        scope = self._scope()
        return [d for d in found if readable(scope, d)]

    async def changes_per_month(
        self, controller_id: str | None, recorded_at: dt.datetime | None = None
    ) -> list[tuple[str, int]]:
        return await read_changes.changes_per_month(self._db, controller_id, recorded_at)

    async def latest_changes(
        self, controller_id: str | None, limit: int, recorded_at: dt.datetime | None = None
    ) -> list[ChangeEntryRecord]:
        return await read_changes.latest_changes(self._db, controller_id, limit, recorded_at)

    async def register_objections(
        self, register_id: str, recorded_at: dt.datetime | None = None
    ) -> list[ObjectionRecord]:
        # An objection is never changed once made: those made before the moment were its.
        return await objections.of_register(self._db, register_id, before=recorded_at)


def _may_be_ids(question: RecipientsQuestion) -> bool:
    refs_given = (question.category_id, question.controller_id or "")
    return all(refs.may_be_id(ref) for ref in refs_given if ref)


def _as_ids(question: RecipientsQuestion) -> RecipientsQuestion:
    """The question with its refs read as ids (which match in any case)."""
    controller = question.controller_id
    return replace(
        question,
        category_id=question.category_id.lower(),
        controller_id=None if controller is None else controller.lower(),
    )


async def _maybe_resolved(
    reader: GraphReader, kind: RefKind, ref: str | None, at: dt.datetime | None
) -> str | None:
    return None if ref is None else await reader.resolve(kind, ref, at)


def _app_state(request: Any, name: str) -> Any:
    scope = getattr(request, "scope", None)
    app = scope.get("app") if isinstance(scope, dict) else None
    return getattr(getattr(app, "state", None), name, None)


def _settings(request: Any) -> RegistrySettings | None:
    settings = _app_state(request, "settings")
    return settings if isinstance(settings, RegistrySettings) else None


def _client(request: Any) -> str | None:
    scope = getattr(request, "scope", None)
    return client_address(scope) if isinstance(scope, dict) else None


def _secret_box(request: Any) -> SecretBox:
    # Built once by the app factory; a context built outside an app stores secrets as given.
    box = _app_state(request, "secret_box")
    return box if isinstance(box, SecretBox) else SecretBox()


def build_context(db: Database, request: Any = None, response: Any = None) -> RegistryContext:
    """The context of one request: a reader with fresh loaders, the principal its bearer token
    names (services.registry.auth), and the writer and change history of the change API."""
    built: list[RegistryContext] = []
    reader = GraphReader(db, lambda: built[0].scope)
    settings = _settings(request)
    context = RegistryContext(
        reader=reader,
        loaders=reader.loaders,
        today=dt.date.today(),
        compliance_documents=GraphDocumentLoader(db),
        request=request,
        response=response,
        principal=request_principal(request),
        public_reads=settings.public_reads if settings else PublicReads.SUBPROCESSORS,
        writer=GraphWriter(
            db,
            settings.webhook_policy if settings else TargetPolicy(),
            _secret_box(request),
            subscriptions=_app_state(request, "subscriptions"),
            client=_client(request),
        ),
        history=GraphHistory(db),
    )
    built.append(context)
    return context
