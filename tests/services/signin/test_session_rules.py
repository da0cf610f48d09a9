"""What a session may do and when it stops: CSRF on state-changing requests, sign-out, expiry,
tampered cookies, and callbacks that do not belong to the sign-in under way."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import itsdangerous
import pytest
from starlette.applications import Starlette

from graph.database import Database
from services.registry.app import create_app
from services.registry.settings import RegistrySettings
from tests.services.signin.conftest import browser_for, session_cookie, sign_in

pytestmark = pytest.mark.neo4j

ENGAGE = """
mutation {
  engageSubProcessor(input: {processor: "portal-co", subProcessor: "mail-co",
                             purpose: "Mail", categories: [], since: "2024-09-01"}) {
    engagement { id }
    errors { message }
  }
}
"""


async def post(
    browser: httpx.AsyncClient, query: str, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    response = await browser.post("/graphql", json={"query": query}, headers=headers or {})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def csrf(browser: httpx.AsyncClient) -> str:
    token: str = (await browser.get("/auth/me")).json()["csrfToken"]
    return token


def code(body: dict[str, Any]) -> str:
    (error,) = body["errors"]
    found: str = error["extensions"]["code"]
    return found


async def test_a_mutation_needs_the_csrf_token(
    change_register: Database, browser: httpx.AsyncClient
) -> None:
    await sign_in(browser, "dana")
    refused = await post(browser, ENGAGE)
    assert code(refused) == "FORBIDDEN"
    assert refused["errors"][0]["extensions"]["reason"] == "CSRF_TOKEN_MISSING"
    assert refused["data"] is None
    wrong = await post(browser, ENGAGE, {"X-CSRF-Token": "guessed"})
    assert code(wrong) == "FORBIDDEN"
    # Nothing was written by the refused attempts: the accepted one creates the engagement.
    accepted = await post(browser, ENGAGE, {"X-CSRF-Token": await csrf(browser)})
    assert "errors" not in accepted, accepted
    assert accepted["data"]["engageSubProcessor"]["engagement"] == {"id": "portal-co-mail-co"}
    # The change is recorded as the person's, signed in by session.
    log = await post(
        browser,
        '{ auditLog(register: "school", first: 500) '
        "{ nodes { entityId actor { name via subject displayName } } } }",
    )
    actors = [
        n["actor"] for n in log["data"]["auditLog"]["nodes"] if n["entityId"] == "portal-co-mail-co"
    ]
    assert actors
    assert all(
        a
        == {"name": "Dana DPO", "via": "SESSION", "subject": "sub-dana", "displayName": "Dana DPO"}
        for a in actors
    ), actors


async def test_a_reader_session_may_not_change(
    change_register: Database, browser: httpx.AsyncClient
) -> None:
    await sign_in(browser, "rob")
    body = await post(browser, ENGAGE, {"X-CSRF-Token": await csrf(browser)})
    assert code(body) == "FORBIDDEN"
    assert "reason" not in body["errors"][0]["extensions"]


async def test_queries_need_no_csrf_token(
    change_register: Database, browser: httpx.AsyncClient
) -> None:
    await sign_in(browser, "dana")
    response = await browser.get("/graphql", params={"query": "{ __typename }"})
    assert response.json() == {"data": {"__typename": "Query"}}
    # Served as the person (webhooks need the dpo role), without the token.
    body = await post(browser, "{ webhooks { id } }")
    assert body == {"data": {"webhooks": []}}


@pytest.mark.parametrize(
    "body",
    [
        # operationName picks the query; the document still holds a mutation.
        {
            "query": "query Q { __typename } " + ENGAGE.replace("mutation", "mutation M"),
            "operationName": "Q",
        },
        [{"query": "{ __typename }"}, {"query": ENGAGE}],
        {"query": "{ __typename"},
    ],
    ids=["mixed-document", "batch", "unparsable"],
)
async def test_a_body_that_may_change_state_needs_the_token(
    change_register: Database, browser: httpx.AsyncClient, body: Any
) -> None:
    await sign_in(browser, "dana")
    response = await browser.post("/graphql", json=body)
    assert response.json()["errors"][0]["extensions"]["reason"] == "CSRF_TOKEN_MISSING"
    form = await browser.post("/graphql", data={"query": "{ __typename }"})
    assert form.json()["errors"][0]["extensions"]["reason"] == "CSRF_TOKEN_MISSING"


async def test_sign_out_ends_the_session(browser: httpx.AsyncClient) -> None:
    await sign_in(browser, "dana")
    token = await csrf(browser)
    page = await browser.get("/auth/logout")
    assert token in page.text
    assert 'method="post"' in page.text
    refused = await browser.post("/auth/logout", data={"csrf_token": "wrong"})
    assert refused.status_code == 403
    assert (await browser.get("/auth/me")).json()["signedIn"] is True
    done = await browser.post("/auth/logout", data={"csrf_token": token})
    assert done.status_code == 303
    assert "ropa_session=null" in done.headers["set-cookie"]
    assert session_cookie(browser) is None
    me = (await browser.get("/auth/me")).json()
    assert me == {"signedIn": False, "signInAvailable": True, "signIn": "/auth/login"}
    # Signed out, a mutation is anonymous: UNAUTHENTICATED, not a CSRF refusal.
    assert code(await post(browser, ENGAGE)) == "UNAUTHENTICATED"


def _tamper(value: str) -> str:
    """The cookie with its payload changed and its signature kept."""
    payload, _, rest = value.partition(".")
    data = json.loads(base64.b64decode(payload))
    data["ropa_sign_in"]["role"] = "admin"
    data["ropa_sign_in"]["registers"] = None
    forged = base64.b64encode(json.dumps(data).encode()).decode()
    return f"{forged}.{rest}"


@pytest.mark.parametrize("how", ["payload-edited", "other-key"])
async def test_a_tampered_cookie_is_refused(browser: httpx.AsyncClient, how: str) -> None:
    await sign_in(browser, "rob")
    value = session_cookie(browser)
    assert value is not None
    if how == "payload-edited":
        forged = _tamper(value)
    else:
        payload = value.partition(".")[0]
        forged = itsdangerous.TimestampSigner("not-the-registry-key").sign(payload).decode()
    browser.cookies.clear()
    browser.cookies.set("ropa_session", forged, domain="localhost.local", path="/")
    body = await post(browser, "{ __typename }", {"X-CSRF-Token": "whatever"})
    assert code(body) == "UNAUTHENTICATED"
    assert body["errors"][0]["extensions"]["signIn"] == "/auth/login"
    me = (await browser.get("/auth/me")).json()
    assert me["signedIn"] is False


@pytest.fixture(scope="module")
async def short_app(signin_settings: RegistrySettings) -> AsyncIterator[Starlette]:
    """The sign-in app with sessions that last 2 seconds."""
    application = create_app(signin_settings.model_copy(update={"session_lifetime": 2.0}))
    async with application.router.lifespan_context(application):
        yield application


async def test_an_expired_session_is_unauthenticated_with_a_sign_in_link(
    short_app: Starlette,
) -> None:
    async with browser_for(short_app) as browser:
        await sign_in(browser, "dana")
        token = await csrf(browser)
        deadline = time.monotonic() + 30
        while True:
            body = await post(browser, "{ __typename }", {"X-CSRF-Token": token})
            if "errors" in body:
                break
            assert body == {"data": {"__typename": "Query"}}
            assert time.monotonic() < deadline, "the session did not expire"
            await asyncio.sleep(0.2)
        (error,) = body["errors"]
        assert error["extensions"] == {"code": "UNAUTHENTICATED", "signIn": "/auth/login"}
        assert "expired" in error["message"]
        assert body["data"] is None
        # The cookie is dropped with that answer: from then on the browser is anonymous.
        assert session_cookie(browser) is None
        assert (await post(browser, "{ __typename }")) == {"data": {"__typename": "Query"}}


def _with_param(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query[name] = value
    return urlunsplit(parts._replace(query=urlencode(query)))


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        ({"callback": ("state", "not-the-state")}, "state"),
        ({"authorize": ("nonce", "another-nonce")}, "nonce"),
        # The code was issued for another PKCE challenge: the provider refuses the exchange.
        ({"authorize": ("code_challenge", "A" * 43)}, "invalid_grant"),
    ],
    ids=["state-mismatch", "nonce-mismatch", "pkce-mismatch"],
)
async def test_a_callback_that_does_not_match_is_refused(
    browser: httpx.AsyncClient, edit: dict[str, tuple[str, str]], reason: str
) -> None:
    authorize, callback = edit.get("authorize"), edit.get("callback")
    flow = await sign_in(
        browser,
        "dana",
        edit_authorize=None if authorize is None else lambda u: _with_param(u, *authorize),
        edit_callback=None if callback is None else lambda u: _with_param(u, *callback),
    )
    assert flow.callback.status_code == 400, flow.callback.text
    assert reason in flow.callback.text.lower()
    assert (await browser.get("/auth/me")).json()["signedIn"] is False


async def test_a_callback_in_another_browser_is_refused(
    browser: httpx.AsyncClient, signin_app: Starlette
) -> None:
    """The code and state reach a browser that did not start the sign-in (login CSRF)."""
    stolen: list[str] = []

    def keep(url: str) -> str:
        stolen.append(url)
        return url.replace("code=", "code=used-")

    await sign_in(browser, "dana", edit_callback=keep)
    async with browser_for(signin_app) as other:
        response = await other.get(stolen[0])
        assert response.status_code == 400
        assert (await other.get("/auth/me")).json()["signedIn"] is False
