"""Every record a request reads, cut to what its principal may read (schema.access.policy).

The graph's reads return each record with the registers that declare it; the request's loaders
pass every record through a view of the request's `ReadScope` before a resolver sees it: a
record the scope may not read loads as None (as if absent), and an organisation whose register
is out of scope loses its people's contact details. The scope is asked for on each load, so a
WebSocket's principal, set at `connection_init` after the context was built, applies too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from schema.access.policy import ReadScope
from schema.graphql.context import Loader, Loaders
from schema.graphql.records import (
    ActivityRecord,
    DisclosureRecord,
    EngagementRecord,
    ObjectionRecord,
    OrganisationRecord,
    SystemRecord,
)

K = TypeVar("K")
V = TypeVar("V")
Scope = Callable[[], ReadScope]


def organisation_view(scope: ReadScope, found: OrganisationRecord) -> OrganisationRecord:
    """The organisation, without its contacts unless the scope holds a register declaring it.

    Organisations are named by what the scope may read (a public sub-processor list names its
    processor), so they are never hidden here; the root fields cut them to scope."""
    if scope.reads_people(found.registers):
        return found
    if found.contact is None and found.dpo is None and found.representative is None:
        return found  # nothing to take out (a list that did not read them): no copy per item
    return dataclasses.replace(found, contact=None, dpo=None, representative=None)


def readable(scope: ReadScope, found: ActivityRecord | DisclosureRecord | SystemRecord) -> bool:
    """Whether a record of a register's own content may be read."""
    return scope.reads(found.registers)


def readable_engagement(scope: ReadScope, found: EngagementRecord) -> bool:
    """Whether an engagement may be read: in scope, a published sub-processor list, or the
    sub-processing of the scope's own processing."""
    return scope.reads_engagement(found.registers, found.activity_registers)


def readable_objection(scope: ReadScope, found: ObjectionRecord) -> bool:
    """Whether an objection may be read: by the objecting register's and the processor's own
    principals (schema.access.policy.objection_registers), not by everyone reading the list."""
    return scope.reads(found.registers)


class ScopedLists(Generic[K, V]):
    """A loader of lists, each without the items the request's scope may not read."""

    def __init__(
        self, inner: Loader[K, list[V]], scope: Scope, check: Callable[[ReadScope, V], bool]
    ) -> None:
        self._inner = inner
        self._scope = scope
        self._check = check

    def _seen(self, found: list[V]) -> list[V]:
        scope = self._scope()
        return [item for item in found if self._check(scope, item)]

    async def load(self, key: K) -> list[V]:
        """The list, as the scope may see it."""
        return self._seen(await self._inner.load(key))

    async def load_many(self, keys: Iterable[K]) -> list[list[V]]:
        """The lists, as the scope may see them, in order."""
        return [self._seen(found) for found in await self._inner.load_many(keys)]


class Scoped(Generic[K, V]):
    """A loader whose records pass through `view` under the request's scope (None: hidden)."""

    def __init__(
        self,
        inner: Loader[K, V | None],
        scope: Scope,
        view: Callable[[ReadScope, V], V | None],
    ) -> None:
        self._inner = inner
        self._scope = scope
        self._view = view

    def _seen(self, found: V | None) -> V | None:
        return None if found is None else self._view(self._scope(), found)

    async def load(self, key: K) -> V | None:
        """The record, as the scope may see it."""
        return self._seen(await self._inner.load(key))

    async def load_many(self, keys: Iterable[K]) -> list[V | None]:
        """The records, as the scope may see them, in order."""
        return [self._seen(found) for found in await self._inner.load_many(keys)]


def _only(check: Callable[[ReadScope, V], bool]) -> Callable[[ReadScope, V], V | None]:
    def view(scope: ReadScope, found: V) -> V | None:
        return found if check(scope, found) else None

    return view


def scoped_organisations(
    inner: Loader[str, OrganisationRecord | None], scope: Scope
) -> Loader[str, OrganisationRecord | None]:
    """Organisations as the scope may see them."""
    return Scoped(inner, scope, organisation_view)


def scoped_loaders(loaders: Loaders, scope: Scope) -> Loaders:
    """The request's loaders, each cut to the scope."""
    return dataclasses.replace(
        loaders,
        organisations=scoped_organisations(loaders.organisations, scope),
        activities=Scoped(loaders.activities, scope, _only(readable)),
        disclosures=Scoped(loaders.disclosures, scope, _only(readable)),
        engagements=Scoped(loaders.engagements, scope, _only(readable_engagement)),
        systems=Scoped(loaders.systems, scope, _only(readable)),
        objections=ScopedLists(loaders.objections, scope, readable_objection),
    )
