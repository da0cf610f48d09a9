"""`ropa serve registry` in a child process on a free loopback port, for tests that need a real
uvicorn (browsers, WebSocket clients, the process's own start-up and logging).

One helper for tests/services and tests/browser. The server's log always goes to a file: a
pipe that nobody reads fills up (64 KiB of access log is a few hundred requests), and then
the server blocks on its next log line and every request hangs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx

from graph.neo4j_server import free_port

# Generous: on a loaded machine the imports alone have taken 40 s.
STARTUP_SECONDS = 120

# What every test server runs with; the tests/security servers run as deployed instead.
TEST_ENV = {"ROPA_ENV": "test", "ROPA_EXPLORER": "true", "ROPA_RATE_LIMIT": ""}


class Neo4jEnvironment(Protocol):
    """Settings that name a Neo4j as the NEO4J_* variables a child process reads."""

    def environment(self) -> dict[str, str]:
        """The NEO4J_* variables."""
        ...


def tail(log: Path, lines: int = 60) -> str:
    """The end of a log file (empty if there is none)."""
    text = log.read_text(errors="replace") if log.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


@dataclass(frozen=True)
class ServedRegistry:
    """A registry being served: its base URL, and the PID it was started as."""

    url: str
    pid: int


def _command(port: int) -> list[str]:
    return [sys.executable, "-m", "services.cli", "serve", "registry", "--port", str(port)]


@contextmanager
def serve_registry(
    neo4j: Neo4jEnvironment,
    extra_env: Mapping[str, str | None] | None = None,
    log: Path | None = None,
    ready: str = "/readyz",
) -> Iterator[str]:
    """Serve the registry until the block ends; yields its base URL once `ready` answers 200
    (`served_registry` says the rest)."""
    with served_registry(neo4j, extra_env, log, ready) as served:
        yield served.url


def serve_registry_to_exit(extra_env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """`ropa serve registry` in the test's environment plus `extra_env`, for a start that is
    meant to stop (a setting it cannot use): its exit code and output."""
    return subprocess.run(
        _command(free_port()),
        env={**os.environ, **extra_env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@contextmanager
def served_registry(
    neo4j: Neo4jEnvironment,
    extra_env: Mapping[str, str | None] | None = None,
    log: Path | None = None,
    ready: str = "/readyz",
) -> Iterator[ServedRegistry]:
    """Serve the registry until the block ends; yields it once `ready` answers 200.

    `extra_env` adds variables to the test environment, or removes those given as None; `log`
    is the file its stderr goes to (a temporary file, removed afterwards, when None).
    """
    env = {**os.environ, **neo4j.environment(), **TEST_ENV}
    for name, value in (extra_env or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    own_log = log is None
    log_path = log or Path(tempfile.mkstemp(prefix="registry-", suffix=".log")[1])
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(
            _command(port),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                raise AssertionError(f"the registry exited:\n{tail(log_path)}")
            try:
                if httpx.get(f"{url}{ready}", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{ready} did not answer 200 within {STARTUP_SECONDS} s:\n{tail(log_path)}"
                )
            time.sleep(0.2)
        yield ServedRegistry(url, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if own_log:
            log_path.unlink(missing_ok=True)
