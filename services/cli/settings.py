"""Settings of the `ropa` command, from the environment."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from graph.neo4j_server import default_cache_dir
from graph.settings import Neo4jSettings

DEFAULT_BOLT_PORT = 7687


def _default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "ropa-cli"


def dev_neo4j_home() -> Path:
    """The folder of the development stack's Neo4j (`make run`): data, password, port."""
    return default_cache_dir() / "dev-neo4j"


def dev_secret_key_path() -> Path:
    """Where the development stack keeps its ROPA_SECRET_KEY (`make run` makes it)."""
    return default_cache_dir() / "dev-secret-key"


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


class CliSettings(BaseSettings):
    """NEO4J_* for the database. With NEO4J_URI unset, the development stack's Neo4j: `ropa dev`
    starts it, and the other commands find it by the port and password `ropa dev` keeps in
    its folder (NEO4J_PORT and NEO4J_PASSWORD, when set, win)."""

    model_config = SettingsConfigDict(extra="ignore")

    # NEO4J_URI, _USER, _PASSWORD, _DATABASE, read by the one class every service reads them with.
    database: Neo4jSettings = Field(default_factory=Neo4jSettings)
    neo4j_port: int | None = Field(default=None, description="Bolt port of the local dev server")
    ropa_actor: str = Field(default_factory=_default_actor)
    ropa_secret_key: SecretStr | None = Field(
        default=None,
        description="The services' ROPA_SECRET_KEY (webhook secrets are sealed "
        "with a key derived from it)",
    )
    ropa_secret_key_previous: SecretStr | None = Field(
        default=None, description="Earlier ROPA_SECRET_KEY values, comma-separated"
    )
    ropa_registry_port: int = 8000
    ropa_notifier_port: int = 8001
    # `ropa serve`: uvicorn pings each WebSocket client this often and closes one that does not
    # answer within the timeout (seconds). Each ping and pong costs about what a delivery does,
    # on every socket; the interval must stay below the idle timeout of the proxies in front
    # (often 60 s). See docs/subscriptions.md#keepalive-pings.
    ropa_ws_ping_interval: float = Field(default=30.0, gt=0)
    ropa_ws_ping_timeout: float = Field(default=20.0, gt=0)
    # `ropa serve --workers N`: seconds a worker may take to answer uvicorn's health check
    # before it is killed and replaced. The answer comes from a thread that needs the GIL, so a
    # worker holding thousands of subscribers can miss uvicorn's 5 s during one full garbage
    # collection or fan-out on a busy machine, and lose every subscriber with it.
    ropa_worker_healthcheck_timeout: int = Field(default=30, gt=0)
    # `ropa serve`: the memory allocator (services/cli/allocator.py says why jemalloc): "auto" uses
    # jemalloc when it is installed, "jemalloc" requires it, "python" keeps CPython's own.
    ropa_allocator: Literal["auto", "jemalloc", "python"] = "auto"

    @property
    def neo4j_uri(self) -> str | None:
        """NEO4J_URI if it is set: else the development stack's Neo4j is meant."""
        return self.database.uri if "uri" in self.database.model_fields_set else None

    @property
    def neo4j_password(self) -> SecretStr | None:
        """NEO4J_PASSWORD if it is set: else the development stack's password file."""
        return self.database.password if "password" in self.database.model_fields_set else None

    @property
    def actor(self) -> str:
        """Who the change events name as the author."""
        return self.ropa_actor

    def secret_key(self) -> SecretStr | None:
        """ROPA_SECRET_KEY; with it and NEO4J_URI unset, the development stack's key."""
        if self.ropa_secret_key is not None or self.neo4j_uri:
            return self.ropa_secret_key
        found = _read(dev_secret_key_path())
        return SecretStr(found) if found else None

    @property
    def dev_port(self) -> int:
        """The Bolt port `ropa dev` starts its Neo4j on."""
        return self.neo4j_port or DEFAULT_BOLT_PORT

    def neo4j(self, uri: str | None = None, password: str | None = None) -> Neo4jSettings:
        """Connection settings: NEO4J_URI's server, the development stack's, or (with `uri`) a
        server `ropa dev` started itself."""
        if password is not None:
            secret = SecretStr(password)
        elif self.neo4j_password is not None:
            secret = self.neo4j_password
        elif uri is None and not self.neo4j_uri:
            secret = SecretStr(_read(dev_neo4j_home() / "password") or "")
        else:
            secret = SecretStr("")
        return self.database.model_copy(
            update={
                "uri": uri or self.neo4j_uri or f"bolt://127.0.0.1:{self._dev_stack_port()}",
                "password": secret,
            }
        )

    def _dev_stack_port(self) -> int:
        if self.neo4j_port is not None:
            return self.neo4j_port
        recorded = _read(dev_neo4j_home() / "port")
        return int(recorded) if recorded and recorded.isdigit() else DEFAULT_BOLT_PORT

    def where(self) -> str:
        """Which Neo4j the commands reach, and how they chose it, for error messages."""
        if self.neo4j_uri:
            return f"NEO4J_URI={self.neo4j_uri}"
        uri = self.neo4j().uri
        source = (
            "NEO4J_PASSWORD" if self.neo4j_password is not None else "the stack's password file"
        )
        return (
            f"{uri}, the development stack's Neo4j (NEO4J_URI is unset; password from {source} "
            f"in {dev_neo4j_home()}); start it with `make run`, or set NEO4J_URI"
        )
