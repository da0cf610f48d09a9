"""The delivery loop: find endpoints with changes beyond their cursor, serve each in order.

Every `poll_interval` the loop asks Neo4j which active endpoints have a sub-processor change
after their cursor and no retry waiting, and starts a worker for each one not already being
served (at most `concurrency` at once, so a slow endpoint holds up only itself). A worker
sends its endpoint's changes one at a time, oldest first, and moves the cursor past each one
after a 2xx. Its first failure stops it: the attempt is recorded with the time of the next
one, and a later round resumes at the same change. Killed at any moment, the notifier resumes
from the stored cursors: a change may be delivered twice, never skipped.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging

from graph import subprocessor_changes, webhooks
from graph.database import Database
from graph.subprocessor_changes import SubProcessorChange
from schema.errors import DatabaseUnavailable
from schema.webhook_url import InvalidWebhookUrl
from services.notifier import payload
from services.notifier.retry import next_delay
from services.notifier.sender import Connection, Outcome, Sender
from services.notifier.settings import NotifierSettings
from services.notifier.signing import Signer

log = logging.getLogger("ropa.notifier")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class _Stale(Exception):
    """The stored cursor moved under the worker (redelivery, removal): stop, start again."""


class Notifier:
    """Delivers sub-processor changes to every due endpoint; run() until cancelled."""

    def __init__(self, db: Database, settings: NotifierSettings, sender: Sender) -> None:
        self._db = db
        self._settings = settings
        self._sender = sender
        self._workers: dict[str, asyncio.Task[None]] = {}
        self.rounds = 0
        self.delivered = 0

    @property
    def busy(self) -> int:
        """Endpoints being served right now."""
        return len(self._workers)

    async def run(self) -> None:
        """Poll for due endpoints until cancelled; database outages are waited out."""
        while True:
            try:
                await self.poll()
            except DatabaseUnavailable as exc:
                log.warning("notifier: %s; trying again", exc)
            await asyncio.sleep(self._settings.poll_interval)

    async def poll(self) -> int:
        """One round: start a worker for each due endpoint not being served; return how many."""
        self.rounds += 1
        free = self._settings.concurrency - len(self._workers)
        if free <= 0:
            return 0
        due = await self._db.read(
            webhooks.due, _now(), self._settings.concurrency + len(self._workers)
        )
        started = 0
        for target in due:
            endpoint_id = target.endpoint.id
            if endpoint_id in self._workers or started >= free:
                continue
            task = asyncio.create_task(self._serve(target), name=f"webhook {endpoint_id}")
            self._workers[endpoint_id] = task
            task.add_done_callback(functools.partial(self._finished, endpoint_id))
            started += 1
        return started

    def _finished(self, endpoint_id: str, task: asyncio.Task[None]) -> None:
        if self._workers.get(endpoint_id) is task:
            del self._workers[endpoint_id]

    async def idle(self) -> None:
        """Wait until no worker is running (for tests and benchmarks)."""
        while self._workers:
            await asyncio.gather(*self._workers.values(), return_exceptions=True)

    async def aclose(self) -> None:
        """Stop every worker; what they were sending is sent again after a restart."""
        tasks = list(self._workers.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _serve(self, target: webhooks.DeliveryTarget) -> None:
        endpoint = target.endpoint
        run = _EndpointRun(self._db, self._settings, self._sender, target)
        try:
            await run.serve()
        except _Stale:
            log.info("webhook %s: cursor moved elsewhere; starting again", endpoint.id)
        except DatabaseUnavailable as exc:
            log.warning("webhook %s: %s; will resume", endpoint.id, exc)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("webhook %s: unexpected error; will resume", endpoint.id)
        finally:
            self.delivered += run.delivered


class _EndpointRun:
    """Serving one endpoint from its cursor until caught up or failing."""

    def __init__(
        self,
        db: Database,
        settings: NotifierSettings,
        sender: Sender,
        target: webhooks.DeliveryTarget,
    ) -> None:
        self.db = db
        self.settings = settings
        self.sender = sender
        self.delivered = 0
        self.endpoint = target.endpoint
        self.signer = Signer(target.secret)
        self.cursor = target.endpoint.cursor
        self.failures = target.endpoint.attempts
        self.connection: Connection | None = None

    async def serve(self) -> None:
        batch = self.settings.batch_size
        while True:
            page = await self.db.read(
                subprocessor_changes.changes_page, self.cursor, self.endpoint.processor, batch
            )
            for change in page.changes:
                if not await self._deliver(change):
                    return
            if page.scanned_through is not None and page.scanned_through > self.cursor:
                # Changes of other processors: nothing to send, but no need to look again.
                await self._advance(page.scanned_through, delivered=False)
            if len(page.changes) < batch:
                return

    async def _deliver(self, change: SubProcessorChange) -> bool:
        outcome = await self._attempt(change)
        if outcome.delivered:
            await self._advance(change.sequence, delivered=True)
            self.delivered += 1
            return True
        await self._failed(change, outcome)
        return False

    async def _attempt(self, change: SubProcessorChange) -> Outcome:
        if self.connection is None:
            try:
                self.connection = await self.sender.connect(self.endpoint.url)
            except InvalidWebhookUrl as exc:
                return Outcome(False, error=str(exc))
        body = payload.body(change)
        headers = self.signer.headers(change.id, _now(), body)
        return await self.sender.post(self.connection, headers, body)

    async def _advance(self, sequence: int, *, delivered: bool) -> None:
        moved = await self.db.write(
            webhooks.advance, self.endpoint.id, self.cursor, sequence, _now(), delivered
        )
        if not moved:
            raise _Stale
        self.cursor = sequence
        self.failures = 0

    async def _failed(self, change: SubProcessorChange, outcome: Outcome) -> None:
        self.failures += 1
        now = _now()
        status, next_at = webhooks.ACTIVE, None
        if outcome.gone:
            status = webhooks.DISABLED
        else:
            delay = next_delay(
                self.failures,
                self.settings.retry_schedule,
                outcome.retry_after,
                self.settings.max_retry_after,
            )
            if delay is None:
                status = webhooks.FAILED
            else:
                next_at = now + dt.timedelta(seconds=delay)
        error = f"sequence {change.sequence}: {outcome.error or 'failed'}"
        log.info("webhook %s: %s (attempt %d, %s)", self.endpoint.id, error, self.failures, status)
        # False when the cursor moved meanwhile (a redelivery): the next round starts afresh.
        await self.db.write(
            webhooks.record_failure,
            self.endpoint.id,
            self.cursor,
            self.failures,
            next_at,
            error,
            now,
            status,
        )
