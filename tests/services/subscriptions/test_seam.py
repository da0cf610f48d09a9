"""The seam between replay and live delivery (`schema.graphql.subscription.follow`), against a
change stream that commits and dispatches while the replay runs, in every interleaving the
follower allows: no change twice, none missing, in order."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from schema.graphql.context import ChangeReplay
from schema.graphql.subscription import SubscriberFellBehind, follow
from schema.graphql.writes import ChangeRecord


@dataclass(frozen=True)
class Change:
    id: str
    sequence: int
    processor: str
    type: str = "CHANGED"
    occurred_at: dt.datetime = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    effective_from: dt.date = dt.date(2024, 1, 1)
    sub_processor: str = "host"
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    actor: str = "tests"
    registers: tuple[str, ...] = ("school",)
    activity_registers: tuple[str, ...] = ()


class Live:
    def __init__(self, position: int, processor: str | None) -> None:
        self.position = position
        self.processor = processor
        self.queue: asyncio.Queue[ChangeRecord | None] = asyncio.Queue()

    async def next(self) -> ChangeRecord | None:
        return await self.queue.get()


class Stream:
    """A log and a follower `lag` changes behind it; `during_replay` runs on each replay."""

    def __init__(self, committed: int, lag: int = 0) -> None:
        self.log: list[Change] = []
        self.followed = 0  # how many of the log the follower has dispatched
        self.subscribers: list[Live] = []
        for _ in range(committed):
            self.commit()
        self.dispatch(committed - lag)
        self.during_replay: Callable[[], None] = lambda: None

    def commit(self) -> None:
        n = len(self.log) + 1
        self.log.append(Change(f"e{n}", n * 10, ("a", "b")[n % 2]))

    def dispatch(self, count: int | None = None) -> None:
        upto = len(self.log) if count is None else min(len(self.log), self.followed + count)
        for change in self.log[self.followed : upto]:
            for live in self.subscribers:
                if live.processor in (None, change.processor):
                    live.queue.put_nowait(change)
        self.followed = upto

    @property
    def position(self) -> int:
        return self.log[self.followed - 1].sequence if self.followed else 0

    @asynccontextmanager
    async def live(self, processor_id: str | None) -> AsyncIterator[Live]:
        live = Live(self.position, processor_id)
        self.subscribers.append(live)
        try:
            yield live
        finally:
            self.subscribers.remove(live)

    async def sequence_of(self, event_id: str) -> int | None:
        return next((c.sequence for c in self.log if c.id == event_id), None)

    async def replay(self, after: int, processor_id: str | None, limit: int) -> ChangeReplay:
        self.during_replay()
        later = [c for c in self.log if c.sequence > after]
        found: list[ChangeRecord] = []
        scanned: int | None = None
        for change in later:
            scanned = change.sequence
            if processor_id in (None, change.processor):
                found.append(change)
                if len(found) == limit:
                    break
        return ChangeReplay(found, scanned)


async def take(stream: Stream, processor: str | None, after: int | None) -> list[int]:
    """Sequences delivered, until a moment of silence."""
    got: list[int] = []
    changes = follow(stream, processor, after, page_size=2)
    try:
        while True:
            async with asyncio.timeout(0.3):
                got.append((await anext(changes)).sequence)
    except TimeoutError:
        pass
    finally:
        await changes.aclose()
    return got


def expected(stream: Stream, processor: str | None, after: int) -> list[int]:
    later = [c for c in stream.log if c.sequence > after]
    return [c.sequence for c in later if processor is None or c.processor == processor]


@pytest.mark.parametrize("processor", [None, "a"])
@pytest.mark.parametrize("lag", [0, 3, 8])
async def test_replay_while_changes_are_committed_and_dispatched(
    processor: str | None, lag: int
) -> None:
    stream = Stream(committed=10, lag=lag)

    def meanwhile() -> None:
        # Each replay page races a commit and the follower's dispatch of one or two changes.
        stream.commit()
        stream.dispatch(1 + len(stream.log) % 2)

    stream.during_replay = meanwhile
    after = stream.log[2].sequence

    async def finish() -> None:
        await asyncio.sleep(0.05)
        stream.commit()
        stream.dispatch()

    finishing = asyncio.create_task(finish())
    got = await take(stream, processor, after)
    await finishing
    assert got == expected(stream, processor, after)


async def test_after_beyond_what_the_follower_has_read() -> None:
    stream = Stream(committed=10, lag=5)
    after = stream.log[8].sequence
    task = asyncio.create_task(take(stream, None, after))
    await asyncio.sleep(0.05)
    stream.commit()
    stream.dispatch()
    assert await task == [100, 110]


async def test_without_after_only_what_the_follower_reads_next() -> None:
    stream = Stream(committed=5)
    task = asyncio.create_task(take(stream, None, None))
    await asyncio.sleep(0.05)
    stream.commit()
    stream.commit()
    stream.dispatch()
    assert await task == [60, 70]


async def test_a_dropped_subscriber_is_told_its_last_change() -> None:
    stream = Stream(committed=3)
    changes = follow(stream, None, 0, page_size=2)
    assert [(await anext(changes)).id for _ in range(3)] == ["e1", "e2", "e3"]
    stream.subscribers[0].queue.put_nowait(None)
    with pytest.raises(SubscriberFellBehind, match='after: "e3"'):
        await anext(changes)
    await changes.aclose()
    assert stream.subscribers == []


async def test_dropped_before_anything_new_resumes_from_its_after() -> None:
    stream = Stream(committed=3)
    changes = follow(stream, None, 30, after_id="e3")
    task = asyncio.create_task(anext(changes))
    await asyncio.sleep(0.01)
    stream.subscribers[0].queue.put_nowait(None)
    with pytest.raises(SubscriberFellBehind, match='after: "e3"'):
        await task
    await changes.aclose()
