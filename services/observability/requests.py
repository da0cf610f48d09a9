"""Each HTTP request and WebSocket gets an id: the caller's X-Request-ID when it is a plain
token, else a new one. It is bound to every log line of the request and sent back."""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.observability import logs

_HEADER = b"x-request-id"
# An id from outside is logged: only a short plain token is taken.
_PLAIN = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class RequestIdMiddleware:
    """Binds `request_id` for the request's logs and answers it in X-Request-ID."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Bind the id, then run the app with a `send` that adds the response header."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or ()).get(_HEADER, b"").decode("latin-1")
        request_id = given if _PLAIN.match(given) else uuid.uuid4().hex
        logs.start_request(request_id)

        if scope["type"] == "websocket":
            # Nothing to add to its frames: every message a subscriber is sent would pay for
            # a wrapper that passes it on.
            await self.app(scope, receive, send)
            return

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        await self.app(scope, receive, send_with_id)
