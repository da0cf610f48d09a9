"""The provider is discovered at the first sign-in: the registry starts without it, and says
which provider it could not use and why."""

from __future__ import annotations

import html
from urllib.parse import urlsplit

import httpx
import pytest

from graph.neo4j_server import free_port
from services.cli.oidc_provider import DevProvider
from services.registry.app import create_app
from services.registry.settings import RegistrySettings
from tests.support.registry_server import serve_registry_to_exit


async def login_page(settings: RegistrySettings) -> httpx.Response:
    app = create_app(settings)  # no lifespan: signing in needs no database
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        return await client.get("/auth/login")


async def test_an_unreachable_provider_is_named(signin_settings: RegistrySettings) -> None:
    issuer = f"http://127.0.0.1:{free_port()}"
    response = await login_page(signin_settings.model_copy(update={"oidc_issuer": issuer}))
    assert response.status_code == 503
    assert f"The OpenID provider at {issuer} could not be reached" in response.text


async def test_an_issuer_that_is_not_the_providers_is_refused(
    signin_settings: RegistrySettings, oidc_provider: DevProvider
) -> None:
    port = urlsplit(oidc_provider.issuer).port
    configured = f"http://localhost:{port}"
    response = await login_page(signin_settings.model_copy(update={"oidc_issuer": configured}))
    assert response.status_code == 502
    text = html.unescape(response.text)
    assert f"names the issuer '{oidc_provider.issuer}', not '{configured}'" in text


@pytest.mark.parametrize("path", ["/auth/login", "/auth/callback?code=x&state=y", "/auth/logout"])
async def test_without_sign_in_configured(registry_settings: RegistrySettings, path: str) -> None:
    app = create_app(registry_settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        response = await client.get(path)
        assert response.status_code == 404
        assert "sign-in is not configured" in response.json()["error"]
        me = await client.get("/auth/me")
        assert me.json() == {"signedIn": False, "signInAvailable": False}


def test_a_bad_setting_stops_ropa_serve_in_one_line() -> None:
    done = serve_registry_to_exit(
        {"ROPA_OIDC_ISSUER": "login.example.org", "ROPA_OIDC_CLIENT_ID": "ropa"}
    )
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.startswith("ropa")]
    assert lines == [
        "ropa serve registry: ROPA_OIDC_ROLE_MAPPINGS, ROPA_PUBLIC_URL, ROPA_SESSION_SECRET: "
        "not set; sign-in (ROPA_OIDC_ISSUER or ROPA_OIDC_CLIENT_ID is set) needs them"
    ], done.stderr
    assert "Traceback" not in done.stderr
