"""Session rules on /graphql over HTTP, before an operation runs.

- A request that carries a session cookie which has expired, or whose signature does not verify,
  is answered UNAUTHENTICATED with `extensions.signIn` (the sign-in URL), and the cookie is
  dropped: a person whose sign-in lapsed is told so, not silently served as anonymous.
- A POST authenticated by the session cookie (no bearer token) whose document holds a mutation
  (or anything but queries, or that is not JSON) must carry the session's CSRF token in
  `X-CSRF-Token` (from /auth/me), else it is refused FORBIDDEN. A cross-site page can make a
  browser send the cookie, but cannot read the token, so it cannot act as the person. Queries
  need no token: another site cannot read their answers, and GraphiQL runs them as they are.
  Mutations never come by GET (strawberry runs only queries there).
Bearer-token requests are not cookie-authenticated and pass untouched, as do requests with no
session cookie and a browser's GET of the explorer page.
"""

from __future__ import annotations

import json
import logging

from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schema.errors import ErrorCode
from services.registry.signin import session as sessions
from services.registry.signin.config import LOGIN_PATH, SignInConfig

log = logging.getLogger(__name__)

# A body this large without the CSRF token is refused unread.
_MAX_BODY = 1 << 20


def only_queries(content_type: str, body: bytes) -> bool:
    """Whether a POST body holds nothing but query operations (so needs no CSRF token).

    Any doubt counts as a change: a body that is not JSON, a document that does not parse, a
    batch holding a mutation. Every operation of the document is looked at, whichever one
    `operationName` picks.
    """
    if content_type.split(";")[0].strip().lower() != "application/json":
        return False
    try:
        data = json.loads(body)
    except ValueError:
        return False
    for item in data if isinstance(data, list) else [data]:
        query = item.get("query") if isinstance(item, dict) else None
        if not isinstance(query, str):
            return False
        try:
            document = parse(query)
        except GraphQLError:
            return False
        for definition in document.definitions:
            if not isinstance(definition, OperationDefinitionNode):
                continue
            if definition.operation is not OperationType.QUERY:
                return False
    return True


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The request body (up to _MAX_BODY), and whether it was all read."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > _MAX_BODY:
            return b"", False
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the body already read, then whatever comes next."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


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
                ErrorCode.UNAUTHENTICATED,
                signIn=LOGIN_PATH,
            )
            sessions.clear_cookie(response, config)
            await response(scope, receive, send)
            return
        person = state.person
        unsafe = scope["method"] not in ("GET", "HEAD", "OPTIONS")
        given = connection.headers.get(sessions.CSRF_HEADER)
        if person is None or not unsafe or sessions.csrf_matches(person, given):
            await self.app(scope, receive, send)
            return
        body, complete = await _read_body(receive)
        if complete and only_queries(connection.headers.get("content-type", ""), body):
            await self.app(scope, _replay(body, receive), send)
            return
        log.warning("refused a session POST to /graphql that changes state without its CSRF token")
        response = _error(
            "a mutation signed in by session cookie must carry the session's CSRF token in the "
            "X-CSRF-Token header (GET /auth/me gives it as csrfToken)",
            ErrorCode.FORBIDDEN,
            reason="CSRF_TOKEN_MISSING",
        )
        await response(scope, receive, send)
