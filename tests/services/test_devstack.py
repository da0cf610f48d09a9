"""`ropa dev` (what `make run` runs) as a user meets it: a real process, real Neo4j, real ports.

It loads the example into an empty database only and otherwise shows how the register differs
from it; it refuses to start on a taken port, without `java` or with a wrong password, with one
line and its exit code; and the banner appears only once every service answers.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner, Result

from graph import from_document, register
from graph.database import Database
from graph.neo4j_server import NEO4J_VERSION, free_port
from graph.settings import Neo4jSettings
from schema.validation import load_document
from services.cli.devstack import NotConfirmed, empty_after_showing
from services.cli.exit_codes import Exit
from services.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests" / "fixtures" / "small-register.yaml"
BANNER = "development stack is up"
# What a user's shell has: none of the variables that would point the CLI somewhere.
UNSET = ("NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD", "NEO4J_DATABASE", "NEO4J_PORT")


def _env(cache: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in UNSET and not k.startswith("ROPA_")}
    return {
        **env,
        "ROPA_CACHE_DIR": str(cache),
        "ROPA_REGISTRY_PORT": str(free_port()),
        "ROPA_NOTIFIER_PORT": str(free_port()),
        **extra,
    }


class Dev:
    """A running `ropa dev`, its stderr collected line by line as it comes."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "dev", *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, needle: str, timeout: float = 120.0) -> None:
        """Until a line contains `needle`; fails if the process ends first or time runs out."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not any(needle in line for line in self.lines):
                if self.process.poll() is not None:
                    self._changed.wait(0.5)  # the reader may still hold the last lines
                    if not any(needle in line for line in self.lines):
                        pytest.fail(f"ropa dev exited {self.process.returncode}:\n{self.text}")
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    pytest.fail(f"no {needle!r} from ropa dev within {timeout} s:\n{self.text}")
                self._changed.wait(min(remaining, 1.0))

    def stop(self) -> int:
        """SIGTERM, as Ctrl-C would; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)

    def finish(self, timeout: float = 60.0) -> int:
        """The exit code of a run that ends by itself, once all it wrote has been read."""
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout=10)  # it ends when the pipe closes
        return code


@pytest.fixture
def dev_runs() -> Iterator[list[Dev]]:
    runs: list[Dev] = []
    yield runs
    for run in runs:
        if run.process.poll() is None:
            run.process.kill()
        run.finish(timeout=30)
        if run.process.stderr is not None:
            run.process.stderr.close()


def _run(runs: list[Dev], env: dict[str, str], *args: str) -> Dev:
    dev = Dev(env, *args)
    runs.append(dev)
    return dev


@pytest.mark.neo4j
async def test_the_example_is_loaded_into_an_empty_database_only(
    db: Database, neo4j_settings: Neo4jSettings, tmp_path: Path, dev_runs: list[Dev]
) -> None:
    env = _env(tmp_path, **neo4j_settings.environment())
    first = _run(dev_runs, env, "--example", str(SMALL))
    first.wait_for(BANNER)
    assert "loaded into the empty database" in first.text
    assert first.stop() == Exit.OK

    # The DPO changes the register (as a mutation or `ropa apply` would) ...
    doc = load_document(SMALL)
    edited = SMALL.read_text().replace("Until the pupil is 25", "Until the pupil is 30")
    assert edited != SMALL.read_text()
    changed = tmp_path / "edited.yaml"
    changed.write_text(edited)
    edited_doc = load_document(changed)
    await register.apply(db, doc.register_info.id, from_document.entities(edited_doc), "dpo")

    # ... and the next start shows how the register differs from the example, and keeps it.
    second = _run(dev_runs, env, "--example", str(SMALL))
    second.wait_for(BANNER)
    before_banner = second.text.split(BANNER)[0]
    assert f"register {doc.register_info.id} differs from {SMALL}" in before_banner
    assert "left as it is" in before_banner
    assert "~ change ProcessingActivity" in before_banner
    assert second.stop() == Exit.OK
    kept = await register.plan(db, doc.register_info.id, from_document.entities(edited_doc))
    assert kept.empty, [c.entity.key for c in kept.changes]


