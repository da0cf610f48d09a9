"""Rate limits: the one limiter (`Limiter`), and requests per principal within a rate, else 429
with Retry-After (`RateLimit`).

The principal is the bearer token's or the signed-in person's (services.registry.auth), so a
school's users behind one address are not one another's limit; anyone else is counted by the
client address (services.registry.client_address: a trusted proxy's forwarded one). A token
that is not a configured one counts as its address, so inventing tokens buys nothing. Probes
(/healthz, /readyz, /metrics) are never limited. The portal's subscription requests are
limited by the same `Limiter` (per e-mail address and per client address).

The counts are kept in this process's memory by the `limits` library (sliding window
counters): each registry process (each replica, each uvicorn worker) limits what reaches it,
so N processes behind a load balancer allow up to N times a limit in all. That bounds abuse
well enough for what these limits are for (a client flooding one process; a form whose every
success mails one confirmation); sharing the counts would cost a database write per request.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Collection

from limits import RateLimitItem
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from schema.errors import ErrorCode
from services.registry.auth import request_principal
from services.registry.client_address import client_address

log = logging.getLogger(__name__)

RATE_LIMITED = ErrorCode.RATE_LIMITED
UNLIMITED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class Limiter:
    """Hits per key within rates, counted in this process's memory (sliding window counters)."""

    def __init__(self) -> None:
        self._limiter = SlidingWindowCounterRateLimiter(MemoryStorage())

    async def retry_after(self, limit: RateLimitItem, key: str) -> float:
        """0 when `key` may act now under `limit` (and the act is counted); else the seconds
        until it may."""
        if await self._limiter.hit(limit, key):
            return 0.0
        stats = await self._limiter.get_window_stats(limit, key)
        return max(1.0, float(math.ceil(stats.reset_time - time.time())))


def client_key(connection: HTTPConnection) -> str:
    """Who a request counts against: its principal, else its client address."""
    principal = request_principal(connection)
    if principal is not None:
        return f"{principal.via.value}:{principal.subject or principal.name}"
    return f"address:{client_address(connection.scope)}"


def limited_response(retry_after: int, limit: RateLimitItem) -> JSONResponse:
    """429 with Retry-After, in the shape of a GraphQL error."""
    message = f"rate limit of {limit} exceeded; retry after {retry_after} s"
    body = {"errors": [{"message": message, "extensions": {"code": RATE_LIMITED}}]}
    return JSONResponse(body, status_code=429, headers={"retry-after": str(retry_after)})


class RateLimit:
    """Counts each HTTP request and WebSocket handshake against its principal's limits."""

    def __init__(
        self,
        app: ASGIApp,
        limits: Collection[RateLimitItem],
        unlimited_paths: Collection[str] = UNLIMITED_PATHS,
    ) -> None:
        self.app = app
        self.limits = tuple(limits)
        self.unlimited = frozenset(unlimited_paths)
        self.limiter = Limiter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a request over any of the limits; pass the others."""
        if (
            scope["type"] not in ("http", "websocket")
            or not self.limits
            or scope["path"] in self.unlimited
        ):
            await self.app(scope, receive, send)
            return
        key = client_key(HTTPConnection(scope))
        for limit in self.limits:
            retry_after = math.ceil(await self.limiter.retry_after(limit, key))
            if retry_after:
                log.info("rate limit %s reached for %s", limit, key)
                if scope["type"] == "websocket":
                    # Before the handshake is accepted, a close is answered 403.
                    await send({"type": "websocket.close", "code": 1008})
                    return
                await limited_response(retry_after, limit)(scope, receive, send)
                return
        await self.app(scope, receive, send)
