"""/auth/login, /auth/callback, /auth/logout and /auth/me: the OpenID Connect sign-in for people.

The authorization code flow with PKCE (S256) and a nonce, by Authlib's Starlette client: it
keeps the state, the nonce and the code verifier in the session cookie between /auth/login and
/auth/callback, exchanges the code at the token endpoint, and checks the ID token (signature
against the provider's JWKS, issuer, audience, expiry, nonce). The provider is discovered at the
first sign-in, not at start: the registry starts (and serves tokens) while the provider is down,
and /auth/login answers 503 saying which provider could not be reached, until it can.
"""

from __future__ import annotations

import html
import logging
import time
import warnings
from typing import Any

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.deprecate import AuthlibDeprecationWarning
from joserfc.errors import JoseError
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from services.registry.signin import session as sessions
from services.registry.signin.config import LOGIN_PATH, SignInConfig
from services.registry.signin.mapping import grant_for

# Authlib's HTTP client prefers httpx2 and warns when it falls back to httpx; the registry uses
# httpx everywhere else, so Authlib does too (the lock pins a version that supports it).
with warnings.catch_warnings():
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.starlette_client import OAuth

log = logging.getLogger(__name__)

NEXT_KEY = "ropa_next"
LOGOUT_PATH = "/auth/logout"
# Where a person lands after signing in when /auth/login was given no `next`.
DEFAULT_NEXT = "/graphql"


def oidc_client(config: SignInConfig) -> Any:
    """Authlib's client for the configured provider (no network until the first sign-in)."""
    oauth = OAuth()
    secret = config.client_secret.get_secret_value() if config.client_secret else None
    return oauth.register(
        "oidc",
        client_id=config.client_id,
        client_secret=secret,
        server_metadata_url=config.metadata_url,
        client_kwargs={
            "scope": config.scopes,
            "code_challenge_method": "S256",
            # A public client (no secret) authenticates with PKCE alone.
            "token_endpoint_auth_method": "client_secret_basic" if secret else "none",
            "timeout": 10.0,
        },
    )


def _page(status: int, title: str, message: str) -> HTMLResponse:
    body = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}'
        f"</title></head><body><h1>{html.escape(title)}</h1><p>{html.escape(message)}</p>"
        f'<p><a href="{LOGIN_PATH}">Sign in again</a></p></body></html>'
    )
    return HTMLResponse(body, status_code=status, headers={"cache-control": "no-store"})


def _safe_next(value: str | None) -> str:
    """Only a path on this site: never another origin (an open redirect)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return DEFAULT_NEXT


def _config(request: Request) -> SignInConfig | None:
    config: SignInConfig | None = getattr(request.app.state, "signin", None)
    return config


def _not_configured() -> JSONResponse:
    return JSONResponse(
        {
            "error": "sign-in is not configured on this registry (ROPA_OIDC_ISSUER, "
            "ROPA_OIDC_CLIENT_ID, ...); use a bearer token instead"
        },
        status_code=404,
    )


async def _discover(request: Request, config: SignInConfig) -> Response | None:
    """Load the provider's metadata once; an error page when it cannot be used."""
    client = request.app.state.oidc
    try:
        metadata = await client.load_server_metadata()
    except (httpx.HTTPError, ValueError) as exc:
        log.warning("OpenID provider discovery failed at %s: %s", config.metadata_url, exc)
        return _page(
            503,
            "Sign-in is unavailable",
            f"The OpenID provider at {config.issuer} could not be reached or did not answer "
            f"with its configuration ({type(exc).__name__}). Try again shortly.",
        )
    found = str(metadata.get("issuer", "")).rstrip("/")
    if found != config.issuer:
        log.error(
            "the OpenID provider at %s names its issuer %r; ROPA_OIDC_ISSUER is %r",
            config.metadata_url,
            found,
            config.issuer,
        )
        return _page(
            502,
            "Sign-in is misconfigured",
            f"The provider's configuration names the issuer {found!r}, not {config.issuer!r} "
            "(ROPA_OIDC_ISSUER must be the issuer exactly).",
        )
    return None


async def login(request: Request) -> Response:
    """Send the browser to the provider, with state, nonce and a PKCE challenge."""
    config = _config(request)
    if config is None:
        return _not_configured()
    problem = await _discover(request, config)
    if problem is not None:
        return problem
    request.session[NEXT_KEY] = _safe_next(request.query_params.get("next"))
    response: Response = await request.app.state.oidc.authorize_redirect(
        request, config.redirect_uri
    )
    response.headers["cache-control"] = "no-store"
    return response


