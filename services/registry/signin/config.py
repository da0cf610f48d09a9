"""The sign-in configuration, checked once when the app is made (from the registry settings).

Sign-in is off unless `ROPA_OIDC_ISSUER` or `ROPA_OIDC_CLIENT_ID` is set; then every setting it
needs must be there and usable, or the start stops with SignInConfigInvalid naming the variable
and the reason. Nothing here talks to the provider: discovery happens at the first sign-in.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from pydantic import SecretStr

from services.registry.settings import RegistrySettings
from services.registry.signin.mapping import RoleRule, SignInConfigInvalid, parse_mappings

CALLBACK_PATH = "/auth/callback"
LOGIN_PATH = "/auth/login"
# Signed session cookies are only as strong as their key.
MIN_SECRET_LENGTH = 32


@dataclass(frozen=True)
class SignInConfig:
    """Everything the sign-in routes and the session reader need."""

    issuer: str
    client_id: str
    client_secret: SecretStr | None
    scopes: str
    rules: tuple[RoleRule, ...]
    public_url: str
    session_secret: SecretStr
    session_lifetime: float

    @property
    def redirect_uri(self) -> str:
        """Where the provider sends the browser back (register it with the provider)."""
        return self.public_url + CALLBACK_PATH

    @property
    def metadata_url(self) -> str:
        """The provider's OpenID Connect discovery document."""
        return self.issuer + "/.well-known/openid-configuration"

    @property
    def secure_cookies(self) -> bool:
        """Cookies marked Secure (and __Host- prefixed): whenever the public URL is https."""
        return self.public_url.startswith("https://")

    @property
    def origin(self) -> str:
        """scheme://host[:port] of the public URL, which a browser sends as `Origin`."""
        parts = urlsplit(self.public_url)
        return f"{parts.scheme}://{parts.netloc}"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url(setting: str, value: str, what: str) -> str:
    parts = urlsplit(value.strip())
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise SignInConfigInvalid(setting, f"must be an https:// URL ({what}); got {value!r}")
    if parts.scheme == "http" and not _loopback(host):
        raise SignInConfigInvalid(
            setting, f"must use https:// (plain http:// only on loopback); got {value!r}"
        )
    if parts.query or parts.fragment:
        raise SignInConfigInvalid(setting, f"must not carry a query or fragment; got {value!r}")
    return value.strip().rstrip("/")


def sign_in_config(settings: RegistrySettings) -> SignInConfig | None:
    """The checked sign-in configuration, or None when sign-in is not configured."""
    if not (settings.oidc_issuer or settings.oidc_client_id):
        return None
    missing = [
        name
        for name, value in (
            ("ROPA_OIDC_ISSUER", settings.oidc_issuer),
            ("ROPA_OIDC_CLIENT_ID", settings.oidc_client_id),
            ("ROPA_OIDC_ROLE_MAPPINGS", settings.oidc_role_mappings),
            ("ROPA_PUBLIC_URL", settings.public_url),
            ("ROPA_SESSION_SECRET", settings.session_secret),
        )
        if not value
    ]
    if missing:
        raise SignInConfigInvalid(
            ", ".join(missing),
            "not set; sign-in (ROPA_OIDC_ISSUER or ROPA_OIDC_CLIENT_ID is set) needs "
            + ("it" if len(missing) == 1 else "them"),
        )
    # Narrowed by the check above; mypy cannot follow it through the list.
    issuer = settings.oidc_issuer or ""
    client_id = settings.oidc_client_id or ""
    mappings = settings.oidc_role_mappings or ""
    public_url = settings.public_url or ""
    secret = settings.session_secret or SecretStr("")
    if len(secret.get_secret_value()) < MIN_SECRET_LENGTH:
        raise SignInConfigInvalid(
            "ROPA_SESSION_SECRET",
            f"must be at least {MIN_SECRET_LENGTH} characters (it signs the session cookies); "
            "make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'",
        )
    scopes = settings.oidc_scopes.split()
    if "openid" not in scopes:
        raise SignInConfigInvalid("ROPA_OIDC_SCOPES", f"must include 'openid'; got {scopes}")
    return SignInConfig(
        issuer=_url("ROPA_OIDC_ISSUER", issuer, "the provider's issuer"),
        client_id=client_id,
        client_secret=settings.oidc_client_secret,
        scopes=" ".join(scopes),
        rules=parse_mappings(mappings, "ROPA_OIDC_ROLE_MAPPINGS", settings.oidc_groups_claim),
        public_url=_url("ROPA_PUBLIC_URL", public_url, "where browsers reach the registry"),
        session_secret=secret,
        session_lifetime=settings.session_lifetime,
    )
