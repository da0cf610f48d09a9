"""The process's one follower of the change log, fanning sub-processor changes out to subscribers.

The follower polls the log's head (one light auto-commit read) and, when it has moved, reads
the sub-processor changes after the last sequence it has read (the log commits in sequence
order, so reading `sequence > last` never skips a number committed later), and offers each
change to every subscriber that wants it, through a bounded queue per subscriber. Offering
never waits: a subscriber whose queue is full is dropped (its `next` then answers None) and
resumes by subscribing again from the last change it received, so one slow client stalls no
one. Each registry process runs its own follower; there is no broker. A write this process
commits wakes its follower at once; changes other processes commit are read at the next poll.
With no subscriber the follower reads the log only every `idle_interval` (its polls were most
of an idle registry's CPU, and Neo4j's, on every worker) and catches up when one registers, so
a subscription from now starts at the log's head as read then.

The follower starts at the latest sub-processor change when it first reaches Neo4j, and rides
out outages: it logs, backs off, and carries on from where it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from graph import subprocessor_changes as spc
from graph.database import Database
from graph.read.changes import sequence_of
from graph.read.followed import changes_and_organisations
from graph.read.organisations import organisations_by_id
from schema.errors import DatabaseUnavailable
from schema.graphql.context import ChangeReplay
from services.observability.metrics import SUBSCRIBERS_DROPPED
from services.registry.subscriptions import SharedOrganisations

log = logging.getLogger(__name__)

# Changes read per poll; a full page is followed at once by the next.
PAGE_SIZE = 500
# Longest pause between attempts while Neo4j is failing.
MAX_BACKOFF = 5.0


@dataclass(frozen=True)
class FollowerConfig:
    """How often to poll (with subscribers, and without), how much each subscriber may have
    waiting, how long to wait for the follower's first read of the log before a subscription
    gives up."""

    poll_interval: float = 0.1
    idle_interval: float = 5.0
    queue_size: int = 1000
    ready_timeout: float = 3.0
    page_size: int = PAGE_SIZE


class Subscriber:
    """One subscription's queue of changes not yet taken."""

    def __init__(self, processor_id: str | None, position: int, queue_size: int) -> None:
        self.processor_id = processor_id
        self._position = position
        self._queue: asyncio.Queue[spc.SubProcessorChange | None] = asyncio.Queue(queue_size)
        self.dropped = False

    @property
    def position(self) -> int:
        """The follower's position when this subscriber registered."""
        return self._position

    @property
    def waiting(self) -> int:
        """How many changes are queued for it."""
        return self._queue.qsize()

    def offer(self, change: spc.SubProcessorChange) -> bool:
        """Queue `change` if it is wanted; False when the queue is full (the caller drops it)."""
        if not change.concerns(self.processor_id):
            return True
        try:
            self._queue.put_nowait(change)
        except asyncio.QueueFull:
            return False
        return True

    def drop(self) -> None:
        """Forget what is queued (it can be replayed) and wake the reader with None."""
        self.dropped = True
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(None)

    async def next(self) -> spc.SubProcessorChange | None:
        """The next change; None once dropped."""
        if self.dropped and self._queue.empty():
            return None
        return await self._queue.get()


