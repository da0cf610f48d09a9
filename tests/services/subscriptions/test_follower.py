"""The change follower in-process, on the real change log: it starts at the latest change, fans
each one out in order to the subscribers that want it, drops only a subscriber whose queue is
full, and rides out a Neo4j outage."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from graph.database import Database
from graph.neo4j_server import LocalNeo4j
from services.registry.follower import MAX_BACKOFF, ChangeFollower, FollowerConfig, Subscriber
from tests.services.subscriptions.conftest import Register
from tests.waiting import eventually

pytestmark = pytest.mark.neo4j


@pytest.fixture
async def follower(school: Register) -> AsyncIterator[ChangeFollower]:
    """A follower of the module's register with a small queue per subscriber."""
    db = Database(school.db.driver, school.db.name)
    follower = ChangeFollower(db, FollowerConfig(poll_interval=0.05, queue_size=3))
    async with follower.running():
        assert await follower.wait_ready(10)
        yield follower


async def taken(subscriber: Subscriber, count: int) -> list[str]:
    ids = []
    async with asyncio.timeout(10):
        for _ in range(count):
            change = await subscriber.next()
            assert change is not None
            ids.append(change.id)
    return ids


async def test_starts_at_the_latest_change_and_fans_out(
    school: Register, follower: ChangeFollower
) -> None:
    latest = (await school.changes())[-1]
    assert follower.position == latest.sequence
    async with follower.live(None) as everything, follower.live("other-co") as theirs:
        assert everything.position == theirs.position == latest.sequence
        for processor in ("portal-co", "other-co", "other-co"):
            await school.change(processor)
        recorded = await school.changes(after=latest.sequence)
        assert await taken(everything, 3) == [c.id for c in recorded]
        assert await taken(theirs, 2) == [c.id for c in recorded[1:]]
        assert follower.subscribers == 2
    assert follower.subscribers == 0


async def test_a_full_queue_drops_only_that_subscriber(
    school: Register, follower: ChangeFollower
) -> None:
    start = (await school.changes())[-1].sequence
    async with follower.live(None) as idle, follower.live(None) as busy:
        got: list[str] = []
        for _ in range(5):
            await school.change()
            got += await taken(busy, 1)
        assert got == [c.id for c in await school.changes(after=start)]
        assert follower.dropped == 1
        assert follower.subscribers == 1
        # Nothing of what was queued is handed out: the subscriber resumes by replaying.
        assert await idle.next() is None
        assert await idle.next() is None


async def test_without_subscribers_it_reads_seldom_and_catches_up_when_one_comes(
    school: Register,
) -> None:
    idle_db = Database(school.db.driver, school.db.name)
    idle = ChangeFollower(idle_db, FollowerConfig(poll_interval=0.05, idle_interval=600))
    busy_db = Database(school.db.driver, school.db.name)
    busy = ChangeFollower(busy_db, FollowerConfig(poll_interval=0.05, idle_interval=0.05))
    async with idle.running(), busy.running():
        assert await idle.wait_ready(10)
        assert await busy.wait_ready(10)
        start = idle.position
        reads = idle_db.round_trips
        await school.change()
        change = (await school.changes())[-1]
        # The subscribed pace would have read the log ten times meanwhile.
        await eventually(lambda: busy_db.round_trips >= 10, 30, "ten polls of the busy one")
        assert idle_db.round_trips == reads
        assert idle.position == start != change.sequence
        async with idle.live(None) as subscriber:
            # From now: the change committed before it registered is behind it.
            assert subscriber.position == change.sequence == idle.position
            await school.change()
            later = (await school.changes(after=change.sequence))[-1]
            assert await taken(subscriber, 1) == [later.id]


# How long Neo4j takes to answer on an idle machine; a slower start scales every wait below.
IDLE_START = 15.0


async def _answers(school: Register) -> bool:
    try:
        await school.changes()
    except Exception:  # DatabaseUnavailable, or the driver's own while it reconnects
        return False
    return True


@pytest.mark.slow
async def test_rides_out_a_neo4j_outage(
    neo4j_server: LocalNeo4j | None,
    school: Register,
    follower: ChangeFollower,
    caplog: pytest.LogCaptureFixture,
) -> None:
    if neo4j_server is None:
        pytest.skip("NEO4J_URI names a server these tests cannot stop")
    caplog.set_level(logging.WARNING, logger="services.registry.follower")
    # Every deadline is scaled by how long this machine took to start the session's Neo4j,
    # so that a loaded machine waits longer rather than failing: the waits are for conditions.
    scale = max(1.0, (neo4j_server.answered_after or IDLE_START) / IDLE_START)

    def failures() -> int:
        messages = (r.getMessage() for r in caplog.records)
        return sum("change log" in m and "retrying in" in m for m in messages)

    start = (await school.changes())[-1].sequence
    async with follower.live(None) as subscriber:
        try:
            await asyncio.to_thread(neo4j_server.stop)
            # The follower fails, backs off, and keeps trying: twice, so it retried.
            await eventually(lambda: failures() >= 2, 2 * MAX_BACKOFF * scale + 30, "retried")
        finally:
            if not neo4j_server.running():
                neo4j_server.startup_timeout = max(neo4j_server.startup_timeout, 120 * scale)
                await asyncio.to_thread(neo4j_server.start)
        restarted = neo4j_server.answered_after or IDLE_START
        # Bolt answers; the register's database may still be recovering, and the client's
        # pooled connections died with the server: wait until it reads again.
        await eventually(lambda: _answers(school), 2 * restarted + 30, "the register readable")

        async def changed() -> bool:
            # A write whose acknowledgement was lost may have committed: the check below takes
            # every change recorded, so a retry cannot hide or invent one.
            try:
                await school.change("other-co")
            except Exception:
                return False
            return True

        await eventually(changed, 30 * scale, "a change written", every=1.0)
        recorded = [c.id for c in await school.changes(after=start)]
        # The follower reads again within its backoff; then it hands over what it missed.
        caught_up: list[str] = []
        async with asyncio.timeout(MAX_BACKOFF + 30 * scale):
            while len(caught_up) < len(recorded):
                change = await subscriber.next()
                assert change is not None, "the subscriber was dropped"
                caught_up.append(change.id)
        assert caught_up == recorded
