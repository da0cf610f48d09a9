"""`ropa dev`: Neo4j, migrations, the example and the services, in the foreground."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import click
import httpx

from graph import from_document, migrate, register
from graph.database import open_database
from graph.neo4j_server import LocalNeo4j, LocalNeo4jError, default_cache_dir
from graph.settings import Neo4jSettings
from schema.access.principal import Role
from schema.access.tokens import hash_token
from schema.errors import DatabaseUnavailable, DocumentInvalid
from schema.validation import load_document
from services.cli.settings import CliSettings

# Services are started as `ropa serve NAME` child processes once their package exists.
_SERVICES = {"registry": "services.registry", "notifier": "services.notifier"}


def _say(message: str) -> None:
    click.echo(f"[ropa dev] {message}", err=True)


class _Stop(Exception):
    pass


def _on_signal(signum: int, frame: FrameType | None) -> None:
    raise _Stop(signal.Signals(signum).name)


@dataclass
class _Child:
    name: str
    url: str
    process: subprocess.Popen[bytes]


async def _prepare(settings: Neo4jSettings, example: Path | None, actor: str) -> None:
    async with open_database(settings) as db:
        await db.ping()
        applied = await migrate.migrate(db, report=_say)
        _say(f"migrations: {len(applied)} applied" if applied else "migrations: up to date")
        if example is None:
            return
        doc = load_document(example)
        plan = await register.apply(
            db, doc.register_info.id, from_document.entities(doc), actor, progress=_say
        )
        _say(
            f"example {example}: "
            + (f"{len(plan.changes)} changes applied" if not plan.empty else "already loaded")
        )


def run_dev(settings: CliSettings, example: Path | None, fresh: bool) -> int:
    """Run until Ctrl-C or SIGTERM; stop everything started here. Returns the exit code."""
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    started = time.monotonic()
    server: LocalNeo4j | None = None
    children: list[_Child] = []
    try:
        if settings.neo4j_uri:
            neo4j = settings.neo4j()
            _say(f"using the Neo4j at NEO4J_URI={neo4j.uri}; starting none")
        else:
            server = LocalNeo4j(
                home=default_cache_dir() / "dev-neo4j",
                port=settings.neo4j_port,
                password=settings.neo4j_password.get_secret_value() or None,
            )
            if fresh:
                server.wipe()
            password = server.start()
            neo4j = settings.neo4j(uri=server.uri, password=password)
        asyncio.run(_prepare(neo4j, example, "ropa dev"))
        # The development admin token: ROPA_DEV_TOKEN, else a new one each run.
        token = os.environ.get("ROPA_DEV_TOKEN") or secrets.token_urlsafe(32)
        _say(f"database loaded {time.monotonic() - started:.1f} s after start")
        env = {
            **os.environ,
            "NEO4J_URI": neo4j.uri,
            "NEO4J_USER": neo4j.user,
            "NEO4J_PASSWORD": neo4j.password.get_secret_value(),
            "NEO4J_DATABASE": neo4j.database,
            "ROPA_ENV": os.environ.get("ROPA_ENV", "development"),
            "ROPA_TOKENS": dev_tokens(token, os.environ.get("ROPA_TOKENS")),
        }
        ports = {"registry": settings.ropa_registry_port, "notifier": settings.ropa_notifier_port}
        for name, module in _SERVICES.items():
            if importlib.util.find_spec(module) is None:
                continue
            port = ports[name]
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "services.cli",
                    "serve",
                    name,
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                ],
                env=env,
            )
            children.append(_Child(name, f"http://127.0.0.1:{port}", process))
        for child in children:
            _wait_healthy(child)
        _banner(
            neo4j, server, children, _token_lines(token, children, "ROPA_DEV_TOKEN" in os.environ)
        )
        while True:
            for child in children:
                if child.process.poll() is not None:
                    _say(f"{child.name} exited with code {child.process.returncode}; stopping")
                    return 1
            time.sleep(0.5)
    except _Stop as stop:
        _say(f"{stop.args[0]}: stopping")
        return 0
    except (LocalNeo4jError, DatabaseUnavailable) as exc:
        _say(f"error: {exc}")
        return 1
    except DocumentInvalid as exc:
        for line in exc.render():
            _say(line)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for child in children:
            if child.process.poll() is None:
                child.process.terminate()
        for child in children:
            try:
                child.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.process.kill()
        if server is not None:
            server.stop()
        _say("stopped")


def _wait_healthy(child: _Child, timeout: float = 60.0) -> None:
    """Wait until the child answers /healthz, so the banner's addresses work when printed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.process.poll() is not None:
            return  # the main loop reports the exit
        try:
            if httpx.get(f"{child.url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    _say(f"{child.name} did not answer {child.url}/healthz within {timeout:.0f} s")


def _banner(
    neo4j: Neo4jSettings,
    server: LocalNeo4j | None,
    children: list[_Child],
    extra: list[str] | None = None,
) -> None:
    lines = ["", "ROPA registry development stack is up:"]
    lines.append(f"  Neo4j (Bolt)     {neo4j.uri}  user {neo4j.user}")
    if server is not None:
        lines.append(
            f"  Neo4j password   in {server.home / 'password'}; logs in {server.home / 'logs'}"
        )
    for child in children:
        if child.name == "registry":
            lines.append(f"  GraphQL explorer {child.url}/graphql")
            lines.append(f"  Atom feeds       {child.url}/feeds/subprocessors/<processor>.atom")
        else:
            lines.append(f"  {child.name:<16} {child.url}/healthz")
    if not children:
        lines.append("  (no HTTP services are built yet)")
    lines.extend(extra or [])
    lines.append("Press Ctrl-C to stop everything.")
    click.echo("\n".join(lines), err=True)


DEV_TOKEN_NAME = "dev-admin"


def dev_tokens(token: str, existing: str | None) -> str:
    """ROPA_TOKENS for the registry child: any list already set, and the development token's
    hash with the `admin` role (every register) under the name `dev-admin` (the actor of its
    changes)."""
    digest = hash_token(token)
    entries: list[object] = []
    if existing:
        try:
            parsed = json.loads(existing)
        except ValueError:
            parsed = None
        if isinstance(parsed, list):
            entries = [e for e in parsed if not (isinstance(e, dict) and e.get("sha256") == digest)]
        else:
            _say("ROPA_TOKENS is not a JSON list; only the development token is configured")
    entries.append({"name": DEV_TOKEN_NAME, "role": Role.ADMIN.value, "sha256": digest})
    return json.dumps(entries)


def _token_lines(token: str, children: list[_Child], chosen: bool) -> list[str]:
    registry = next((c for c in children if c.name == "registry"), None)
    if registry is None:
        return []
    where = "from ROPA_DEV_TOKEN" if chosen else "generated; set ROPA_DEV_TOKEN to keep one"
    query = json.dumps({"query": "{ webhooks { id url status } }"})
    return [
        f"  admin token      {token}",
        f"                   ({DEV_TOKEN_NAME}, {where}); reads and mutations need it:",
        f"    curl -s {registry.url}/graphql -H 'Authorization: Bearer {token}' \\",
        f"      -H 'Content-Type: application/json' -d '{query}'",
        '    in the explorer, Headers: {"Authorization": "Bearer <the token>"}',
    ]
