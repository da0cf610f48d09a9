"""Security headers on the registry's responses.

Every response: `X-Content-Type-Options: nosniff` (a browser never guesses a type into HTML or
script) and a `Referrer-Policy`. HTML responses: a Content-Security-Policy (scripts only from
the registry's own files, no framing: `frame-ancestors 'none'`, and `X-Frame-Options: DENY`
for browsers that predate it), unless the response set its own. Over TLS (as served, or as a
trusted proxy says through X-Forwarded-Proto): Strict-Transport-Security.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class SecurityHeaders:
    """Adds the headers above to each HTTP response."""

    def __init__(self, app: ASGIApp, *, content_security_policy: str, hsts_max_age: int) -> None:
        self.app = app
        self.csp = content_security_policy
        self.hsts = f"max-age={hsts_max_age}; includeSubDomains" if hsts_max_age > 0 else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add headers to the response as it starts."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("x-content-type-options", "nosniff")
                headers.setdefault("referrer-policy", "strict-origin-when-cross-origin")
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("content-security-policy", self.csp)
                    headers.setdefault("x-frame-options", "DENY")
                if self.hsts is not None and scope.get("scheme") == "https":
                    headers.setdefault("strict-transport-security", self.hsts)
            await send(message)

        await self.app(scope, receive, with_headers)
