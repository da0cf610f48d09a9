"""`ropa dev`'s sign-in: the development provider with its printed accounts signs people in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from services.cli.oidc_provider import DevSignIn, start_dev_sign_in
from services.registry.app import create_app
from services.registry.settings import RegistrySettings
from tests.services.signin.conftest import REGISTRY, browser_for, sign_in

pytestmark = pytest.mark.neo4j


@pytest.fixture
def dev_sign_in(tmp_path: Path) -> Iterator[DevSignIn]:
    signin = start_dev_sign_in(tmp_path, REGISTRY, ["allestree-woodlands"])
    try:
        yield signin
    finally:
        signin.provider.stop()


async def test_the_printed_accounts_sign_in(
    dev_sign_in: DevSignIn, registry_settings: RegistrySettings
) -> None:
    env = dev_sign_in.env
    settings = registry_settings.model_copy(
        update={
            "oidc_issuer": env["ROPA_OIDC_ISSUER"],
            "oidc_client_id": env["ROPA_OIDC_CLIENT_ID"],
            "oidc_client_secret": SecretStr(env["ROPA_OIDC_CLIENT_SECRET"]),
            "oidc_role_mappings": env["ROPA_OIDC_ROLE_MAPPINGS"],
            "public_url": env["ROPA_PUBLIC_URL"],
            "session_secret": SecretStr(env["ROPA_SESSION_SECRET"]),
        }
    )
    banner = "\n".join(dev_sign_in.banner)
    found = re.search(r"password (\S+)", banner)
    assert found is not None, banner
    assert f"{REGISTRY}/auth/login" in banner
    app = create_app(settings)
    for login, role, registers in (
        ("dpo", "dpo", ["allestree-woodlands"]),
        ("admin", "admin", None),
    ):
        async with browser_for(app) as browser:
            flow = await sign_in(browser, login, found.group(1))
            assert flow.callback.status_code == 303, flow.callback.text
            me = (await browser.get("/auth/me")).json()
            assert (me["role"], me["registers"]) == (role, registers)
