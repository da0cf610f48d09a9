"""`ropa serve` runs on jemalloc when it is installed (its freed pages go back to the system),
keeps CPython's allocator when told to, and says in one line why it cannot do what it is told.

`.ci/run` installs libjemalloc2; these tests fail, saying so, where it is missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from graph.database import Database
from graph.settings import Neo4jSettings
from services.cli.allocator import find_jemalloc
from tests.support.registry_server import serve_registry_to_exit, served_registry


@pytest.fixture(scope="module")
def jemalloc() -> str:
    found = find_jemalloc()
    if found is None:
        pytest.fail("jemalloc is missing: `apt-get install -y libjemalloc2` (see README)")
    return found


def _libraries(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


def test_served_on_jemalloc_by_default_in_the_same_process(
    db: Database, neo4j_settings: Neo4jSettings, jemalloc: str
) -> None:
    # `db`: the graph migrated and clean, so that the registry is ready.
    # The PID the registry was started as answers: the restart replaced the process in place,
    # so supervisors and `kill` still reach it.
    with served_registry(neo4j_settings) as served:
        assert "libjemalloc" in _libraries(served.pid)
        environ = Path(f"/proc/{served.pid}/environ").read_bytes().split(b"\0")
        assert b"PYTHONMALLOC=malloc" in environ


def test_served_on_pythons_own_allocator_when_chosen(
    db: Database, neo4j_settings: Neo4jSettings, jemalloc: str
) -> None:
    with served_registry(neo4j_settings, {"ROPA_ALLOCATOR": "python"}) as served:
        assert "libjemalloc" not in _libraries(served.pid)


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
    done = serve_registry_to_exit({"ROPA_ALLOCATOR": "tcmalloc"})
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "ropa: setting ROPA_ALLOCATOR='tcmalloc': Input should be 'auto', 'jemalloc' or 'python'"
    ]
