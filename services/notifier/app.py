"""The notifier's ASGI app: health endpoints, and the delivery loop for the app's lifetime."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from graph import migrate
from graph.database import Database, open_database
from schema.errors import DatabaseUnavailable
from services.notifier.activation import activate_forever
from services.notifier.delivery import Notifier
from services.notifier.mail.worker import MailWorker
from services.notifier.sender import Sender, client
from services.notifier.settings import NotifierSettings
from services.notifier.watch import Watcher
from services.observability import tracing
from services.observability.metrics import METRICS_ROUTE, CypherObserver
from services.observability.requests import RequestIdMiddleware

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
    settings: NotifierSettings = request.app.state.settings
    try:
        async with asyncio.timeout(settings.readiness_timeout):
            await db.ping()
            pending = await migrate.pending(db)
    except DatabaseUnavailable as exc:
        return JSONResponse({"status": "unavailable", "reason": str(exc)}, 503)
    except TimeoutError:
        reason = f"Neo4j did not answer within {settings.readiness_timeout:g} s"
        return JSONResponse({"status": "unavailable", "reason": reason}, 503)
    if pending:
        names = ", ".join(m.id for m in pending)
        return JSONResponse(
            {"status": "unavailable", "reason": f"migrations pending: {names}"}, status_code=503
        )
    return JSONResponse({"status": "ok"})


def create_app(settings: NotifierSettings | None = None) -> Starlette:
    """The notifier app; settings come from the environment unless given."""
    config = settings or NotifierSettings()
    # Built here: a missing (production) or malformed ROPA_SECRET_KEY stops the start.
    box = config.secret_box()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            db = await stack.enter_async_context(
                open_database(config.neo4j, CypherObserver("notifier"))
            )
            http = await stack.enter_async_context(client(config.timeout, config.concurrency))
            notifier = Notifier(db, config, Sender(http, config.policy, config.timeout), box)
            app.state.db = db
            app.state.notifier = notifier
            app.state.loop = asyncio.create_task(notifier.run(), name="notifier loop")
            background = [
                asyncio.create_task(
                    activate_forever(db, config.activation_interval), name="activation"
                )
            ]
            watcher = Watcher(
                db,
                http,
                Sender(http, config.policy, config.timeout),
                config.watch_interval,
                config.timeout,
            )
            app.state.watcher = watcher
            background.append(
                asyncio.create_task(watcher.run(min(60.0, config.watch_interval)), name="watch")
            )
            if config.mail_enabled:
                worker = MailWorker(db, config)
                app.state.mail = worker
                background.append(asyncio.create_task(worker.run(), name="mail"))
                log.info("notifier: e-mail through %s:%d", config.smtp_host, config.smtp_port)
            else:
                log.info("notifier: no e-mail (ROPA_SMTP_HOST or ROPA_SECRET_KEY unset)")
            log.info("notifier: delivering (poll every %g s)", config.poll_interval)
            try:
                yield
            finally:
                for task in [app.state.loop, *background]:
                    task.cancel()
                await asyncio.gather(app.state.loop, *background, return_exceptions=True)
                await notifier.aclose()

    tracing.configure("notifier")
    app = Starlette(
        routes=[Route("/healthz", healthz), Route("/readyz", readyz), METRICS_ROUTE],
        middleware=[Middleware(RequestIdMiddleware)],
        lifespan=lifespan,
    )
    app.state.settings = config
    return app
