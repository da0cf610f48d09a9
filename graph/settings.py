"""How to reach Neo4j: NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD, NEO4J_DATABASE."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field, SecretStr, ValidationError
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


def _settings_classes(root: type[BaseSettings] = BaseSettings) -> Iterator[type[BaseSettings]]:
    for cls in root.__subclasses__():
        yield cls
        yield from _settings_classes(cls)


def setting_problems(exc: ValidationError) -> list[str] | None:
    """Each problem of settings read from the environment, as `VARIABLE='value': reason`; None
    when the error is not about a settings class."""
    cls = next((c for c in _settings_classes() if c.__name__ == exc.title), None)
    if cls is None:
        return None
    prefix = str(cls.model_config.get("env_prefix", ""))
    problems = []
    for error in exc.errors(include_url=False):
        name = (prefix + ".".join(str(part) for part in error["loc"])).upper()
        field = cls.model_fields.get(str(error["loc"][0])) if error["loc"] else None
        secret = field is not None and "SecretStr" in str(field.annotation)
        # A secret's value (or what may be one) is never repeated back.
        hidden = secret or any(word in name for word in ("PASSWORD", "SECRET", "TOKEN", "KEY"))
        shown = "" if hidden else f"={error.get('input')!r}"
        problems.append(f"{name}{shown}: {error['msg']}")
    return problems
