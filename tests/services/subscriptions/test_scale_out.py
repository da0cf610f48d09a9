"""Several registry processes, each following the change log itself with no broker between
them, serve their own subscribers the same changes; a registry restarted under its subscribers
loses none of them a change, since each reconnects with the id of the last one it received."""

from __future__ import annotations

import asyncio

import pytest

from tests.services.subscriptions.conftest import (
    Listener,
    MakeRegistry,
    Register,
    listening,
)
from tests.waiting import eventually

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]


async def test_two_registries_serve_their_own_subscribers_the_same_changes(
    school: Register, registries: MakeRegistry
) -> None:
    first, second = registries(), registries()
    start = (await school.changes())[-1]
    listeners = [
        Listener(first.ws),
        Listener(second.ws),
        Listener(first.ws, after=start.id),
        Listener(second.ws, after=start.id),
        Listener(second.ws, processor="other-co"),
    ]
    async with listening(*listeners):
        for n in range(12):
            await school.change(("portal-co", "other-co")[n % 2])
        recorded = await school.changes(after=start.sequence)
        for listener in listeners[:4]:
            await listener.wait_for(len(recorded))
        await listeners[4].wait_for(6)
    for listener in listeners[:4]:
        assert listener.ids == [c.id for c in recorded]
    assert listeners[4].ids == [c.id for c in recorded if c.processor == "other-co"]


async def test_a_restart_under_subscribed_clients_loses_no_change(
    school: Register, registries: MakeRegistry
) -> None:
    registry = registries()
    start = (await school.changes())[-1]
    everything = Listener(registry.ws, after=start.id, resume=True)
    live = Listener(registry.ws, resume=True)
    theirs = Listener(registry.ws, processor="other-co", after=start.id, resume=True)
    listeners = (everything, live, theirs)
    writes = 40

    async def write() -> None:
        for n in range(writes):
            await school.change(("portal-co", "other-co")[n % 3 == 0])
            await asyncio.sleep(0.05)

    async def restart() -> None:
        # Once every client has something to resume from, stop the registry while changes
        # keep coming, and start it again on the same port.
        for listener in listeners:
            await listener.wait_for(2)
        await asyncio.to_thread(registry.stop)
        stopped = len(await school.changes(after=start.sequence))

        async def written_while_down() -> bool:
            return len(await school.changes(after=start.sequence)) >= min(stopped + 3, writes)

        await eventually(written_while_down, within=60, message="changes while it was down")
        await asyncio.to_thread(registry.start)

    async with listening(*listeners):
        await asyncio.gather(write(), restart())
        # A last change everybody wants: what arrives before it is all they get.
        await school.change("other-co")
        recorded = await school.changes(after=start.sequence)
        await everything.wait_for(len(recorded))
        await theirs.wait_for(len([c for c in recorded if c.processor == "other-co"]))
        await live.wait_for(1)
        while live.ids[-1] != recorded[-1].id:
            await live.wait_for(len(live.ids) + 1)
    assert everything.ids == [c.id for c in recorded]
    assert theirs.ids == [c.id for c in recorded if c.processor == "other-co"]
    # The live-only client saw a suffix of the changes, with no gap across the restart.
    ids = [c.id for c in recorded]
    assert live.ids == ids[ids.index(live.ids[0]) :]
    for listener in listeners:
        assert listener.connections >= 2
        assert listener.errors == []
