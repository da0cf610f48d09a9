"""Settings of the registry, from the environment; built by the app factory, never at import."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from graph.secret_box import SecretBox
from graph.settings import Neo4jSettings
from graph.webhook_targets import WebhookTargetSettings
from schema.access.policy import PublicReads
from schema.webhook_url import TargetPolicy
from services.registry.limits_settings import LimitSettings


class RegistryNeo4jSettings(Neo4jSettings):
    """NEO4J_*, with short timeouts: a request should fail fast while Neo4j is down."""

    connection_timeout: float = Field(default=2.0, gt=0, description="Seconds to connect")
    max_transaction_retry_time: float = Field(
        default=1.0, ge=0, description="Seconds the driver retries a failing transaction"
    )


class RegistrySettings(LimitSettings):
    """ROPA_ENV for the error detail shown to clients, NEO4J_* for the database."""

    model_config = SettingsConfigDict(env_prefix="ROPA_", extra="ignore")

    env: Literal["development", "test", "production"] = Field(
        default="production",
        description="`development` shows unexpected errors to clients; others mask them",
    )
    readiness_timeout: float = Field(
        default=3.0, gt=0, description="Seconds /readyz waits for Neo4j before answering 503"
    )
    neo4j: Neo4jSettings = Field(default_factory=RegistryNeo4jSettings)
    subscriptions_per_connection: int = Field(
        default=20,
        ge=1,
        description="Operations one WebSocket may run at once; one more gets an `error` message",
    )
    connection_init_timeout: float = Field(
        default=10.0,
        gt=0,
        description="Seconds a WebSocket may wait before `connection_init` (then closed 4408)",
    )
    follower_poll_interval: float = Field(
        default=0.1,
        gt=0,
        description="Seconds between the change follower's reads of the log while anyone "
        "subscribes",
    )
    follower_idle_interval: float = Field(
        default=5.0,
        gt=0,
        description="Seconds between its reads while no one subscribes (it catches up when "
        "someone does)",
    )
    response_cache_entries: int = Field(
        default=256,
        ge=0,
        description="ROPA_RESPONSE_CACHE_ENTRIES: answers to repeated queries kept per process "
        "while the change log's head stays where it was (services/registry/response_cache.py); "
        "0 turns the cache off",
    )
    record_cache_entries: int = Field(
        default=32,
        ge=0,
        description="ROPA_RECORD_CACHE_ENTRIES: past records (recordedAt) kept per process once "
        "rebuilt from the change log, by the registers read and the part of the log they cover "
        "(graph/read/record_cache.py); 0 turns the cache off",
    )
    subscriber_queue_size: int = Field(
        default=1000,
        ge=1,
        description="Changes one subscriber may have waiting; past that it is dropped and "
        "told to resume from its last change",
    )
    tokens: str | None = Field(
        default=None,
        description="ROPA_TOKENS: JSON list of bearer tokens by hash, "
        '[{"name": ..., "role": "dpo", "sha256": ..., "registers": [...]}] '
        "(see schema/access/tokens.py)",
    )
    tokens_file: Path | None = Field(
        default=None, description="ROPA_TOKENS_FILE: a file holding the same JSON list"
    )
    public_reads: PublicReads = Field(
        default=PublicReads.SUBPROCESSORS,
        description="ROPA_PUBLIC_READS: what callers without a token may read: "
        "`subprocessors` (processors' published sub-processor lists), `none`, or `all`",
    )
    public_url: str | None = Field(
        default=None,
        description="ROPA_PUBLIC_URL: the registry's address as the public sees it (links in "
        "feeds and pages, and sign-in's /auth/callback under it); unset: the address each request "
        "came to (sign-in needs it set)",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="ROPA_SECRET_KEY: signs the links of subscription e-mails and the "
        "subscribe form, and webhook signing secrets are stored encrypted with a key derived "
        "from it (give the notifier the same); required in production; unset (development "
        "only): no e-mail subscriptions, webhook secrets stored as they are",
    )
    secret_key_previous: SecretStr | None = Field(
        default=None,
        description="ROPA_SECRET_KEY_PREVIOUS: earlier ROPA_SECRET_KEY values, comma-separated, "
        "that still open webhook secrets until `ropa secrets rotate` has re-sealed them, and "
        "still verify the links of e-mails sent before the rotation while they stay listed",
    )
    confirmation_hours: float = Field(
        default=48.0, gt=0, description="Hours a subscription's confirmation link is valid"
    )
    subscribe_per_address: int = Field(
        default=5, ge=1, description="Subscription requests per address per hour"
    )
    subscribe_per_client: int = Field(
        default=30, ge=1, description="Subscription requests per client address per hour"
    )
    # The notifier's ROPA_WEBHOOK_ALLOW_*, read where both read them: registration refuses what
    # delivery would.
    webhook_targets: WebhookTargetSettings = Field(default_factory=WebhookTargetSettings)
    # Sign-in for people (OpenID Connect); off unless ROPA_OIDC_ISSUER or _CLIENT_ID is set.
    # Checked when the app is made (services/registry/signin/config.py).
    oidc_issuer: str | None = Field(default=None, description="The provider's issuer URL")
    oidc_client_id: str | None = Field(default=None, description="The registry's client id")
    oidc_client_secret: SecretStr | None = Field(default=None, description="Its client secret")
    oidc_scopes: str = Field(default="openid email profile", description="Scopes asked for")
    oidc_role_mappings: str | None = Field(
        default=None,
        description="JSON list of rules from claims (group, e-mail domain, claim value) to a "
        "role and registers (see services/registry/signin/mapping.py)",
    )
    oidc_groups_claim: str = Field(default="groups", description="The claim listing groups")
    session_secret: SecretStr | None = Field(
        default=None, description="Key that signs the session cookies (32+ characters)"
    )
    session_lifetime: float = Field(
        default=8 * 3600, gt=0, description="Seconds a sign-in lasts before it must be renewed"
    )

    def secret_box(self) -> SecretBox:
        """What seals webhook secrets; SecretKeyInvalid if ROPA_SECRET_KEY cannot be used, or
        is unset in production."""
        return SecretBox.from_setting(
            self.secret_key, required=self.env == "production", previous=self.secret_key_previous
        )

    @property
    def development(self) -> bool:
        """Whether clients see the details of unexpected errors."""
        return self.env == "development"

    @property
    def introspection_on(self) -> bool:
        """Introspection and suggestions: ROPA_INTROSPECTION, else only in development."""
        return self.development if self.introspection is None else self.introspection

    @property
    def explorer_on(self) -> bool:
        """The GraphiQL page: ROPA_EXPLORER, else only in development."""
        return self.development if self.explorer is None else self.explorer

    @property
    def webhook_policy(self) -> TargetPolicy:
        """Which non-public webhook targets registration accepts."""
        return self.webhook_targets.policy
