"""The notifier's settings: NEO4J_* to reach the graph, ROPA_WEBHOOK_* and ROPA_NOTIFIER_*."""

from __future__ import annotations

from typing import Annotated

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from graph.settings import Neo4jSettings
from schema.webhook_url import TargetPolicy

# Standard Webhooks' schedule: after the first attempt, retry in 5 s, 5 min, 30 min, 2 h, 5 h,
# 10 h and 10 h; past the last one the endpoint is marked failed.
DEFAULT_RETRY_SCHEDULE = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)


def _env(name: str) -> AliasChoices:
    # Field names work too (populate_by_name), so tests can build settings directly.
    return AliasChoices(name, name.lower())


class NotifierSettings(Neo4jSettings):
    """Everything the notifier reads from the environment; built by the app factory."""

    model_config = SettingsConfigDict(env_prefix="NEO4J_", extra="ignore", populate_by_name=True)

    retry_schedule: Annotated[tuple[float, ...], NoDecode] = Field(
        default=DEFAULT_RETRY_SCHEDULE,
        validation_alias=_env("ROPA_WEBHOOK_RETRY_SCHEDULE"),
        description="Seconds to wait before each retry, comma-separated",
    )
    timeout: float = Field(
        default=15.0, gt=0, validation_alias=_env("ROPA_WEBHOOK_TIMEOUT"), description="Seconds"
    )
    allow_loopback: bool = Field(
        default=False, validation_alias=_env("ROPA_WEBHOOK_ALLOW_LOOPBACK")
    )
    allow_private: bool = Field(default=False, validation_alias=_env("ROPA_WEBHOOK_ALLOW_PRIVATE"))
    allow_link_local: bool = Field(
        default=False, validation_alias=_env("ROPA_WEBHOOK_ALLOW_LINK_LOCAL")
    )
    max_retry_after: float = Field(
        default=86400.0,
        ge=0,
        validation_alias=_env("ROPA_WEBHOOK_MAX_RETRY_AFTER"),
        description="Longest Retry-After honoured, in seconds",
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
    def policy(self) -> TargetPolicy:
        """Which non-public webhook targets are allowed."""
        return TargetPolicy(
            allow_loopback=self.allow_loopback,
            allow_private=self.allow_private,
            allow_link_local=self.allow_link_local,
        )
