"""Sign-in against a real OpenID provider (oidc-provider under Node, on loopback), driven by a
"browser": an httpx client with one cookie jar that reaches the registry app in-process and the
provider over real HTTP, following the redirects and submitting the provider's forms.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from services.cli.oidc_provider import DevClient, DevProvider, DevUser, missing_reason
from services.registry.app import create_app
from services.registry.settings import RegistrySettings

REGISTRY = "http://localhost"
CLIENT = DevClient("ropa-registry", "test-client-secret", (f"{REGISTRY}/auth/callback",))
SESSION_SECRET = "test-session-secret-0123456789abcdef"
PASSWORD = "correct horse battery staple"
REGISTER = "school"

USERS = (
    DevUser(
        "dana",
        PASSWORD,
        "sub-dana",
        {
            "name": "Dana DPO",
            "email": "dana@dpo.example",
            "email_verified": True,
            "groups": ["ropa-dpo-school", "ropa-dpo-other"],
        },
    ),
    DevUser(
        "rob",
        PASSWORD,
        "sub-rob",
        {"name": "Rob Reader", "email": "rob@school.example", "email_verified": True, "groups": []},
    ),
    DevUser(
        "una",
        PASSWORD,
        "sub-una",
        {"name": "Una Unverified", "email": "una@school.example", "email_verified": False},
    ),
    DevUser("ada", PASSWORD, "sub-ada", {"name": "Ada Admin", "roles": ["ropa-admin"]}),
    DevUser("nobody", PASSWORD, "sub-nobody", {"name": "No Body", "email": "n@elsewhere.example"}),
)

MAPPINGS = [
    {"group": "ropa-dpo-school", "role": "dpo", "registers": [REGISTER]},
    {"group": "ropa-dpo-other", "role": "dpo", "registers": ["other-school"]},
    {"email_domain": "school.example", "role": "reader", "registers": [REGISTER]},
    {"claim": "roles", "value": "ropa-admin", "role": "admin"},
]


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevProvider]:
    """The provider, with the registry as its client and the accounts above."""
    reason = missing_reason()
    if reason is not None:
        pytest.fail(f"the sign-in tests need the development OpenID provider: {reason}")
    provider = DevProvider(tmp_path_factory.mktemp("oidc"), CLIENT, USERS)
    provider.start()
    try:
        yield provider
    finally:
        provider.stop()


@pytest.fixture(scope="session")
def signin_settings(
    registry_settings: RegistrySettings, oidc_provider: DevProvider
) -> RegistrySettings:
    """The registry's settings with sign-in through the provider."""
    return registry_settings.model_copy(
        update={
            "oidc_issuer": oidc_provider.issuer,
            "oidc_client_id": CLIENT.client_id,
            "oidc_client_secret": SecretStr(CLIENT.client_secret),
            "oidc_role_mappings": json.dumps(MAPPINGS),
            "public_url": REGISTRY,
            "session_secret": SecretStr(SESSION_SECRET),
        }
    )


@pytest.fixture(scope="module")
async def signin_app(signin_settings: RegistrySettings) -> AsyncIterator[Starlette]:
    """The app with sign-in configured, through its lifespan."""
    application = create_app(signin_settings)
    async with application.router.lifespan_context(application):
        yield application


def browser_for(app: Starlette) -> httpx.AsyncClient:
    """A browser: one cookie jar; the registry in-process, everything else over HTTP."""
    return httpx.AsyncClient(
        mounts={REGISTRY: httpx.ASGITransport(app=app)}, base_url=REGISTRY, timeout=10
    )


@pytest.fixture
async def browser(signin_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """A fresh browser on the sign-in app."""
    async with browser_for(signin_app) as client:
        yield client


_ACTION = re.compile(r'<form method="post" action="([^"]+)"')


@dataclass
class Flow:
    """What a sign-in went through: the authorization request, and the callback's answer."""

    authorize_url: str
    callback: httpx.Response


Edit = Callable[[str], str]


async def sign_in(
    browser: httpx.AsyncClient,
    login: str,
    password: str = PASSWORD,
    *,
    start: str = "/auth/login",
    edit_authorize: Edit | None = None,
    edit_callback: Edit | None = None,
) -> Flow:
    """Sign in as a person would: /auth/login, the provider's login and consent forms, back to
    /auth/callback. `edit_*` change the authorization request or the callback URL on the way."""
    response = await browser.get(start)
    assert response.status_code == 302, response.text
    authorize = response.headers["location"]
    if edit_authorize is not None:
        authorize = edit_authorize(authorize)
    url = authorize
    for _ in range(20):
        if url.startswith(f"{REGISTRY}/auth/callback"):
            if edit_callback is not None:
                url = edit_callback(url)
            return Flow(authorize, await browser.get(url))
        response = await browser.get(url)
        if response.is_redirect:
            url = urljoin(str(response.url), response.headers["location"])
            continue
        assert response.status_code == 200, response.text
        action = _ACTION.search(response.text)
        assert action is not None, response.text
        target = urljoin(str(response.url), action.group(1))
        form = {"login": login, "password": password} if "password" in response.text else {}
        response = await browser.post(target, data=form)
        assert response.is_redirect, response.text
        url = urljoin(str(response.url), response.headers["location"])
    raise AssertionError("the sign-in did not come back to /auth/callback")


def session_cookie(browser: httpx.AsyncClient) -> str | None:
    """The registry's session cookie in the browser's jar."""
    for cookie in browser.cookies.jar:
        if cookie.name == "ropa_session":
            return cookie.value
    return None
