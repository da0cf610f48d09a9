"""`ropa serve` runs on jemalloc when it is installed (its freed pages go back to the system),
keeps CPython's allocator when told to, and says in one line why it cannot do what it is told.

`.ci/run` installs libjemalloc2; these tests fail, saying so, where it is missing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from graph.neo4j_server import free_port
from graph.settings import Neo4jSettings
from services.cli.allocator import find_jemalloc
from tests.support.registry_server import STARTUP_SECONDS, TEST_ENV


@pytest.fixture(scope="module")
def jemalloc() -> str:
    found = find_jemalloc()
    if found is None:
        pytest.fail("jemalloc is missing: `apt-get install -y libjemalloc2` (see README)")
    return found


@contextmanager
def _served(neo4j: Neo4jSettings, env: Mapping[str, str]) -> Iterator[int]:
    """`ropa serve registry` until the block ends; yields the PID it was started as, ready."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "serve", "registry", "--port", str(port)],
        env={**os.environ, **neo4j.environment(), **TEST_ENV, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                raise AssertionError(f"the registry exited with {process.returncode}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("the registry did not become ready")
            time.sleep(0.2)
        yield process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def _libraries(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


def test_served_on_jemalloc_by_default_in_the_same_process(
    neo4j_settings: Neo4jSettings, jemalloc: str
) -> None:
    # The PID the registry was started as answers: the restart replaced the process in place,
    # so supervisors and `kill` still reach it.
    with _served(neo4j_settings, {}) as pid:
        assert "libjemalloc" in _libraries(pid)
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        assert b"PYTHONMALLOC=malloc" in environ


def test_served_on_pythons_own_allocator_when_chosen(
    neo4j_settings: Neo4jSettings, jemalloc: str
) -> None:
    with _served(neo4j_settings, {"ROPA_ALLOCATOR": "python"}) as pid:
        assert "libjemalloc" not in _libraries(pid)


def test_a_large_answer_purges_jemalloc_arenas(jemalloc: str) -> None:
    # The purge's mallctl name is right only if jemalloc accepts it (0, not an errno).
    done = subprocess.run(
        [sys.executable, "-c", "from services.registry import heap; print(heap._RELEASE(0))"],
        env={**os.environ, "PYTHONMALLOC": "malloc", "LD_PRELOAD": jemalloc},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0"


def test_a_setting_that_cannot_be_used_stops_the_start_in_one_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "services.cli", "serve", "registry", "--port", str(free_port())],
        env={**os.environ, "ROPA_ALLOCATOR": "tcmalloc"},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "ropa: setting ROPA_ALLOCATOR='tcmalloc': Input should be 'auto', 'jemalloc' or 'python'"
    ]