class ChangeFollower:
    """Follows the change log for this process; the registry's `ChangeStream`."""

    def __init__(self, db: Database, config: FollowerConfig | None = None) -> None:
        self._db = db
        self._config = config or FollowerConfig()
        self._subscribers: set[Subscriber] = set()
        self._position: int | None = None
        self._ready = asyncio.Event()
        self._wake = asyncio.Event()
        # One read of the log at a time: the polling task's, or a registering subscriber's.
        self._reading = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        # What subscribers render changes with: the organisations read with the changes.
        self.organisations = SharedOrganisations(lambda ids: organisations_by_id(db, ids))
        self.dropped = 0
        # From the start: a follower that never reaches the log shows a growing lag.
        self._last_read = time.monotonic()

    @property
    def position(self) -> int | None:
        """The highest sequence read so far; None until the log was first reached."""
        return self._position

    @property
    def subscribers(self) -> int:
        """How many subscribers are registered."""
        return len(self._subscribers)

    def seconds_since_read(self) -> float:
        """How long ago the follower last read the change log (at most its lag)."""
        return time.monotonic() - self._last_read

    async def start(self) -> None:
        """Start following in the background."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="change-follower")

    async def stop(self) -> None:
        """Stop following; registered subscribers get nothing more."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[ChangeFollower]:
        """Follow for the duration of the block."""
        await self.start()
        try:
            yield self
        finally:
            await self.stop()

    def wake(self) -> None:
        """Read the log now rather than at the next poll: this process has just committed."""
        self._wake.set()

    async def _pause(self) -> None:
        interval = self._config.poll_interval
        if not self._subscribers:
            interval = max(interval, self._config.idle_interval)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(interval):
                await self._wake.wait()
        self._wake.clear()

    async def _catch_up(self) -> None:
        """Read the log up to its head now, unless a poll has just done so."""
        if self.seconds_since_read() <= self._config.poll_interval:
            return
        # An outage leaves the position where it was, as a missed poll does.
        with contextlib.suppress(DatabaseUnavailable):
            while await self._poll():
                pass

    async def wait_ready(self, within: float) -> bool:
        """Whether the follower has read the log within `within` seconds."""
        try:
            async with asyncio.timeout(within):
                await self._ready.wait()
        except TimeoutError:
            return False
        return True

    @contextlib.asynccontextmanager
    async def live(self, processor_id: str | None) -> AsyncIterator[Subscriber]:
        """A subscriber for the block: every change read after it registered, in order."""
        if not await self.wait_ready(self._config.ready_timeout):
            raise DatabaseUnavailable("the change log cannot be read right now")
        idle = not self._subscribers
        if idle:
            # The log was read seldom: a subscription from now starts at its head.
            await self._catch_up()
        assert self._position is not None
        subscriber = Subscriber(processor_id, self._position, self._config.queue_size)
        self._subscribers.add(subscriber)
        if idle:
            self._wake.set()  # back to polling at the subscribed pace
        try:
            yield subscriber
        finally:
            self._subscribers.discard(subscriber)

    async def sequence_of(self, event_id: str) -> int | None:
        """The sequence number of a change event, by id."""
        return await self._db.read(sequence_of, event_id)

    async def replay(self, after: int, processor_id: str | None, limit: int) -> ChangeReplay:
        """Recorded changes after `after`, read from Neo4j (not from the follower)."""
        page = await self._db.read(spc.changes_page, after, processor_id, limit)
        return ChangeReplay(page.changes, page.scanned_through)

    def _dispatch(self, page: spc.ChangePage[spc.SubProcessorChange]) -> None:
        # Synchronous: a subscriber registers either before a page (and gets all of it) or
        # after (and its position already covers it).
        for change in page.changes:
            for subscriber in list(self._subscribers):
                if not subscriber.offer(change):
                    log.warning(
                        "dropped a subscriber %d changes behind; it resumes from its last one",
                        subscriber.waiting,
                    )
                    self._subscribers.discard(subscriber)
                    subscriber.drop()
                    self.dropped += 1
                    SUBSCRIBERS_DROPPED.inc()
        if page.scanned_through is not None and self._position is not None:
            self._position = max(self._position, page.scanned_through)

    async def _poll(self) -> bool:
        """Read and dispatch one page; whether there may be more right away."""
        async with self._reading:
            return await self._read_page()

    async def _read_page(self) -> bool:
        if self._position is None:
            self._position = await self._db.read(spc.head_sequence)
            self._ready.set()
            log.info("following sub-processor changes after sequence %d", self._position)
        elif await self._db.read_autocommit(spc.head_sequence) <= self._position:
            # Most polls find nothing: one auto-commit read of the head answers that for
            # about half the CPU of a page read in a transaction (the log commits in
            # sequence order, so a head no higher than the position means nothing new).
            self._last_read = time.monotonic()
            return False
        # With the organisations the page names: one read per page serves every subscriber's
        # `processor { name }`, where each subscriber's connection would read them for itself.
        page, named = await self._db.read(
            changes_and_organisations, self._position, self._config.page_size
        )
        if named:
            self.organisations.remember(named)
        self._dispatch(page)
        self._last_read = time.monotonic()
        return len(page.changes) >= self._config.page_size

    async def _run(self) -> None:
        backoff = self._config.poll_interval
        while True:
            try:
                more = await self._poll()
            except DatabaseUnavailable as exc:
                log.warning("cannot read the change log (retrying in %.1f s): %s", backoff, exc)
            except Exception:
                log.exception("reading the change log failed (retrying in %.1f s)", backoff)
            else:
                backoff = self._config.poll_interval
                if not more:
                    await self._pause()
                continue
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
