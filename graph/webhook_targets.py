"""Where webhooks may go, as deployed: the ROPA_WEBHOOK_ALLOW_* settings, read once here for the
registry (which refuses to register what the notifier would not call) and the notifier (which
checks again at delivery), and the system resolver both check addresses with."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterable

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from schema.webhook_url import TargetPolicy


class WebhookTargetSettings(BaseSettings):
    """ROPA_WEBHOOK_ALLOW_LOOPBACK, _PRIVATE and _LINK_LOCAL: all off in production."""

    model_config = SettingsConfigDict(env_prefix="ROPA_WEBHOOK_", extra="ignore", frozen=True)

    allow_loopback: bool = Field(default=False, description="Allow loopback targets")
    allow_private: bool = Field(default=False, description="Allow private-network targets")
    allow_link_local: bool = Field(default=False, description="Allow link-local targets")

    @property
    def policy(self) -> TargetPolicy:
        """Which non-public addresses a webhook may target."""
        return TargetPolicy(
            allow_loopback=self.allow_loopback,
            allow_private=self.allow_private,
            allow_link_local=self.allow_link_local,
        )


async def system_resolve(host: str, port: int) -> Iterable[str]:
    """The addresses `host` resolves to, by the system resolver, without blocking the loop."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]
