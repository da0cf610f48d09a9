"""Settings of the `ropa` command, from the environment."""

from __future__ import annotations

import getpass

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from graph.settings import Neo4jSettings


def _default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "ropa-cli"


class CliSettings(BaseSettings):
    """NEO4J_* for the database; NEO4J_URI unset means `ropa dev` starts a local server."""

    model_config = SettingsConfigDict(extra="ignore")

    neo4j_uri: str | None = None
    neo4j_user: str = "neo4j"
    neo4j_password: SecretStr = SecretStr("")
    neo4j_database: str = "neo4j"
    neo4j_port: int = Field(default=7687, description="Bolt port of the local dev server")
    ropa_actor: str = Field(default_factory=_default_actor)
    ropa_registry_port: int = 8000
    ropa_notifier_port: int = 8001

    @property
    def actor(self) -> str:
        """Who the change events name as the author."""
        return self.ropa_actor

    def neo4j(self, uri: str | None = None, password: str | None = None) -> Neo4jSettings:
        """Connection settings, optionally for a server `ropa dev` started itself."""
        return Neo4jSettings(
            uri=uri or self.neo4j_uri or "bolt://127.0.0.1:7687",
            user=self.neo4j_user,
            password=SecretStr(password) if password is not None else self.neo4j_password,
            database=self.neo4j_database,
        )
