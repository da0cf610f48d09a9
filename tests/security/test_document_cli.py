"""`ropa validate/plan/apply/check` on hostile documents: exit 1, the problem, nothing written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from graph.database import Database
from graph.settings import Neo4jSettings
from services.cli.main import cli

COMMANDS = [["validate"], ["plan"], ["apply", "--actor", "attacker"], ["check"]]


async def _entities(db: Database) -> int:
    async with db.driver.session(database=db.name) as session:
        record = await (await session.run("MATCH (n) RETURN count(n) AS n")).single()
    assert record is not None
    return int(record["n"])


@pytest.mark.neo4j
async def test_every_command_refuses_a_hostile_document_and_writes_nothing(
    db: Database,
    neo4j_settings: Neo4jSettings,
    hostile_document: tuple[Path, str],
) -> None:
    path, pattern = hostile_document
    before = await _entities(db)
    env = neo4j_settings.environment()
    for command in COMMANDS:
        result = CliRunner().invoke(cli, [*command, str(path)], env=env)
        assert result.exit_code == 1, (command, result.output, result.exception)
        assert isinstance(result.exception, SystemExit), result.exception
        assert "Traceback" not in result.output
        lines = result.stderr.splitlines()
        assert any(re.match(re.escape(str(path)) + ":" + pattern, line) for line in lines), (
            command,
            lines,
        )
    assert await _entities(db) == before


def test_the_real_command_prints_no_traceback_for_billion_laughs(
    billion_laughs_file: tuple[Path, str],
) -> None:
    path, pattern = billion_laughs_file
    result = subprocess.run(
        [sys.executable, "-m", "services.cli", "validate", str(path)],
        env={**os.environ, "NEO4J_URI": "bolt://127.0.0.1:9"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert re.match(re.escape(str(path)) + ":" + pattern, result.stderr)
    assert result.stderr.rstrip().endswith("invalid, 1 problem(s); nothing was written")
