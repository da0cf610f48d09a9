"""Request bodies no larger than a limit, enforced while they are read.

A declared Content-Length over the limit is answered 413 at once, before a byte of the body is
read; a body that arrives in chunks (or lies about its length) is counted as it is read, and
refused when it passes the limit, so nothing ever holds more than the limit in memory, and no
parser sees the body.
"""

from __future__ import annotations

import logging

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schema.errors import ErrorCode

log = logging.getLogger(__name__)

TOO_LARGE = ErrorCode.REQUEST_TOO_LARGE


class _BodyTooLarge(Exception):
    """Raised into the app from `receive`, caught by the middleware."""


def too_large_response(limit: int) -> JSONResponse:
    """413, in the shape of a GraphQL error so that GraphQL clients show the reason."""
    message = f"request body is larger than the limit of {limit} bytes"
    body = {"errors": [{"message": message, "extensions": {"code": TOO_LARGE}}]}
    return JSONResponse(body, status_code=413, headers={"connection": "close"})


class BodySizeLimit:
    """Answers 413 to an HTTP request whose body is longer than `max_bytes`."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the declared length, then count what is read."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            log.info("refused a request body of %s bytes (limit %d)", declared, self.max_bytes)
            await too_large_response(self.max_bytes)(scope, receive, send)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _BodyTooLarge:
            log.info("refused a request body past %d bytes", self.max_bytes)
            if not started:
                await too_large_response(self.max_bytes)(scope, receive, send)
