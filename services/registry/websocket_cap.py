"""At most so many WebSockets open at once from one client address.

Each connection holds a task, a queue and up to `subscriptions_per_connection` operations
(RegistryGraphQL): without a cap per address, one client could open connections until the
process runs out of memory. A handshake over the cap is refused (a close before accepting,
which the server answers 403) and logged.
"""

from __future__ import annotations

import logging
from collections import Counter

from starlette.types import ASGIApp, Receive, Scope, Send

from services.registry.client_address import client_address

log = logging.getLogger(__name__)


class WebSocketCap:
    """Counts open WebSockets by client address; refuses those over `per_address`."""

    def __init__(self, app: ASGIApp, per_address: int) -> None:
        self.app = app
        self.per_address = per_address
        self.open: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Admit a WebSocket if its address has room; count it while it is open."""
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        address = client_address(scope)
        if self.open[address] >= self.per_address:
            log.warning(
                "refused a WebSocket from %s: %d already open (limit)", address, self.per_address
            )
            await send({"type": "websocket.close", "code": 1008})
            return
        self.open[address] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.open[address] -= 1
            if self.open[address] <= 0:
                del self.open[address]