@pytest.mark.neo4j
async def test_fresh_shows_what_it_deletes_and_deletes_only_once_confirmed(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = load_document(SMALL)
    register_id = doc.register_info.id
    await register.apply(db, register_id, from_document.entities(doc), "dpo")
    # No terminal to ask and no --yes: what would go is shown, and nothing goes.
    with pytest.raises(NotConfirmed, match="nothing deleted; `ropa dev --fresh --yes`"):
        await empty_after_showing(db, yes=False)
    shown = capsys.readouterr().err
    assert f"the registers {register_id}, with every change made to them" in shown
    assert " ChangeEvent" in shown
    assert " ProcessingActivity" in shown
    assert await register.register_ids(db) == [register_id]
    await empty_after_showing(db, yes=True)
    assert "--fresh: deleted" in capsys.readouterr().err
    assert await register.register_ids(db) == []


def test_a_taken_port_is_reported_before_anything_starts(
    tmp_path: Path, dev_runs: list[Dev]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        dev = _run(dev_runs, _env(tmp_path, ROPA_NOTIFIER_PORT=str(port)), "--example", str(SMALL))
        assert dev.finish() == Exit.PORT_IN_USE, dev.text
    # No Neo4j was started and stopped in between (it took 86 s before the check moved first).
    assert "starting Neo4j" not in dev.text
    assert f"notifier {port}" in dev.text
    assert "ROPA_NOTIFIER_PORT" in dev.text
    assert "Traceback" not in dev.text
    assert not (tmp_path / "dev-neo4j").exists(), "nothing is started or created"


def test_a_missing_java_is_one_clear_line(tmp_path: Path, dev_runs: list[Dev]) -> None:
    # Neo4j's jars are in the cache; only `java` is missing.
    lib = tmp_path / "neo4j" / NEO4J_VERSION / "lib"
    lib.mkdir(parents=True)
    (lib / ".complete").write_text(NEO4J_VERSION)
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    # A free Neo4j port, so that a `make run` on this machine does not answer "port in use".
    free = _env(tmp_path, PATH=str(empty), NEO4J_PORT=str(free_port()))
    env = {k: v for k, v in free.items() if k != "JAVA_HOME"}
    dev = _run(dev_runs, env)
    assert dev.finish() == Exit.MISSING_PREREQUISITE, dev.text
    assert "`java` is not on PATH" in dev.text
    assert "Traceback" not in dev.text


@pytest.mark.neo4j
def test_the_banner_waits_for_every_service(
    db: Database, neo4j_settings: Neo4jSettings, tmp_path: Path, dev_runs: list[Dev]
) -> None:
    # A setting the services refuse at start-up: they exit, and the stack says so, no banner.
    env = _env(tmp_path, **neo4j_settings.environment(), ROPA_WEBHOOK_ALLOW_LOOPBACK="maybe")
    # The small register: loading every shipped example is not what this test is about.
    dev = _run(dev_runs, env, "--example", str(SMALL))
    assert dev.finish(timeout=120) == Exit.SERVICE_FAILED, dev.text
    assert "exited with code" in dev.text
    assert BANNER not in dev.text


def _ropa(env: dict[str, str], *args: str) -> Result:
    """`ropa ARGS` in this process (click's runner) with exactly `env`: what these tests ask
    is how the CLI finds its database, which a child process would only make slower to see."""
    unset: dict[str, str | None] = {k: None for k in os.environ if k not in env}
    return CliRunner().invoke(cli, list(args), env={**unset, **env})


@pytest.mark.neo4j
def test_the_cli_finds_the_development_stack_without_neo4j_uri(
    db: Database, neo4j_settings: Neo4jSettings, tmp_path: Path
) -> None:
    # The development stack's folder as `ropa dev` leaves it: the port and the password.
    url = urlsplit(neo4j_settings.uri)
    assert url.hostname in ("127.0.0.1", "localhost"), "the test Neo4j runs on loopback"
    home = tmp_path / "dev-neo4j"
    home.mkdir()
    (home / "port").write_text(f"{url.port}\n")
    (home / "password").write_text(neo4j_settings.password.get_secret_value())
    result = _ropa(_env(tmp_path), "plan", str(SMALL))
    assert result.exit_code == 0, result.stderr
    assert "register test-school:" in result.stdout
    # With no stack there, one line says where it looked and what to do.
    (home / "port").write_text(f"{free_port()}\n")
    missing = _ropa(_env(tmp_path), "plan", str(SMALL))
    assert missing.exit_code == Exit.UNAVAILABLE
    assert "the development stack's Neo4j (NEO4J_URI is unset" in missing.stderr
    assert "make run" in missing.stderr
    assert isinstance(missing.exception, SystemExit), missing.exception  # not a traceback


@pytest.mark.neo4j
def test_a_refused_password_is_one_clear_line(
    neo4j_settings: Neo4jSettings, tmp_path: Path
) -> None:
    wrong = {**neo4j_settings.environment(), "NEO4J_PASSWORD": "not-the-password"}
    env = _env(tmp_path, **wrong)
    result = _ropa(env, "plan", str(SMALL))
    assert result.exit_code == Exit.AUTH_FAILED, result.stderr
    assert "Neo4j refused the user name or password" in result.stderr
    assert f"NEO4J_URI={neo4j_settings.uri}" in result.stderr
    assert isinstance(result.exception, SystemExit), result.exception  # not a traceback
