"""Session rules on /graphql over HTTP, before an operation runs.

- A request that carries a session cookie which has expired, or whose signature does not verify,
  is answered UNAUTHENTICATED with `extensions.signIn` (the sign-in URL), and the cookie is
  dropped: a person whose sign-in lapsed is told so, not silently served as anonymous.
- A POST authenticated by the session cookie (no bearer token) must carry the session's CSRF
  token in `X-CSRF-Token` (from /auth/me), else it is refused FORBIDDEN. Every POST, queries too:
  one rule that needs no parsing of the operation, and mutations only ever come by POST (GET
  runs queries only). A cross-site page can make a browser send the cookie, but cannot read
  the token, so it cannot act as the person.
Bearer-token requests are not cookie-authenticated and pass untouched, as do requests with no
session cookie and a browser's GET of the explorer page.
"""

from __future__ import annotations

import logging

from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from services.registry.signin import session as sessions
from services.registry.signin.config import LOGIN_PATH, SignInConfig

log = logging.getLogger(__name__)


def _error(message: str, code: str, **extensions: str) -> JSONResponse:
    body = {
        "data": None,
        "errors": [{"message": message, "extensions": {"code": code, **extensions}}],
    }
    return JSONResponse(body, headers={"cache-control": "no-store"})


class SessionGuard:
    """Wraps the GraphQL endpoint's HTTP side with the session rules above."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse what the rules refuse; pass everything else to the endpoint."""
        config: SignInConfig | None = getattr(scope["app"].state, "signin", None)
        if scope["type"] != "http" or config is None:
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        page_load = scope["method"] == "GET" and "query" not in connection.query_params
        if "authorization" in connection.headers or page_load:
            await self.app(scope, receive, send)
            return
        state = sessions.state_of(connection, config)
        if state.status in (sessions.Status.EXPIRED, sessions.Status.INVALID):
            log.info("refused a GraphQL request with a %s session", state.status.value)
            response = _error(
                "your sign-in has expired or is not valid; sign in again at " + LOGIN_PATH,
                "UNAUTHENTICATED",
                signIn=LOGIN_PATH,
            )
            sessions.clear_cookie(response, config)
            await response(scope, receive, send)
            return
        person = state.person
        unsafe = scope["method"] not in ("GET", "HEAD", "OPTIONS")
        given = connection.headers.get(sessions.CSRF_HEADER)
        if person is not None and unsafe and not sessions.csrf_matches(person, given):
            log.warning("refused a session POST to /graphql without its CSRF token")
            response = _error(
                "a request signed in by session cookie must carry the session's CSRF token "
                "in the X-CSRF-Token header (GET /auth/me gives it as csrfToken)",
                "FORBIDDEN",
                reason="CSRF_TOKEN_MISSING",
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
