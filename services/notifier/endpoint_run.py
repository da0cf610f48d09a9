"""Serving one endpoint: its notices (sub-processor changes, objections) after the cursor, one
at a time, until caught up or failing.

The cursor is saved (compare-and-set) after every `checkpoint_every` deliveries, after
`checkpoint_interval` seconds, before a failure is recorded and when the run ends: a notifier
killed in between sends the changes since the last save again, under the same webhook-id.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time

from graph import webhooks
from graph.database import Database
from graph.secret_box import SecretBox, SecretUnreadable
from schema.webhook_url import InvalidWebhookUrl
from services.notifier import payload
from services.notifier.retry import next_delay
from services.notifier.sender import Connection, Outcome, Sender
from services.notifier.settings import NotifierSettings
from services.notifier.signing import Signer
from services.observability.metrics import (
    WEBHOOK_DELIVERIES,
    WEBHOOK_FAILURES,
    WEBHOOK_RETRIES,
)

log = logging.getLogger("ropa.notifier")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Stale(Exception):
    """The stored cursor moved under the run (redelivery, removal): stop; a later run resumes."""


class EndpointRun:
    """One endpoint, from its stored cursor until caught up, failing or asked to stop."""

    def __init__(
        self,
        db: Database,
        settings: NotifierSettings,
        sender: Sender,
        target: webhooks.DeliveryTarget,
        stopping: asyncio.Event,
        box: SecretBox,
    ) -> None:
        self.db = db
        self.settings = settings
        self.sender = sender
        self.stopping = stopping
        self.endpoint = target.endpoint
        self.box = box
        self.sealed_secret = target.sealed_secret
        self.signer: Signer | None = None
        self.saved = target.endpoint.cursor  # the cursor as stored
        self.position = self.saved  # delivered (or passed over) up to here
        self.unsaved_deliveries = 0
        self.saved_at = time.monotonic()
        self.failures = target.endpoint.attempts
        self.delivered = 0
        self.connection: Connection | None = None

    async def serve(self) -> None:
        """Deliver until caught up or a failure; save the cursor on the way out."""
        batch = self.settings.batch_size
        while not self.stopping.is_set():
            page = await self.db.read(
                webhooks.notices_page,
                self.position,
                self.endpoint.processor,
                batch,
                self.endpoint.registers,
            )
            for change in page.changes:
                if self.stopping.is_set() or not await self._deliver(change):
                    break
            else:
                # Changes of other processors lie between: nothing to send, no need to look again.
                if page.scanned_through is not None:
                    self.position = max(self.position, page.scanned_through)
                if len(page.changes) == batch:
                    continue
            break
        await self.checkpoint()

    async def checkpoint(self) -> None:
        """Save the cursor if it moved (compare-and-set); Stale if someone else moved it."""
        if self.position == self.saved:
            return
        moved = await self.db.write(
            webhooks.advance,
            self.endpoint.id,
            self.saved,
            self.position,
            _now(),
            self.unsaved_deliveries > 0,
        )
        if not moved:
            raise Stale
        self.saved = self.position
        self.unsaved_deliveries = 0
        self.saved_at = time.monotonic()

    async def _deliver(self, change: webhooks.Notice) -> bool:
        outcome = await self._attempt(change)
        if outcome.delivered:
            self.position = change.sequence
            self.failures = 0
            self.delivered += 1
            WEBHOOK_DELIVERIES.labels(self.endpoint.id).inc()
            self.unsaved_deliveries += 1
            if (
                self.unsaved_deliveries >= self.settings.checkpoint_every
                or time.monotonic() - self.saved_at >= self.settings.checkpoint_interval
            ):
                await self.checkpoint()
            return True
        await self.checkpoint()
        await self._failed(change, outcome)
        return False

    async def _attempt(self, change: webhooks.Notice) -> Outcome:
        if self.signer is None:
            try:
                self.signer = Signer(self.box.open(self.sealed_secret))
            except SecretUnreadable as exc:
                # Retried on the usual schedule: the operator may yet restore the key.
                log.error("webhook %s: cannot sign: %s", self.endpoint.id, exc)
                return Outcome(False, error=f"cannot sign: {exc}")
        if self.connection is None:
            try:
                self.connection = await self.sender.connect(self.endpoint.url)
            except InvalidWebhookUrl as exc:
                return Outcome(False, error=str(exc))
        body = payload.body(change, self.endpoint.registers)
        headers = self.signer.headers(change.id, _now(), body)
        return await self.sender.post(self.connection, headers, body)

    async def _failed(self, change: webhooks.Notice, outcome: Outcome) -> None:
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
        WEBHOOK_FAILURES.labels(self.endpoint.id, status).inc()
        if status == webhooks.ACTIVE:
            WEBHOOK_RETRIES.labels(self.endpoint.id).inc()
        # A retry to come is a warning; an endpoint that gets nothing more until someone acts
        # (retries exhausted, or 410 Gone) is an error.
        level = logging.WARNING if status == webhooks.ACTIVE else logging.ERROR
        log.log(
            level,
            "webhook %s: %s (attempt %d, now %s)",
            self.endpoint.id,
            error,
            self.failures,
            status,
            extra={"endpoint": self.endpoint.id, "endpoint_status": status},
        )
        # False when the cursor moved meanwhile (a redelivery): the next round starts afresh.
        await self.db.write(
            webhooks.record_failure,
            self.endpoint.id,
            self.saved,
            self.failures,
            next_at,
            error,
            now,
            status,
        )
