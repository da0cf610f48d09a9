"""Sign-in settings that cannot be used stop the start, naming the variable and the reason;
the mapping from claims to a role and registers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import SecretStr

from schema.access.principal import Role
from services.registry.app import create_app
from services.registry.settings import RegistrySettings
from services.registry.signin.config import sign_in_config
from services.registry.signin.mapping import SignInConfigInvalid, grant_for, parse_mappings

GOOD: dict[str, Any] = {
    "oidc_issuer": "https://login.microsoftonline.com/tenant-id/v2.0",
    "oidc_client_id": "ropa",
    "oidc_client_secret": SecretStr("secret"),
    "oidc_role_mappings": json.dumps([{"group": "g", "role": "dpo", "registers": ["school"]}]),
    "public_url": "https://ropa.example.org/",
    "session_secret": SecretStr("x" * 32),
}


def settings(**changes: Any) -> RegistrySettings:
    return RegistrySettings(**{**GOOD, **changes})


def test_off_unless_configured() -> None:
    assert sign_in_config(RegistrySettings()) is None


def test_a_good_configuration() -> None:
    config = sign_in_config(settings())
    assert config is not None
    assert config.redirect_uri == "https://ropa.example.org/auth/callback"
    assert config.metadata_url == (
        "https://login.microsoftonline.com/tenant-id/v2.0/.well-known/openid-configuration"
    )
    assert config.secure_cookies
    assert config.origin == "https://ropa.example.org"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"oidc_issuer": "login.example.org"}, r"ROPA_OIDC_ISSUER: must be an https:// URL"),
        ({"oidc_issuer": "http://idp.example.org"}, r"ROPA_OIDC_ISSUER: must use https://"),
        ({"public_url": "ftp://ropa.example.org"}, r"ROPA_PUBLIC_URL: must be an https:// URL"),
        ({"oidc_role_mappings": "[{"}, r"ROPA_OIDC_ROLE_MAPPINGS: not JSON"),
        ({"oidc_role_mappings": "[]"}, r"ROPA_OIDC_ROLE_MAPPINGS: expected a non-empty JSON list"),
        (
            {"oidc_role_mappings": '[{"group": "g", "role": "boss", "registers": ["a"]}]'},
            r"\[0\]\.role: unknown role \"boss\"; use one of reader, dpo, admin",
        ),
        (
            {"oidc_role_mappings": '[{"group": "g", "role": "dpo"}]'},
            r"\[0\]\.registers: a dpo rule must name the registers",
        ),
        (
            {"oidc_role_mappings": '[{"group": "g", "role": "reader", "registers": []}]'},
            r"\[0\]\.registers: a reader rule must name",
        ),
        (
            {"oidc_role_mappings": '[{"group": "g", "role": "admin", "registers": ["a"]}]'},
            r"\[0\]\.registers: the admin role holds every register",
        ),
        (
            {"oidc_role_mappings": '[{"role": "admin"}]'},
            r"\[0\]: give exactly one of group, email_domain, claim",
        ),
        (
            {"oidc_role_mappings": '[{"claim": "hd", "role": "admin"}]'},
            r"\[0\]\.value: a claim rule needs a string value",
        ),
        (
            {"oidc_role_mappings": '[{"group": "g", "role": "dpo", "registers": ["Bad Id"]}]'},
            r"'Bad Id' is not a register id",
        ),
        ({"session_secret": SecretStr("short")}, r"ROPA_SESSION_SECRET: must be at least 32"),
        (
            {"session_secret": None},
            r"^ROPA_SESSION_SECRET: not set; sign-in \(ROPA_OIDC_ISSUER or ROPA_OIDC_CLIENT_ID "
            r"is set\) needs it$",
        ),
        ({"oidc_scopes": "email profile"}, r"ROPA_OIDC_SCOPES: must include 'openid'"),
    ],
)
def test_an_unusable_setting_stops_the_start(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(SignInConfigInvalid, match=message):
        create_app(settings(**changes))


def test_loopback_may_use_plain_http() -> None:
    config = sign_in_config(
        settings(oidc_issuer="http://127.0.0.1:9999", public_url="http://localhost:8000")
    )
    assert config is not None
    assert not config.secure_cookies


RULES = parse_mappings(
    json.dumps(
        [
            {"group": "dpo-a", "role": "dpo", "registers": ["a"]},
            {"group": "dpo-b", "role": "dpo", "registers": ["b"]},
            {"email_domain": "School.Example", "role": "reader", "registers": ["a", "c"]},
            {"claim": "hd", "value": "trust.example", "role": "reader", "registers": ["t"]},
            {"claim": "roles", "value": "ropa.admin", "role": "admin"},
        ]
    ),
    "test",
)


@pytest.mark.parametrize(
    ("claims", "role", "registers"),
    [
        ({"groups": ["dpo-a", "dpo-b"]}, Role.DPO, {"a", "b"}),
        # The higher role wins; the reader rule's registers are not added to it.
        ({"groups": ["dpo-a"], "email": "x@school.example"}, Role.DPO, {"a"}),
        ({"email": "X@SCHOOL.EXAMPLE"}, Role.READER, {"a", "c"}),
        ({"hd": "trust.example"}, Role.READER, {"t"}),
        ({"roles": ["ropa.admin"], "groups": ["dpo-a"]}, Role.ADMIN, None),
    ],
)
def test_grant_for(claims: dict[str, Any], role: Role, registers: set[str] | None) -> None:
    grant = grant_for(RULES, claims)
    assert grant is not None
    assert grant.role is role
    assert grant.registers == (None if registers is None else frozenset(registers))


@pytest.mark.parametrize(
    "claims",
    [
        {},
        {"email": "x@sub.school.example"},
        {"email": "x@school.example", "email_verified": False},
        {"groups": "dpo-a-not-a-list-member"},
        {"hd": ["other.example"]},
    ],
)
def test_no_rule_no_grant(claims: dict[str, Any]) -> None:
    assert grant_for(RULES, claims) is None
