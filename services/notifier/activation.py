"""Announced engagements take effect: a proposed engagement becomes active on its `since`.

Every `activation_interval` seconds the notifier makes each proposed engagement that is due
active, through the register's write path, so the change is recorded like any other (actor
`ropa-notifier`) and subscribers are told that it now applies. Several notifiers may run it at
once: the write checks again under the change lock, so each engagement is activated once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from graph import engagement_writes
from graph.database import Database
from schema.errors import DatabaseUnavailable
from services.observability.metrics import LOOP_ERRORS

log = logging.getLogger("ropa.notifier")
ACTOR = "ropa-notifier"


async def activate_forever(db: Database, interval: float) -> None:
    """Activate due engagements every `interval` seconds until cancelled."""
    while True:
        try:
            count = await engagement_writes.activate_due(db, dt.date.today(), ACTOR)
            if count:
                log.info("notifier: %d announced engagement(s) took effect", count)
        except DatabaseUnavailable as exc:
            log.warning("notifier: activation: %s; trying again", exc)
        except Exception:
            LOOP_ERRORS.labels("activation").inc()
            log.exception("notifier: activation failed; trying again")
        await asyncio.sleep(interval)
