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
from typing import TYPE_CHECKING

import click
import httpx

from graph import from_document, maintenance, migrate, register
from graph.database import Database, open_database
from graph.neo4j_server import (
    LocalNeo4j,
    LocalNeo4jError,
    PasswordRefused,
    PortInUse,
    PrerequisiteMissing,
    java_executable,
    port_taken,
)
from graph.secret_box import new_key
from graph.settings import Neo4jSettings
from schema.access.principal import Role
from schema.access.tokens import hash_token
from schema.errors import DatabaseAuthFailed, DatabaseUnavailable, DocumentInvalid
from schema.validation import load_document
from services.cli.exit_codes import Exit
from services.cli.oidc_provider import (
    DevProviderError,
    DevSignIn,
    missing_reason,
    start_dev_sign_in,
)
from services.cli.plan_lines import describe, summary
from services.cli.settings import CliSettings, dev_neo4j_home, dev_secret_key_path

if TYPE_CHECKING:
    from services.cli.mail_sink import MailSink

# Services are started as `ropa serve NAME` child processes once their package exists.
_SERVICES = {"registry": "services.registry", "notifier": "services.notifier"}


def _say(message: str) -> None:
    click.echo(f"[ropa dev] {message}", err=True)


class _Stop(Exception):
    pass


class _ServiceFailed(Exception):
    pass


class NotConfirmed(Exception):
    """`--fresh` was not confirmed: nothing was deleted."""


def _on_signal(signum: int, frame: FrameType | None) -> None:
    raise _Stop(signal.Signals(signum).name)


@dataclass
class _Child:
    name: str
    url: str
    process: subprocess.Popen[bytes]


# The registers a development stack starts with: every ROPA document shipped in examples/, so
# that a new example needs no list updated anywhere.
EXAMPLES = Path("examples")


def shipped_examples(folder: Path = EXAMPLES) -> tuple[Path, ...]:
    """Every ROPA document in `folder`, in name order."""
    return tuple(sorted(folder.glob("*.yaml")))


async def empty_after_showing(db: Database, yes: bool) -> None:
    """`--fresh`: show everything the database holds, and delete it only once confirmed."""
    held = await maintenance.contents(db)
    if not held:
        _say("--fresh: the database is empty already")
        return
    registers = await register.register_ids(db)
    _say(
        f"--fresh deletes everything the stack's database holds: the registers "
        f"{', '.join(registers) or '(none)'}, with every change made to them, and"
    )
    for kind, count in held.items():
        _say(f"  {count} {kind}")
    if not yes:
        asked = sys.stdin.isatty() and click.confirm(
            "[ropa dev] Delete all of it?", default=False, err=True
        )
        if not asked:
            raise NotConfirmed(
                "nothing deleted; `ropa dev --fresh --yes` deletes it without asking "
                "(`ropa audit export --register ID` first keeps a register's whole change log)"
            )
    await maintenance.wipe(db)
    _say(f"--fresh: deleted {sum(held.values())} nodes")


async def _prepare(
    settings: Neo4jSettings,
    examples: tuple[Path, ...],
    actor: str,
    *,
    fresh: bool = False,
    yes: bool = False,
) -> list[str]:
    """Migrate, load the examples into an empty database; the examples' register ids."""
    async with open_database(settings) as db:
        await db.ping()
        if fresh:
            await empty_after_showing(db, yes)
        applied = await migrate.migrate(db, report=_say)
        _say(f"migrations: {len(applied)} applied" if applied else "migrations: up to date")
        docs = [(example, load_document(example)) for example in examples]
        empty = not await register.register_ids(db)
        for example, doc in docs:
            entities = from_document.entities(doc)
            register_id = doc.register_info.id
            if empty:
                loaded = await register.apply(db, register_id, entities, actor, progress=_say)
                _say(
                    f"example {example}: loaded into the empty database "
                    f"({len(loaded.changes)} changes)"
                )
                continue
            # The database holds someone's work: show how it differs, change nothing.
            plan = await register.plan(db, register_id, entities)
            if plan.empty:
                _say(f"register {register_id} matches {example}")
                continue
            _say(
                f"register {register_id} differs from {example} ({summary(plan)} to match it); "
                "left as it is. `ropa apply` the example to match it, or `ropa dev --fresh` to "
                "start from an empty database:"
            )
            for change in plan.changes:
                _say(f"  {describe(change)}")
        return [doc.register_info.id for _, doc in docs]


