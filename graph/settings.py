"""How to reach Neo4j: NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD, NEO4J_DATABASE."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Neo4jSettings(BaseSettings):
    """Connection settings read from the environment; each service's settings extend these."""

    model_config = SettingsConfigDict(env_prefix="NEO4J_", extra="ignore")

    uri: str = Field(default="bolt://127.0.0.1:7687", description="Bolt or neo4j:// routing URI")
    user: str = "neo4j"
    password: SecretStr = SecretStr("")
    database: str = "neo4j"
    connection_timeout: float = Field(default=5.0, gt=0, description="Seconds to connect")
    max_transaction_retry_time: float = Field(default=10.0, ge=0)

    def environment(self) -> dict[str, str]:
        """These settings as the NEO4J_* variables a child process (`ropa ...`) reads."""
        return {
            "NEO4J_URI": self.uri,
            "NEO4J_USER": self.user,
            "NEO4J_PASSWORD": self.password.get_secret_value(),
            "NEO4J_DATABASE": self.database,
        }
