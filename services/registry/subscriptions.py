"""Organisations for the process's WebSocket connections: one read serves every subscriber.

A subscription's fields name organisations (`processor { name }`), and every connection has
its own loaders: for one change, a thousand subscribers would each read the same organisations,
all at once, and then keep them for as long as they stay connected. Instead, connections share
`SharedOrganisations`: the follower hands it the organisations it read with each page of
changes; anything else is read once for all who ask meanwhile; and nothing is served older than
`ttl` seconds.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping

from schema.graphql.context import RegistryContext
from schema.graphql.records import OrganisationRecord
from services.registry.scoping import scoped_organisations

Fetch = Callable[[list[str]], Awaitable[Mapping[str, OrganisationRecord]]]


class SharedOrganisations:
    """Organisations by id, read at most once per `ttl` seconds each, in batches."""

    def __init__(
        self, fetch: Fetch, ttl: float = 10.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl
        self._clock = clock
        self._fresh: dict[str, tuple[float, OrganisationRecord | None]] = {}
        self._pending: dict[str, asyncio.Future[OrganisationRecord | None]] = {}
        self._batch: list[str] = []
        self._reading: set[asyncio.Task[None]] = set()

    def remember(self, found: Mapping[str, OrganisationRecord]) -> None:
        """Keep organisations just read (with a page of changes); forget stale ones."""
        now = self._clock()
        self._fresh = {k: v for k, v in self._fresh.items() if now - v[0] <= self._ttl}
        self._fresh.update((key, (now, record)) for key, record in found.items())

    def _recent(self, key: str) -> tuple[float, OrganisationRecord | None] | None:
        found = self._fresh.get(key)
        return found if found is not None and self._clock() - found[0] <= self._ttl else None

    async def load(self, key: str) -> OrganisationRecord | None:
        """The organisation with id `key` (None if there is none)."""
        recent = self._recent(key)
        if recent is not None:
            return recent[1]
        pending = self._pending.get(key)
        if pending is None:
            pending = self._pending[key] = asyncio.get_running_loop().create_future()
            self._batch.append(key)
            if len(self._batch) == 1:
                asyncio.get_running_loop().call_soon(self._read_batch)
        return await asyncio.shield(pending)

    async def load_many(self, keys: Iterable[str]) -> list[OrganisationRecord | None]:
        """The organisations with ids `keys`, in order."""
        return list(await asyncio.gather(*(self.load(key) for key in keys)))

    def _read_batch(self) -> None:
        keys, self._batch = self._batch, []
        task = asyncio.get_running_loop().create_task(self._read(keys))
        self._reading.add(task)  # a reference until it is done
        task.add_done_callback(self._reading.discard)

    async def _read(self, keys: list[str]) -> None:
        futures = {key: self._pending.pop(key) for key in keys}
        try:
            found = await self._fetch(keys)
        except Exception as exc:
            for future in futures.values():
                if not future.done():
                    future.set_exception(exc)
            return
        except BaseException:
            for future in futures.values():
                future.cancel()
            raise
        now = self._clock()
        for key, future in futures.items():
            record = found.get(key)
            self._fresh[key] = (now, record)
            if not future.done():
                future.set_result(record)


def share_organisations(context: RegistryContext, shared: SharedOrganisations) -> None:
    """Let a WebSocket connection's context read organisations through `shared`."""
    context.loaders = dataclasses.replace(
        context.loaders, organisations=scoped_organisations(shared, lambda: context.scope)
    )
