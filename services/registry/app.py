"""The registry's ASGI app: GraphQL at /graphql, liveness at /healthz, readiness at /readyz,
and the DPO's console (services.registry.console) at / .

`ropa serve registry` runs `create_app` under uvicorn as a factory. The app starts whether or
not Neo4j is up (the driver connects lazily): /readyz answers 503 and operations fail with
DATABASE_UNAVAILABLE until it is reachable, then both recover without a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from limits import RateLimitItemPerHour
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from strawberry.extensions import SchemaExtension
from strawberry.extensions.tracing import OpenTelemetryExtension
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from graph import migrate
from graph.database import Database, open_database
from graph.read import record_cache
from schema.errors import DatabaseUnavailable
from schema.graphql.schema import build_schema, register_questions
from schema.keyring import secret_keys
from services.observability import tracing
from services.observability.metrics import (
    FOLLOWER_LAG,
    FOLLOWER_POSITION,
    METRICS_ROUTE,
    SUBSCRIBERS,
    CypherObserver,
    gauges,
)
from services.observability.requests import RequestIdMiddleware
from services.registry.auth import load_tokens, warn_unknown_registers
from services.registry.body_limit import BodySizeLimit
from services.registry.console import console_routes
from services.registry.explorer import RegistryGraphQL
from services.registry.exports import EXPORT_ROUTE
from services.registry.feeds import FEED_ROUTE
from services.registry.follower import ChangeFollower, FollowerConfig
from services.registry.frames import DirectFrames
from services.registry.heap import tune_collector
from services.registry.observe import OperationMetrics
from services.registry.portal import pages as portal_pages
from services.registry.portal import subscription_pages
from services.registry.portal.subscribe import Subscriptions
from services.registry.rate_limit import RateLimit
from services.registry.response_cache import ResponseCache
from services.registry.security_headers import SecurityHeaders
from services.registry.settings import RegistrySettings
from services.registry.signin import session as sessions
from services.registry.signin.config import sign_in_config
from services.registry.signin.guard import SessionGuard
from services.registry.signin.routes import ROUTES as SIGN_IN_ROUTES
from services.registry.signin.routes import oidc_client
from services.registry.websocket_cap import WebSocketCap


async def healthz(request: Request) -> JSONResponse:
    """The process is alive and serving; says nothing about Neo4j."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """Ready when Neo4j answers and every migration is applied; 503 otherwise."""
    database: Database = request.app.state.database
    settings: RegistrySettings = request.app.state.settings
    try:
        async with asyncio.timeout(settings.readiness_timeout):
            await database.ping()
            pending = await migrate.pending(database)
    except (DatabaseUnavailable, TimeoutError):
        return JSONResponse({"status": "unavailable", "reason": "Neo4j is unreachable"}, 503)
    if pending:
        return JSONResponse(
            {
                "status": "unavailable",
                "reason": "migrations pending",
                "pending": [m.id for m in pending],
            },
            503,
        )
    return JSONResponse({"status": "ready"})


def subscriptions(database: Database, settings: RegistrySettings) -> Subscriptions:
    """The process's e-mail subscriptions, with their rate limits (per hour)."""
    return Subscriptions(
        database,
        secret_keys(settings.secret_key, settings.secret_key_previous),
        dt.timedelta(hours=settings.confirmation_hours),
        per_address=RateLimitItemPerHour(settings.subscribe_per_address),
        per_client=RateLimitItemPerHour(settings.subscribe_per_client),
    )


def _middleware(settings: RegistrySettings, session: list[Middleware]) -> list[Middleware]:
    """Outermost first: the client's real address and scheme (from trusted proxies only), the
    security headers (on every response, 413 and 429 included), the body limit, sessions, and
    the rate limit (which needs the session to know who is asking)."""
    proxies = [str(network) for network in settings.proxy_networks]
    return [
        *([Middleware(ProxyHeadersMiddleware, trusted_hosts=proxies)] if proxies else []),
        Middleware(
            SecurityHeaders,
            content_security_policy=settings.content_security_policy,
            hsts_max_age=settings.hsts_max_age,
        ),
        Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes),
        *session,
        Middleware(RateLimit, limits=settings.rate_limits),
    ]


