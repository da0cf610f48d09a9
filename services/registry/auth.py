"""Bearer tokens in the registry: the configured hashes, and the principal of a request.

The token list comes from `ROPA_TOKENS` (JSON) and/or the file named by `ROPA_TOKENS_FILE`
(the same JSON; the Helm chart mounts it from a Secret); both may be set, and the lists are
joined. It is read once, when the app is created: a list that cannot be used stops the start
with a message that says where and why. See schema/access/tokens.py for the format.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from starlette.requests import HTTPConnection
from starlette.websockets import WebSocket

from graph.database import Database
from graph.read.registers import register_ids
from schema.access.policy import PublicReads, ReadScope, read_scope
from schema.access.principal import Principal, Via
from schema.access.tokens import (
    TokenConfigInvalid,
    TokenEntry,
    bearer_token,
    parse_tokens,
    verify,
)
from schema.errors import DatabaseUnavailable
from services.registry.signin import session as sessions
from services.registry.signin.config import SignInConfig

log = logging.getLogger(__name__)


def load_tokens(inline: str | None, file: Path | None) -> tuple[TokenEntry, ...]:
    """The configured tokens from the `ROPA_TOKENS` text and the `ROPA_TOKENS_FILE` file."""
    entries: list[TokenEntry] = []
    if inline is not None and inline.strip():
        entries.extend(parse_tokens(inline, "ROPA_TOKENS"))
    if file is not None:
        source = f"ROPA_TOKENS_FILE {file}"
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise TokenConfigInvalid(source, f"cannot be read ({exc.strerror or exc})") from exc
        entries.extend(parse_tokens(text, source))
    hashes = [e.sha256 for e in entries]
    if len(set(hashes)) != len(hashes):
        raise TokenConfigInvalid(
            "ROPA_TOKENS and ROPA_TOKENS_FILE", "the same hash is listed in both"
        )
    if not entries:
        log.warning(
            "no bearer tokens are configured (ROPA_TOKENS, ROPA_TOKENS_FILE): "
            "every mutation will be refused"
        )
    return tuple(entries)


def principal_from_header(value: str | None, tokens: tuple[TokenEntry, ...]) -> Principal | None:
    """Who an `Authorization` header value (`Bearer <token>`) names; None when no one."""
    token = bearer_token(value)
    return None if token is None else verify(token, tokens)


def session_principal(person: sessions.SignedIn) -> Principal:
    """The principal of a signed-in person."""
    return Principal(
        name=person.display_name,
        role=person.role,
        registers=person.registers,
        via=Via.SESSION,
        subject=person.subject,
        display_name=person.display_name,
    )


def request_principal(request: Any) -> Principal | None:
    """The principal of a Starlette request or WebSocket: its bearer token (by the tokens the
    app was started with, `app.state.tokens`), else its session cookie; None for anyone else.

    A request that presents an Authorization header is judged by it alone, never by a cookie.
    A WebSocket's session counts only when its Origin is the registry's own (a page elsewhere
    must not open a socket that acts as the person: cross-site WebSocket hijacking).
    """
    if not isinstance(request, HTTPConnection):
        return None
    state = getattr(request.app, "state", None)
    header = request.headers.get("authorization")
    if header is not None:
        tokens: tuple[TokenEntry, ...] = getattr(state, "tokens", ())
        return principal_from_header(header, tokens)
    config: SignInConfig | None = getattr(state, "signin", None)
    if config is None or "session" not in request.scope:
        return None
    if isinstance(request, WebSocket) and not same_origin(request, config):
        return None
    person = sessions.state_of(request, config).person
    return None if person is None else session_principal(person)


def same_origin(connection: HTTPConnection, config: SignInConfig) -> bool:
    """Whether a connection's Origin header (if any) is the registry's public origin."""
    origin = connection.headers.get("origin")
    return origin is None or origin.rstrip("/") == config.origin


def stale_session(connection: HTTPConnection) -> bool:
    """Whether a connection carries a session cookie that expired or does not verify."""
    config: SignInConfig | None = getattr(connection.app.state, "signin", None)
    if config is None or "session" not in connection.scope:
        return False
    status = sessions.state_of(connection, config).status
    return status in (sessions.Status.EXPIRED, sessions.Status.INVALID)


def request_scope(request: Any) -> ReadScope:
    """What a request (its principal, and the app's ROPA_PUBLIC_READS) may read."""
    scope = getattr(request, "scope", None)
    app = scope.get("app") if isinstance(scope, dict) else None
    settings = getattr(getattr(app, "state", None), "settings", None)
    public = getattr(settings, "public_reads", PublicReads.SUBPROCESSORS)
    return read_scope(request_principal(request), public)


async def warn_unknown_registers(db: Database, tokens: tuple[TokenEntry, ...]) -> None:
    """Log a WARNING for each token whose scope names a register the graph does not hold.

    Not an error: the registry starts whether Neo4j is up or not, and a scope may be set before
    the register's first `ropa apply`; until it exists, the scope reads nothing of it and its
    writes are FORBIDDEN. Skipped (logged) while Neo4j does not answer; the caller bounds the
    wait (asyncio.timeout)."""
    named = {r for t in tokens if t.registers for r in t.registers}
    if not named:
        return
    try:
        known = await register_ids(db)
    except DatabaseUnavailable:
        log.warning("could not check the tokens' registers: Neo4j did not answer")
        return
    for entry in tokens:
        unknown = sorted((entry.registers or frozenset()) - known)
        if unknown:
            log.warning(
                "token %r names registers the graph does not hold: %s; until they are applied "
                "it reads nothing of them and may change none of them",
                entry.name,
                ", ".join(unknown),
            )
