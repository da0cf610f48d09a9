"""The registry's settings for hostile input: operation and request limits, production defaults,
trusted proxies, security headers. Part of RegistrySettings (which inherits them), read from
the same ROPA_* environment; kept apart so that the list of limits reads as one.
"""

from __future__ import annotations

import ipaddress

from limits import RateLimitItem, parse_many
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from schema.graphql.limits import OperationLimits

DEFAULT_LIMITS = OperationLimits()
MIB = 1024 * 1024
# Scripts only from the registry's own files (the console's pages carry none inline); styles
# may be set inline by GraphiQL's components; nothing may frame the pages.
DEFAULT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "worker-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class LimitSettings(BaseSettings):
    """ROPA_INTROSPECTION, ROPA_EXPLORER, ROPA_MAX_*, ROPA_RATE_LIMIT, ROPA_TRUSTED_PROXIES ..."""

    model_config = SettingsConfigDict(env_prefix="ROPA_", extra="ignore")

    introspection: bool | None = Field(
        default=None,
        description="Schema introspection and 'did you mean' suggestions; unset: on only in "
        "development",
    )
    explorer: bool | None = Field(
        default=None, description="The GraphiQL explorer page; unset: on only in development"
    )
    max_tokens: int = Field(default=DEFAULT_LIMITS.max_tokens, ge=1, description="Per document")
    max_depth: int = Field(default=DEFAULT_LIMITS.max_depth, ge=1, description="Nested fields")
    max_aliases: int = Field(default=DEFAULT_LIMITS.max_aliases, ge=0, description="Aliases")
    max_directives: int = Field(default=DEFAULT_LIMITS.max_directives, ge=0)
    max_duplicates: int = Field(
        default=DEFAULT_LIMITS.max_duplicates, ge=0, description="Fields selected twice"
    )
    max_cost: int = Field(
        default=DEFAULT_LIMITS.max_cost, ge=1, description="Estimated values in a result"
    )
    max_result_values: int = Field(
        default=DEFAULT_LIMITS.max_result_values, ge=1, description="Actual values in a result"
    )
    max_body_bytes: int = Field(default=MIB, ge=1, description="Largest request body (else 413)")
    rate_limit: str = Field(
        default="50/second;600/minute",
        description="Requests per principal (a token's or person's, else the client address), "
        "in `limits` notation ('N/second;M/minute'); empty: no limit",
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or networks whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed; empty: none",
    )
    websockets_per_address: int = Field(
        default=20, ge=1, description="Open WebSockets one client address may hold"
    )
    content_security_policy: str = Field(
        default=DEFAULT_CSP, description="The Content-Security-Policy of every HTML page"
    )
    hsts_max_age: int = Field(
        default=31_536_000,
        ge=0,
        description="Strict-Transport-Security max-age on responses served over TLS; 0: none",
    )

    @field_validator("rate_limit")
    @classmethod
    def _rate_limit_parses(cls, value: str) -> str:
        if value.strip():
            parse_many(value)  # ValueError, with the library's words, for what it cannot read
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_parse(cls, value: str) -> str:
        _networks(value)
        return value

    @property
    def rate_limits(self) -> list[RateLimitItem]:
        """The parsed rate limits (none when ROPA_RATE_LIMIT is empty)."""
        return parse_many(self.rate_limit) if self.rate_limit.strip() else []

    @property
    def proxy_networks(self) -> tuple[Network, ...]:
        """The trusted proxies' networks."""
        return _networks(self.trusted_proxies)

    @property
    def operation_limits(self) -> OperationLimits:
        """The limits every GraphQL operation is held to."""
        return OperationLimits(
            max_tokens=self.max_tokens,
            max_depth=self.max_depth,
            max_aliases=self.max_aliases,
            max_directives=self.max_directives,
            max_duplicates=self.max_duplicates,
            max_cost=self.max_cost,
            max_result_values=self.max_result_values,
        )


def _networks(value: str) -> tuple[Network, ...]:
    parts = (part.strip() for part in value.split(","))
    return tuple(ipaddress.ip_network(part, strict=False) for part in parts if part)
