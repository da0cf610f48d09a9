"""The notifier's ASGI app: health endpoints, and the delivery loop for the app's lifetime."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from graph import migrate
from graph.database import Database, open_database
from schema.errors import DatabaseUnavailable
from services.notifier.delivery import Notifier
from services.notifier.sender import Sender, client
from services.notifier.settings import NotifierSettings

log = logging.getLogger("ropa.notifier")


async def healthz(request: Request) -> JSONResponse:
    """Alive: the process answers (restart it if not)."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """Ready: Neo4j answers, every migration is applied and the delivery loop runs."""
    db: Database = request.app.state.db
    loop: asyncio.Task[None] = request.app.state.loop
    if loop.done():
        return JSONResponse({"status": "unavailable", "reason": "delivery loop stopped"}, 503)
    try:
        await db.ping()
        pending = await migrate.pending(db)
    except DatabaseUnavailable as exc:
        return JSONResponse({"status": "unavailable", "reason": str(exc)}, 503)
    if pending:
        names = ", ".join(m.id for m in pending)
        return JSONResponse(
            {"status": "unavailable", "reason": f"migrations pending: {names}"}, status_code=503
        )
    return JSONResponse({"status": "ok"})


def create_app(settings: NotifierSettings | None = None) -> Starlette:
    """The notifier app; settings come from the environment unless given."""
    config = settings or NotifierSettings()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            db = await stack.enter_async_context(open_database(config))
            http = await stack.enter_async_context(client(config.timeout, config.concurrency))
            notifier = Notifier(db, config, Sender(http, config.policy, config.timeout))
            app.state.db = db
            app.state.notifier = notifier
            app.state.loop = asyncio.create_task(notifier.run(), name="notifier loop")
            log.info("notifier: delivering (poll every %g s)", config.poll_interval)
            try:
                yield
            finally:
                app.state.loop.cancel()
                await asyncio.gather(app.state.loop, return_exceptions=True)
                await notifier.aclose()

    return Starlette(
        routes=[Route("/healthz", healthz), Route("/readyz", readyz)], lifespan=lifespan
    )