def run_dev(
    settings: CliSettings, examples: tuple[Path, ...], fresh: bool, yes: bool = False
) -> int:
    """Run until Ctrl-C or SIGTERM; stop everything started here. Returns the exit code."""
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    started = time.monotonic()
    server: LocalNeo4j | None = None
    children: list[_Child] = []
    ports = {"registry": settings.ropa_registry_port, "notifier": settings.ropa_notifier_port}
    signin: DevSignIn | None = None
    sink: MailSink | None = None
    try:
        # Everything that can be found out before starting anything is, so that a stack that
        # cannot come up says why in its first second.
        wanted = dict(ports) if settings.neo4j_uri else {"neo4j": settings.dev_port, **ports}
        _check_ports(wanted)
        if settings.neo4j_uri:
            neo4j = settings.neo4j()
            _say(f"using the Neo4j at NEO4J_URI={neo4j.uri}; starting none")
            if fresh:
                _say("--fresh empties only the stack's own Neo4j; NEO4J_URI's is left as it is")
        else:
            java_executable()
            secret = settings.neo4j_password
            server = LocalNeo4j(
                home=dev_neo4j_home(),
                port=settings.dev_port,
                password=(secret.get_secret_value() or None) if secret is not None else None,
            )
            password = server.start()
            neo4j = settings.neo4j(uri=server.uri, password=password)
        # Only the stack's own Neo4j is ever emptied, and only after showing what goes.
        register_ids = asyncio.run(
            _prepare(neo4j, examples, "ropa dev", fresh=fresh and server is not None, yes=yes)
        )
        # The development admin token: ROPA_DEV_TOKEN, else a new one each run.
        token = os.environ.get("ROPA_DEV_TOKEN") or secrets.token_urlsafe(32)
        _say(f"database loaded {time.monotonic() - started:.1f} s after start")
        env = {
            **os.environ,
            **neo4j.environment(),
            "ROPA_ENV": os.environ.get("ROPA_ENV", "development"),
            # Lines for a person at a terminal, unless asked otherwise.
            "ROPA_LOG_FORMAT": os.environ.get("ROPA_LOG_FORMAT", "text"),
            "ROPA_TOKENS": dev_tokens(token, os.environ.get("ROPA_TOKENS")),
            "ROPA_SECRET_KEY": os.environ.get("ROPA_SECRET_KEY") or dev_secret_key(),
        }
        registry_url = os.environ.get("ROPA_PUBLIC_URL") or (
            f"http://127.0.0.1:{settings.ropa_registry_port}"
        )
        signin, signin_lines = _sign_in(registry_url, register_ids)
        if signin is not None:
            env.update(signin.env)
        sink, mail_env = _mail(ports["registry"])
        env.update(mail_env)
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
            neo4j,
            server,
            children,
            signin_lines
            + _token_lines(token, children, "ROPA_DEV_TOKEN" in os.environ)
            + _mail_lines(sink)
            + _secret_key_lines("ROPA_SECRET_KEY" in os.environ),
        )
        while True:
            for child in children:
                if child.process.poll() is not None:
                    _say(f"{child.name} exited with code {child.process.returncode}; stopping")
                    return Exit.SERVICE_FAILED
            time.sleep(0.5)
    except _Stop as stop:
        _say(f"{stop.args[0]}: stopping")
        return Exit.OK
    except PortInUse as exc:
        _say(f"error: {exc}")
        return Exit.PORT_IN_USE
    except PrerequisiteMissing as exc:
        _say(f"error: {exc}")
        return Exit.MISSING_PREREQUISITE
    except (PasswordRefused, DatabaseAuthFailed) as exc:
        _say(f"error: {exc}")
        return Exit.AUTH_FAILED
    except (LocalNeo4jError, DatabaseUnavailable) as exc:
        _say(f"error: {exc}")
        return Exit.UNAVAILABLE
    except _ServiceFailed as exc:
        _say(f"error: {exc}; stopping")
        return Exit.SERVICE_FAILED
    except NotConfirmed as exc:
        _say(str(exc))
        return Exit.USAGE
    except DocumentInvalid as exc:
        for line in exc.render():
            _say(line)
        return Exit.INVALID
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
        if signin is not None:
            signin.provider.stop()
        if sink is not None:
            sink.stop()
        if server is not None:
            server.stop()
        _say("stopped")


def _sign_in(registry_url: str, register_ids: list[str]) -> tuple[DevSignIn | None, list[str]]:
    """The development sign-in when Node is there (and no provider of one's own is set), with
    its banner lines; else a line saying why there is none."""
    if os.environ.get("ROPA_OIDC_ISSUER"):
        issuer = os.environ["ROPA_OIDC_ISSUER"]
        return None, [f"  Sign in          {registry_url}/auth/login  (through {issuer})"]
    reason = missing_reason()
    if reason is None:
        home = dev_neo4j_home().parent / "dev-oidc"
        try:
            signin = start_dev_sign_in(home, registry_url, register_ids)
        except DevProviderError as exc:
            reason = str(exc)
        else:
            return signin, signin.banner
    _say(f"sign-in for people is off: {reason}")
    return None, [f"  Sign-in          off ({reason}); use the token below"]