def create_app(settings: RegistrySettings | None = None) -> Starlette:
    """The app; settings come from the environment unless given."""
    settings = settings or RegistrySettings()
    # Checked here: a sign-in setting that cannot be used stops the start (SignInConfigInvalid).
    signin = sign_in_config(settings)
    observers: list[type[SchemaExtension]] = [OperationMetrics]
    if tracing.configure("registry"):
        observers.append(OpenTelemetryExtension)
    cache = ResponseCache(register_questions(), max_entries=settings.response_cache_entries)
    graphql = RegistryGraphQL(
        build_schema(
            show_unexpected_errors=settings.development,
            observers=observers,
            introspection=settings.introspection_on,
            suggestions=settings.introspection_on,
            limits=settings.operation_limits,
            cache=cache.extension() if settings.response_cache_entries else None,
        ),
        connection_init_timeout=settings.connection_init_timeout,
        subscriptions_per_connection=settings.subscriptions_per_connection,
        allowed_origins=() if signin is None else (signin.origin,),
        subscriber_queue_size=settings.subscriber_queue_size,
        explorer=settings.explorer_on,
    )
    neo4j = settings.neo4j
    follower_config = FollowerConfig(
        poll_interval=settings.follower_poll_interval,
        idle_interval=settings.follower_idle_interval,
        queue_size=settings.subscriber_queue_size,
        ready_timeout=settings.readiness_timeout,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # In each process that serves (every worker runs its own lifespan).
        tune_collector()
        observer = CypherObserver("registry")
        async with open_database(neo4j, observer) as database:
            app.state.database = database
            record_cache.of(database).resize(settings.record_cache_entries)
            app.state.subscriptions = subscriptions(database, settings)
            # Its own wrapper on the same driver: its reads are not counted with requests'.
            follower = ChangeFollower(
                Database(database.driver, database.name, observer), follower_config
            )
            app.state.changes = follower
            # What this process commits, its subscribers see at once; other processes poll.
            database.on_write(follower.wake)
            database.on_write(cache.wrote)
            observed = gauges(
                {
                    SUBSCRIBERS: lambda: follower.subscribers,
                    FOLLOWER_LAG: follower.seconds_since_read,
                    FOLLOWER_POSITION: lambda: follower.position or 0,
                }
            )
            async with follower.running(), observed:
                # Serve once the follower has its starting point, if Neo4j answers soon.
                await follower.wait_ready(settings.readiness_timeout)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(settings.readiness_timeout):
                        await warn_unknown_registers(database, app.state.tokens)
                yield

    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            METRICS_ROUTE,
            Route("/graphql", SessionGuard(graphql)),
            WebSocketRoute("/graphql", WebSocketCap(graphql, settings.websockets_per_address)),
            EXPORT_ROUTE,
            FEED_ROUTE,
            *portal_pages.ROUTES,
            *SIGN_IN_ROUTES,
            *console_routes(),
            *subscription_pages.ROUTES,
        ],
        middleware=[
            # Outermost: it needs uvicorn's own `send` (services/registry/frames.py).
            Middleware(DirectFrames),
            Middleware(RequestIdMiddleware),
            *_middleware(settings, [] if signin is None else [sessions.middleware(signin)]),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.signin = signin
    app.state.oidc = None if signin is None else oidc_client(signin)
    # Built once, here: a missing (production) or malformed ROPA_SECRET_KEY stops the start.
    app.state.secret_box = settings.secret_box()
    # Read once, here: a token list that cannot be used stops the start (TokenConfigInvalid).
    app.state.tokens = load_tokens(settings.tokens, settings.tokens_file)
    return app
