"""The organisations every WebSocket connection shares: a thousand subscribers rendering one
change cost one read, what the follower read is served as is, and nothing older than the TTL."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import pytest

from schema.document import OrganisationKind
from schema.errors import DatabaseUnavailable
from schema.graphql.records import OrganisationRecord
from services.registry.subscriptions import SharedOrganisations


def organisation(key: str, name: str | None = None) -> OrganisationRecord:
    return OrganisationRecord(id=key, name=name or key.title(), kind=OrganisationKind.COMPANY)


class Reads:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.fail = False

    async def __call__(self, ids: list[str]) -> Mapping[str, OrganisationRecord]:
        self.calls.append(sorted(ids))
        await asyncio.sleep(0.01)
        if self.fail:
            raise DatabaseUnavailable("down")
        return {i: organisation(i) for i in ids if i != "gone"}


async def test_concurrent_loads_make_one_read() -> None:
    reads = Reads()
    shared = SharedOrganisations(reads)
    found = await asyncio.gather(
        *(shared.load(key) for _ in range(1000) for key in ("portal-co", "host-co", "gone"))
    )
    assert reads.calls == [["gone", "host-co", "portal-co"]]
    assert {f.id for f in found if f is not None} == {"portal-co", "host-co"}
    assert found.count(None) == 1000
    # Then from memory, unknown ones included.
    assert await shared.load_many(["host-co", "gone"]) == [organisation("host-co"), None]
    assert len(reads.calls) == 1


async def test_what_the_follower_read_is_served_until_it_is_stale() -> None:
    reads = Reads()
    now = [100.0]
    shared = SharedOrganisations(reads, ttl=10, clock=lambda: now[0])
    shared.remember({"portal-co": organisation("portal-co", "Portal Co (renamed)")})
    now[0] += 10
    assert (await shared.load("portal-co")) == organisation("portal-co", "Portal Co (renamed)")
    assert reads.calls == []
    now[0] += 0.001
    assert (await shared.load("portal-co")) == organisation("portal-co")
    assert reads.calls == [["portal-co"]]


async def test_a_failed_read_fails_its_waiters_and_the_next_load_reads_again() -> None:
    reads = Reads()
    reads.fail = True
    shared = SharedOrganisations(reads)
    results = await asyncio.gather(
        shared.load("portal-co"), shared.load("portal-co"), return_exceptions=True
    )
    assert all(isinstance(r, DatabaseUnavailable) for r in results)
    reads.fail = False
    assert await shared.load("portal-co") == organisation("portal-co")
    assert len(reads.calls) == 2


@pytest.mark.parametrize("keys", [[], ["a"], ["a", "b", "a"]])
async def test_load_many_keeps_the_order(keys: list[str]) -> None:
    shared = SharedOrganisations(Reads())
    assert [f.id if f else None for f in await shared.load_many(keys)] == keys
