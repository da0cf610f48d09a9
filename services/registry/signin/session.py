"""A signed-in person's session: what the signed cookie holds, its expiry and its CSRF token.

Starlette's SessionMiddleware keeps the session in a cookie signed with ROPA_SESSION_SECRET
(itsdangerous), HttpOnly and SameSite=Lax (Lax, not Strict: the provider's redirect back to
/auth/callback is a cross-site navigation that must carry the cookie holding the sign-in's
state). The sign-in itself is stored under one key with its own absolute expiry, so that an
expired session is told apart from no session at all and answered with a sign-in link; the
cookie outlives it by a day for that reason only.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import HTTPConnection
from starlette.responses import Response

from schema.access.principal import Role
from services.registry.signin.config import SignInConfig
from services.registry.signin.mapping import Grant

SIGN_IN_KEY = "ropa_sign_in"
CSRF_HEADER = "x-csrf-token"
# How much longer the cookie lives than the sign-in: long enough to say "expired, sign in".
COOKIE_GRACE = 24 * 3600


def cookie_name(secure: bool) -> str:
    """The session cookie's name: `__Host-` prefixed over https (host-only, Secure, Path=/)."""
    return "__Host-ropa_session" if secure else "ropa_session"


def middleware(config: SignInConfig) -> Middleware:
    """Starlette's SessionMiddleware with the cookie's name, key, lifetime and flags."""
    return Middleware(
        SessionMiddleware,
        secret_key=config.session_secret.get_secret_value(),
        session_cookie=cookie_name(config.secure_cookies),
        max_age=int(config.session_lifetime + COOKIE_GRACE),
        same_site="lax",
        https_only=config.secure_cookies,
    )


class Status(Enum):
    """What a request's session cookie amounts to."""

    NONE = "none"  # no cookie, or one holding no sign-in (e.g. a sign-in under way)
    VALID = "valid"
    EXPIRED = "expired"  # signed in once, but too long ago
    INVALID = "invalid"  # a cookie whose signature does not verify (tampered, or too old)


@dataclass(frozen=True)
class SignedIn:
    """The person a valid session is for."""

    subject: str
    display_name: str
    role: Role
    registers: frozenset[str] | None
    expires_at: float
    csrf_token: str


@dataclass(frozen=True)
class SessionState:
    """The status of a request's session, and the person when it is valid."""

    status: Status
    person: SignedIn | None = None


def display_name(claims: Mapping[str, Any]) -> str:
    """How to name the person: `name`, else `email`, else the subject."""
    for key in ("name", "email", "preferred_username"):
        value = claims.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return str(claims.get("sub", ""))


def start(
    session: MutableMapping[str, Any], claims: Mapping[str, Any], grant: Grant, lifetime: float
) -> SignedIn:
    """Replace whatever the session held by a new sign-in (a fresh CSRF token with it)."""
    person = SignedIn(
        subject=str(claims["sub"]),
        display_name=display_name(claims),
        role=grant.role,
        registers=grant.registers,
        expires_at=time.time() + lifetime,
        csrf_token=secrets.token_urlsafe(32),
    )
    session.clear()
    session[SIGN_IN_KEY] = {
        "sub": person.subject,
        "name": person.display_name,
        "role": person.role.value,
        "registers": None if person.registers is None else sorted(person.registers),
        "exp": person.expires_at,
        "csrf": person.csrf_token,
    }
    return person


def read(session: Mapping[str, Any] | None, cookie_present: bool) -> SessionState:
    """The state of a session as SessionMiddleware decoded it (empty when the signature failed)."""
    if not cookie_present:
        return SessionState(Status.NONE)
    if not session:
        return SessionState(Status.INVALID)
    stored = session.get(SIGN_IN_KEY)
    if not isinstance(stored, dict):
        return SessionState(Status.NONE)
    try:
        registers = stored["registers"]
        person = SignedIn(
            subject=str(stored["sub"]),
            display_name=str(stored["name"]),
            role=Role(stored["role"]),
            registers=None if registers is None else frozenset(str(r) for r in registers),
            expires_at=float(stored["exp"]),
            csrf_token=str(stored["csrf"]),
        )
    except (KeyError, TypeError, ValueError):
        return SessionState(Status.INVALID)
    if person.expires_at <= time.time():
        return SessionState(Status.EXPIRED)
    return SessionState(Status.VALID, person)


def csrf_matches(person: SignedIn, given: str | None) -> bool:
    """Whether a request's CSRF token is the session's (compared in constant time)."""
    if not given:
        return False
    return hmac.compare_digest(given.encode("utf-8"), person.csrf_token.encode("utf-8"))


def state_of(connection: HTTPConnection, config: SignInConfig) -> SessionState:
    """The session state of a request or WebSocket under SessionMiddleware."""
    present = cookie_name(config.secure_cookies) in connection.cookies
    return read(connection.scope.get("session"), present)


def clear_cookie(response: Response, config: SignInConfig) -> None:
    """Tell the browser to drop a session cookie that cannot be used."""
    response.delete_cookie(
        cookie_name(config.secure_cookies),
        path="/",
        secure=config.secure_cookies,
        httponly=True,
        samesite="lax",
    )
