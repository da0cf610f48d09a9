"""The delivery loop: find endpoints with changes beyond their cursor, serve each in order.

Every `poll_interval` the loop asks Neo4j which active endpoints have a sub-processor change
after their cursor and no retry waiting, and starts a run (services.notifier.endpoint_run) for
each one not already being served, at most `concurrency` at once, so a slow endpoint holds up
only itself. A run sends its endpoint's changes one at a time, oldest first, and stops at the
first failure, which is recorded with the time of the next attempt; a later round resumes at
the same change. Killed at any moment, the notifier resumes from the stored cursors: a change
may be delivered twice, never skipped.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging

from graph import webhooks
from graph.database import Database
from graph.secret_box import SecretBox
from schema.errors import DatabaseUnavailable
from services.notifier.endpoint_run import EndpointRun, Stale
from services.notifier.sender import Sender
from services.notifier.settings import NotifierSettings
from services.observability.metrics import LOOP_ERRORS

log = logging.getLogger("ropa.notifier")
# The longest pause after rounds that keep failing unexpectedly.
_MAX_PAUSE = 30.0


class Notifier:
    """Delivers sub-processor changes to every due endpoint; run() until cancelled."""

    def __init__(
        self,
        db: Database,
        settings: NotifierSettings,
        sender: Sender,
        box: SecretBox | None = None,
    ) -> None:
        self._db = db
        self._settings = settings
        self._sender = sender
        # Opens the stored signing secrets (default: from the settings' ROPA_SECRET_KEY).
        self._box = box if box is not None else settings.secret_box()
        self._workers: dict[str, asyncio.Task[None]] = {}
        # Round in which each endpoint's last run ended (see poll).
        self._ended: dict[str, int] = {}
        self._stopping = asyncio.Event()
        self.rounds = 0
        self.delivered = 0

    @property
    def busy(self) -> int:
        """Endpoints being served right now."""
        return len(self._workers)

    async def run(self) -> None:
        """Poll for due endpoints until cancelled. Database outages are waited out; anything
        else unexpected is logged at ERROR and the loop goes on after a growing pause, so that
        one bad round never stops delivery for good."""
        pause = self._settings.poll_interval
        while not self._stopping.is_set():
            try:
                await self.poll()
            except DatabaseUnavailable as exc:
                log.warning("notifier: %s; trying again", exc)
            except Exception:
                LOOP_ERRORS.labels("delivery").inc()
                log.exception("notifier: the delivery round failed; trying again in %.1f s", pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, _MAX_PAUSE)
                continue
            pause = self._settings.poll_interval
            await asyncio.sleep(self._settings.poll_interval)

    async def poll(self) -> int:
        """One round: start a run for each due endpoint not being served; return how many."""
        self.rounds += 1
        this_round = self.rounds
        self._ended = {k: v for k, v in self._ended.items() if v == this_round - 1}
        free = self._settings.concurrency - len(self._workers)
        if free <= 0 or self._stopping.is_set():
            return 0
        due = await self._db.read(
            webhooks.due,
            dt.datetime.now(dt.UTC),
            self._settings.concurrency + len(self._workers),
        )
        started = 0
        for target in due:
            endpoint_id = target.endpoint.id
            # A run that ended while this round was reading may have moved the cursor after
            # the read: the row is stale and would resend a change. Next round.
            if self._ended.get(endpoint_id) == this_round:
                continue
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
            self._ended[endpoint_id] = self.rounds

    async def idle(self) -> None:
        """Wait until no run is going (for tests and benchmarks)."""
        while self._workers:
            await asyncio.gather(*self._workers.values(), return_exceptions=True)

    async def aclose(self, grace: float | None = None) -> None:
        """Stop: runs finish the request in flight and save their cursor, or are cancelled.

        `grace` (default: the request timeout and a second) bounds the wait; a cancelled run
        sends its unsaved changes again after a restart.
        """
        self._stopping.set()
        tasks = list(self._workers.values())
        if not tasks:
            return
        _, late = await asyncio.wait(tasks, timeout=grace or self._settings.timeout + 1)
        for task in late:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _serve(self, target: webhooks.DeliveryTarget) -> None:
        endpoint = target.endpoint
        run = EndpointRun(self._db, self._settings, self._sender, target, self._stopping, self._box)
        try:
            await run.serve()
        except Stale:
            log.info("webhook %s: cursor moved elsewhere; starting again", endpoint.id)
        except DatabaseUnavailable as exc:
            log.warning("webhook %s: %s; will resume", endpoint.id, exc)
        except Exception:
            LOOP_ERRORS.labels("webhook").inc()
            log.exception("webhook %s: unexpected error; will resume", endpoint.id)
        finally:
            self.delivered += run.delivered