async def callback(request: Request) -> Response:
    """The provider's answer: check it, map the claims to a role, start the session."""
    config = _config(request)
    if config is None:
        return _not_configured()
    problem = await _discover(request, config)
    if problem is not None:
        return problem
    try:
        token = await request.app.state.oidc.authorize_access_token(request)
    except httpx.HTTPError as exc:
        log.warning("the OpenID provider's token endpoint failed: %s", exc)
        return _page(503, "Sign-in is unavailable", "The OpenID provider did not answer.")
    except (AuthlibBaseError, JoseError, ValueError) as exc:
        # A state that matches no sign-in under way, an error from the provider, an ID token
        # with a bad signature, issuer, audience, nonce or expiry: nothing is signed in.
        error, description = getattr(exc, "error", None), getattr(exc, "description", None)
        reason = (
            ": ".join(str(x) for x in (error, description) if x) or str(exc) or type(exc).__name__
        )
        log.warning("refused a sign-in callback: %s: %s", type(exc).__name__, reason)
        return _page(400, "Sign-in failed", f"The sign-in could not be completed: {reason}.")
    claims = token.get("userinfo") if isinstance(token, dict) else None
    if not claims or not claims.get("sub"):
        log.warning("refused a sign-in callback without an ID token")
        return _page(400, "Sign-in failed", "The provider returned no ID token.")
    grant = grant_for(config.rules, claims)
    who = sessions.display_name(claims)
    if grant is None:
        # The subject only: names and addresses are personal data, kept out of the logs.
        log.warning("refused the sign-in of sub %r: no role mapping matches", claims["sub"])
        request.session.clear()
        return _page(
            403,
            "Not allowed",
            f"You signed in as {who}, but this registry gives that account no role "
            "(ROPA_OIDC_ROLE_MAPPINGS). Ask its administrator.",
        )
    next_path = _safe_next(request.session.get(NEXT_KEY))
    person = sessions.start(request.session, claims, grant, config.session_lifetime)
    log.info(
        "signed in sub %r as %s of %s",
        person.subject,
        person.role.value,
        "every register" if person.registers is None else sorted(person.registers),
    )
    return RedirectResponse(next_path, status_code=303, headers={"cache-control": "no-store"})


async def logout(request: Request) -> Response:
    """POST with the CSRF token (form field `csrf_token` or X-CSRF-Token): end the session.

    GET shows a one-button form, since a link (GET) must never change state.
    """
    config = _config(request)
    if config is None:
        return _not_configured()
    state = sessions.state_of(request, config)
    if request.method == "GET":
        if state.person is None:
            return RedirectResponse(DEFAULT_NEXT, status_code=303)
        token = html.escape(state.person.csrf_token)
        return HTMLResponse(
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign out</title>'
            f"</head><body><p>Signed in as {html.escape(state.person.display_name)}.</p>"
            f'<form method="post" action="{LOGOUT_PATH}"><input type="hidden" name="csrf_token" '
            f'value="{token}"><button type="submit">Sign out</button></form></body></html>',
            headers={"cache-control": "no-store"},
        )
    if state.person is not None:
        given = request.headers.get(sessions.CSRF_HEADER)
        if given is None:
            async with request.form() as form:
                field = form.get("csrf_token")
                given = field if isinstance(field, str) else None
        if not sessions.csrf_matches(state.person, given):
            log.warning("refused a sign-out without the session's CSRF token")
            return JSONResponse({"error": "the CSRF token is missing or wrong"}, status_code=403)
        log.info("signed out sub %r", state.person.subject)
    request.session.clear()
    response = RedirectResponse(DEFAULT_NEXT, status_code=303)
    if state.status is sessions.Status.INVALID:
        sessions.clear_cookie(response, config)
    return response


async def me(request: Request) -> JSONResponse:
    """Who the browser is signed in as (JSON, for the console), with its CSRF token."""
    config = _config(request)
    headers = {"cache-control": "no-store"}
    if config is None:
        return JSONResponse({"signedIn": False, "signInAvailable": False}, headers=headers)
    state = sessions.state_of(request, config)
    person = state.person
    if person is None:
        body: dict[str, Any] = {
            "signedIn": False,
            "signInAvailable": True,
            "signIn": LOGIN_PATH,
        }
        stale = state.status in (sessions.Status.EXPIRED, sessions.Status.INVALID)
        if stale:
            body["expired"] = True
        response = JSONResponse(body, headers=headers)
        if stale:
            sessions.clear_cookie(response, config)
        return response
    return JSONResponse(
        {
            "signedIn": True,
            "via": "session",
            "subject": person.subject,
            "displayName": person.display_name,
            "role": person.role.value,
            "registers": None if person.registers is None else sorted(person.registers),
            "expiresAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(person.expires_at)),
            "csrfToken": person.csrf_token,
            "csrfHeader": "X-CSRF-Token",
            "signOut": LOGOUT_PATH,
        },
        headers=headers,
    )


ROUTES = [
    Route(LOGIN_PATH, login, methods=["GET"]),
    Route("/auth/callback", callback, methods=["GET"]),
    Route(LOGOUT_PATH, logout, methods=["GET", "POST"]),
    Route("/auth/me", me, methods=["GET"]),
]
