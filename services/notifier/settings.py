"""The notifier's settings: NEO4J_* (nested) for the graph, ROPA_WEBHOOK_* and ROPA_NOTIFIER_*."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from graph.secret_box import SecretBox
from graph.settings import Neo4jSettings
from graph.webhook_targets import WebhookTargetSettings
from schema.webhook_url import TargetPolicy

# Standard Webhooks' schedule: after the first attempt, retry in 5 s, 5 min, 30 min, 2 h, 5 h,
# 10 h and 10 h; past the last one the endpoint is marked failed.
DEFAULT_RETRY_SCHEDULE = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)


def _env(name: str) -> AliasChoices:
    # Field names work too (populate_by_name), so tests can build settings directly.
    return AliasChoices(name, name.lower())


class NotifierSettings(BaseSettings):
    """Everything the notifier reads from the environment; built by the app factory."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    # NEO4J_*, read by the one class every service reads them with.
    neo4j: Neo4jSettings = Field(default_factory=Neo4jSettings)

    retry_schedule: Annotated[tuple[float, ...], NoDecode] = Field(
        default=DEFAULT_RETRY_SCHEDULE,
        validation_alias=_env("ROPA_WEBHOOK_RETRY_SCHEDULE"),
        description="Seconds to wait before each retry, comma-separated",
    )
    timeout: float = Field(
        default=15.0, gt=0, validation_alias=_env("ROPA_WEBHOOK_TIMEOUT"), description="Seconds"
    )
    # ROPA_WEBHOOK_ALLOW_*, read where the registry reads them too.
    webhook_targets: WebhookTargetSettings = Field(default_factory=WebhookTargetSettings)
    max_retry_after: float = Field(
        default=86400.0,
        ge=0,
        validation_alias=_env("ROPA_WEBHOOK_MAX_RETRY_AFTER"),
        description="Longest Retry-After honoured, in seconds",
    )
    readiness_timeout: float = Field(
        default=3.0,
        gt=0,
        validation_alias=_env("ROPA_READINESS_TIMEOUT"),
        description="Seconds /readyz waits for Neo4j before answering 503",
    )
    poll_interval: float = Field(
        default=0.5,
        gt=0,
        validation_alias=_env("ROPA_NOTIFIER_POLL_INTERVAL"),
        description="Seconds between looks for new changes",
    )
    batch_size: int = Field(
        default=100,
        ge=1,
        le=1000,
        validation_alias=_env("ROPA_NOTIFIER_BATCH_SIZE"),
        description="Changes read at once for one endpoint",
    )
    checkpoint_every: int = Field(
        default=20,
        ge=1,
        validation_alias=_env("ROPA_NOTIFIER_CHECKPOINT_EVERY"),
        description="Deliveries between saves of an endpoint's cursor (at most this many "
        "are sent again after a crash)",
    )
    checkpoint_interval: float = Field(
        default=1.0,
        gt=0,
        validation_alias=_env("ROPA_NOTIFIER_CHECKPOINT_INTERVAL"),
        description="Seconds between saves of an endpoint's cursor, at most",
    )
    concurrency: int = Field(
        default=32,
        ge=1,
        validation_alias=_env("ROPA_NOTIFIER_CONCURRENCY"),
        description="Endpoints delivered to at the same time",
    )

    activation_interval: float = Field(
        default=60.0,
        gt=0,
        validation_alias=_env("ROPA_NOTIFIER_ACTIVATION_INTERVAL"),
        description="Seconds between looks for announced engagements whose day has come",
    )

    smtp_host: str | None = Field(
        default=None,
        validation_alias=_env("ROPA_SMTP_HOST"),
        description="The SMTP relay e-mail notices go through; unset: no e-mail is sent",
    )
    smtp_port: int = Field(default=587, ge=1, le=65535, validation_alias=_env("ROPA_SMTP_PORT"))
    smtp_user: str | None = Field(default=None, validation_alias=_env("ROPA_SMTP_USER"))
    smtp_password: SecretStr | None = Field(
        default=None, validation_alias=_env("ROPA_SMTP_PASSWORD")
    )
    smtp_starttls: bool = Field(
        default=True,
        validation_alias=_env("ROPA_SMTP_STARTTLS"),
        description="Upgrade the SMTP connection with STARTTLS (off only for a local sink)",
    )
    smtp_timeout: float = Field(default=30.0, gt=0, validation_alias=_env("ROPA_SMTP_TIMEOUT"))
    mail_from: str = Field(
        default="ROPA registry <notices@localhost>",
        validation_alias=_env("ROPA_MAIL_FROM"),
        description="The From of every notice",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        validation_alias=_env("ROPA_PUBLIC_URL"),
        description="The registry's public address, for the links in e-mails",
    )
    env: Literal["development", "test", "production"] = Field(
        default="production", validation_alias=_env("ROPA_ENV")
    )
    secret_key: SecretStr | None = Field(
        default=None,
        validation_alias=_env("ROPA_SECRET_KEY"),
        description="The registry's ROPA_SECRET_KEY: signs the links in e-mails, and webhook "
        "secrets are stored encrypted with a key derived from it; required in production",
    )
    secret_key_previous: SecretStr | None = Field(
        default=None,
        validation_alias=_env("ROPA_SECRET_KEY_PREVIOUS"),
        description="Earlier ROPA_SECRET_KEY values, comma-separated, that still open webhook "
        "secrets until `ropa secrets rotate` has re-sealed them (e-mail links are signed with "
        "the current key only)",
    )
    confirmation_hours: float = Field(
        default=48.0,
        gt=0,
        validation_alias=_env("ROPA_CONFIRMATION_HOURS"),
        description="Hours a confirmation link is valid (the registry's setting)",
    )
    mail_interval: float = Field(
        default=1.0,
        gt=0,
        validation_alias=_env("ROPA_MAIL_POLL_INTERVAL"),
        description="Seconds between looks for mail to queue and send",
    )
    mail_retry: float = Field(
        default=60.0,
        ge=0,
        validation_alias=_env("ROPA_MAIL_RETRY"),
        description="Seconds before a message the relay refused is tried again",
    )

    watch_interval: float = Field(
        default=3600.0,
        gt=0,
        validation_alias=_env("ROPA_WATCH_INTERVAL"),
        description="Seconds between fetches of each watched sub-processor list",
    )

    def secret_box(self) -> SecretBox:
        """What opens the stored webhook secrets; SecretKeyInvalid if ROPA_SECRET_KEY cannot
        be used, or is unset in production."""
        return SecretBox.from_setting(
            self.secret_key, required=self.env == "production", previous=self.secret_key_previous
        )

    @field_validator("retry_schedule", mode="before")
    @classmethod
    def _split_schedule(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(float(part) for part in value.split(",") if part.strip())
        return value

    @model_validator(mode="after")
    def _check_schedule(self) -> NotifierSettings:
        if any(delay < 0 for delay in self.retry_schedule):
            raise ValueError("retry_schedule: delays must not be negative")
        return self

    @property
    def mail_enabled(self) -> bool:
        """Whether e-mail is sent: a relay and the link key are both configured."""
        return self.smtp_host is not None and self.secret_key is not None

    @property
    def policy(self) -> TargetPolicy:
        """Which non-public webhook targets are allowed."""
        return self.webhook_targets.policy