def _check_ports(ports: dict[str, int]) -> None:
    """Raise PortInUse naming every port of the stack that is taken, and its variable."""
    variables = {
        "neo4j": "NEO4J_PORT",
        "registry": "ROPA_REGISTRY_PORT",
        "notifier": "ROPA_NOTIFIER_PORT",
    }
    taken = [f"{name} {port}" for name, port in ports.items() if port_taken(port)]
    if taken:
        names = ", ".join(variables.get(name.split()[0], name) for name in taken)
        raise PortInUse(
            f"port(s) already in use on 127.0.0.1: {', '.join(taken)}; is another stack running? "
            f"Stop it, or choose free ports with {names}"
        )


def _wait_healthy(child: _Child, timeout: float = 180.0) -> None:
    """Wait until the child answers /healthz, so the banner's addresses work when printed.

    A child that exits is reported at once; one still starting is waited for as long as Neo4j
    may take (a loaded machine took over 80 s to start the registry; 60 s stopped the stack)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.process.poll() is not None:
            raise _ServiceFailed(
                f"{child.name} exited with code {child.process.returncode} while starting"
            )
        try:
            if httpx.get(f"{child.url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise _ServiceFailed(f"{child.name} did not answer {child.url}/healthz within {timeout:.0f} s")


def _banner(
    neo4j: Neo4jSettings,
    server: LocalNeo4j | None,
    children: list[_Child],
    extra: list[str] | None = None,
) -> None:
    lines = ["", "ROPA registry development stack is up:"]
    lines.append(f"  Neo4j (Bolt)     {neo4j.uri}  user {neo4j.user}")
    if server is not None:
        password_file = server.home / "password"
        lines.append(f"  Neo4j password   in {password_file}; logs in {server.home / 'logs'}")
        lines.append(
            "  Other terminals: `ropa plan|apply|notice ...` find this Neo4j by themselves;"
        )
        lines.append("    other tools reach it with")
        lines.append(f'    export NEO4J_URI={neo4j.uri} NEO4J_PASSWORD="$(cat {password_file})"')
    for child in children:
        if child.name == "registry":
            lines.append(f"  Dashboard        {child.url}/")
            lines.append(f"  Lineage map      {child.url}/lineage")
            lines.append(f"  GraphQL explorer {child.url}/graphql")
            lines.append(f"  Privacy notices  {child.url}/notices")
            lines.append(f"  Atom feeds       {child.url}/feeds/subprocessors/<processor>.atom")
            lines.append(f"  Portal           {child.url}/processors")
        else:
            lines.append(f"  {child.name:<16} {child.url}/healthz")
    if not children:
        lines.append("  (no HTTP services are built yet)")
    lines.extend(extra or [])
    if not _allowed(os.environ.get("ROPA_WEBHOOK_ALLOW_LOOPBACK")):
        lines.append(
            "  Webhooks to 127.0.0.1/localhost are refused; for a local receiver start with"
        )
        lines.append("    ROPA_WEBHOOK_ALLOW_LOOPBACK=true make run")
    lines.append("Press Ctrl-C to stop everything.")
    click.echo("\n".join(lines), err=True)


def _allowed(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _secret_key_lines(given: bool) -> list[str]:
    if given:
        return ["  Secret key       from ROPA_SECRET_KEY"]
    return [f"  Secret key       in {dev_secret_key_path()} (`ropa secrets` finds it there)"]


def dev_secret_key(home: Path | None = None) -> str:
    """The development stack's ROPA_SECRET_KEY: made on first use, then kept (owner-only) in
    the cache beside the dev database, so that secrets registered earlier still open."""
    path = home / "dev-secret-key" if home is not None else dev_secret_key_path()
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = new_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(key + "\n")
    _say(f"webhook secrets are encrypted with a new development key in {path}")
    return key


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


def _mail(registry_port: int) -> tuple[MailSink | None, dict[str, str]]:
    """The e-mail settings of the children: the caller's relay if ROPA_SMTP_HOST is set, else
    a local SMTP sink. (The links are signed with the stack's ROPA_SECRET_KEY, kept across
    runs, so they survive restarts.)"""
    env = {
        "ROPA_PUBLIC_URL": os.environ.get("ROPA_PUBLIC_URL", f"http://127.0.0.1:{registry_port}"),
    }
    if os.environ.get("ROPA_SMTP_HOST"):
        return None, env
    try:
        from services.cli.mail_sink import MailSink
    except ImportError:
        _say("aiosmtpd is not installed (dev extras): no e-mail is sent")
        return None, env
    sink = MailSink(dev_neo4j_home().parent / "dev-mail").start()
    env |= {
        "ROPA_SMTP_HOST": "127.0.0.1",
        "ROPA_SMTP_PORT": str(sink.port),
        "ROPA_SMTP_STARTTLS": "false",
    }
    return sink, env


def _mail_lines(sink: MailSink | None) -> list[str]:
    if sink is None:
        relay = os.environ.get("ROPA_SMTP_HOST")
        return [f"  e-mail           through {relay}"] if relay else []
    return [
        f"  e-mail sink      smtp://127.0.0.1:{sink.port}; each message caught is kept in",
        f"                   {sink.folder}/ as an .eml file (open it in a mail client, or cat it)",
    ]
