"""The code flow with PKCE against the real provider: the session it yields, and the mapping
from claims to role and registers."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.services.signin.conftest import REGISTER, session_cookie, sign_in

pytestmark = pytest.mark.neo4j


async def test_code_flow_with_pkce_yields_a_session(browser: httpx.AsyncClient) -> None:
    flow = await sign_in(browser, "dana")
    assert flow.callback.status_code == 303, flow.callback.text
    assert flow.callback.headers["location"] == "/graphql"
    query = parse_qs(urlsplit(flow.authorize_url).query)
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) >= 43
    assert query["state"]
    assert query["nonce"]
    assert query["redirect_uri"] == ["http://localhost/auth/callback"]
    cookie = flow.callback.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "path=/" in cookie
    assert session_cookie(browser)

    me = (await browser.get("/auth/me")).json()
    assert me["signedIn"] is True
    assert me["via"] == "session"
    assert me["subject"] == "sub-dana"
    assert me["displayName"] == "Dana DPO"
    assert me["csrfToken"]
    assert me["expiresAt"].endswith("Z")


@pytest.mark.parametrize(
    ("login", "role", "registers"),
    [
        # Two dpo groups: the union of their registers.
        ("dana", "dpo", [REGISTER, "other-school"]),
        # Matched by the e-mail domain.
        ("rob", "reader", [REGISTER]),
        # Matched by a claim value; admin holds every register.
        ("ada", "admin", None),
    ],
)
async def test_scope_follows_the_mapping(
    browser: httpx.AsyncClient, login: str, role: str, registers: list[str] | None
) -> None:
    flow = await sign_in(browser, login)
    assert flow.callback.status_code == 303, flow.callback.text
    me = (await browser.get("/auth/me")).json()
    assert me["role"] == role
    assert me["registers"] == (None if registers is None else sorted(registers))


@pytest.mark.parametrize("login", ["nobody", "una"], ids=["no-rule-matches", "email-unverified"])
async def test_no_mapping_no_session(browser: httpx.AsyncClient, login: str) -> None:
    flow = await sign_in(browser, login)
    assert flow.callback.status_code == 403
    assert "gives that account no role" in flow.callback.text
    me = (await browser.get("/auth/me")).json()
    assert me["signedIn"] is False
    assert me["signIn"] == "/auth/login"


async def test_wrong_password_is_refused_by_the_provider(browser: httpx.AsyncClient) -> None:
    with pytest.raises(AssertionError, match="wrong password"):
        await sign_in(browser, "dana", "not the password")
    assert (await browser.get("/auth/me")).json()["signedIn"] is False


@pytest.mark.parametrize(
    ("next_path", "landing"),
    [
        ("/feeds/subprocessors/x.atom", "/feeds/subprocessors/x.atom"),
        ("//evil.example/x", "/graphql"),
    ],
)
async def test_next_stays_on_this_site(
    browser: httpx.AsyncClient, next_path: str, landing: str
) -> None:
    flow = await sign_in(browser, "rob", start=f"/auth/login?next={next_path}")
    assert flow.callback.headers["location"] == landing
