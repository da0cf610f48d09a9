"""The `ropa` command as a user runs it: a real process, real Neo4j."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pydantic import SecretStr

from graph import from_document, register, webhooks
from graph.database import Database
from graph.secret_box import SecretBox, new_key
from graph.settings import Neo4jSettings
from schema.validation import parse_document
from schema.webhook_url import TargetPolicy
from services.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests" / "fixtures" / "small-register.yaml"


def _ropa(
    settings: Neo4jSettings, *args: str, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        **(extra or {}),
        **settings.environment(),
        "ROPA_ACTOR": "cli-test",
    }
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_validate_reports_every_problem_with_file_line_and_path(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    text = (
        SMALL.read_text().replace("to: dfe", "to: nowhere").replace("status: active", "status: x")
    )
    broken.write_text(text)
    result = _ropa(Neo4jSettings(), "validate", str(broken))
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    line_no = text.splitlines().index("    to: nowhere") + 1
    assert (
        f"{broken}:{line_no}: flows[0].to: unknown organisation 'nowhere' "
        "(not defined in organisations)"
    ) in lines
    assert any("engagements[0].status:" in line for line in lines)


def test_validate_reports_yaml_syntax_errors_with_their_line(tmp_path: Path) -> None:
    broken = tmp_path / "syntax.yaml"
    broken.write_text("version: ropa/v1\nregister: [unclosed\n")
    result = _ropa(Neo4jSettings(), "validate", str(broken))
    assert result.returncode == 1
    assert "not valid YAML" in result.stderr
    assert f"{broken}:" in result.stderr


@pytest.mark.neo4j
async def test_migrate_apply_plan_round_trip(db: Database, neo4j_settings: Neo4jSettings) -> None:
    migrated = _ropa(neo4j_settings, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "migrations up to date" in migrated.stdout
    applied = _ropa(neo4j_settings, "apply", str(SMALL))
    assert applied.returncode == 0, applied.stderr
    assert "+ create Engagement portal-hosting" in applied.stdout
    assert "change events recorded as cli-test" in applied.stdout
    again = _ropa(neo4j_settings, "apply", str(SMALL))
    assert "already up to date; nothing written" in again.stdout
    planned = _ropa(neo4j_settings, "plan", str(SMALL))
    assert planned.returncode == 0
    assert "register test-school: no changes" in planned.stdout


@pytest.mark.neo4j
async def test_apply_of_an_invalid_document_leaves_the_graph_as_it_was(
    db: Database, neo4j_settings: Neo4jSettings, tmp_path: Path
) -> None:
    assert _ropa(neo4j_settings, "apply", str(SMALL)).returncode == 0
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        SMALL.read_text()
        .replace("retention: Until the pupil is 25", "retention: Forever")
        .replace("sub_processor: hosting-co", "sub_processor: unknown-co")
    )
    result = _ropa(neo4j_settings, "apply", str(broken))
    assert result.returncode == 1
    assert "nothing was written" in result.stderr
    planned = _ropa(neo4j_settings, "plan", str(SMALL))
    assert "register test-school: no changes" in planned.stdout


async def _ropa_here(settings: Neo4jSettings, *args: str) -> Result:
    """`ropa ARGS` through click's runner: in-process, a second each instead of a child's start."""
    # The command runs its own event loop, so it runs in a thread of its own.
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args), env=settings.environment())


async def _apply(db: Database, text: str) -> None:
    doc = parse_document(text)
    await register.apply(db, doc.register_info.id, from_document.entities(doc), "cli-test")


@pytest.mark.neo4j
async def test_commands_take_a_controller_by_id_or_by_name_in_any_case(
    db: Database, neo4j_settings: Neo4jSettings
) -> None:
    await _apply(db, SMALL.read_text())
    by_id = await _ropa_here(
        neo4j_settings, "export", "--format", "json", "--controller", "TEST-SCHOOL"
    )
    assert by_id.exit_code == 0, by_id.stderr
    assert json.loads(by_id.stdout)["controller"] == "test-school"
    by_name = await _ropa_here(
        neo4j_settings, "notice", "--audience", "parents", "--controller", "tEST sCHOOL"
    )
    assert by_name.exit_code == 0, by_name.stderr
    assert "Test School" in by_name.stdout
    checked = await _ropa_here(neo4j_settings, "check", "--graph", "--controller", "test school")
    assert "graph register test-school:" in checked.stdout, checked.stderr
    for command in (["check", "--graph"], ["export", "--format", "ico-csv"]):
        unknown = await _ropa_here(neo4j_settings, *command, "--controller", "Nowhere Academy")
        assert unknown.exit_code == 4
        assert "no controller with id or name 'Nowhere Academy'" in unknown.stderr

    # A second organisation of the same name: the name no longer says which one is meant.
    await _apply(
        db,
        SMALL.read_text().replace(
            "organisations:\n",
            "organisations:\n  - id: test-school-annexe\n    name: TEST SCHOOL\n    kind: school\n",
            1,
        ),
    )
    ambiguous = await _ropa_here(
        neo4j_settings, "notice", "--audience", "pupils", "--controller", "Test School"
    )
    assert ambiguous.exit_code == 4
    assert "'Test School' names several" in ambiguous.stderr
    assert "test-school-annexe" in ambiguous.stderr
    # An exact id still wins over a shared name.
    still = await _ropa_here(neo4j_settings, "check", "--graph", "--controller", "test-school")
    assert "graph register test-school:" in still.stdout, still.stderr


def test_commands_fail_clearly_when_neo4j_is_unreachable(tmp_path: Path) -> None:
    unreachable = Neo4jSettings(uri="bolt://127.0.0.1:1", connection_timeout=1.0)
    result = _ropa(unreachable, "plan", str(SMALL))
    assert result.returncode == 3
    assert "Neo4j is unavailable" in result.stderr


@pytest.mark.neo4j
async def test_audit_verify_export_and_a_tampered_event(
    db: Database, neo4j_settings: Neo4jSettings
) -> None:
    assert _ropa(neo4j_settings, "apply", str(SMALL)).returncode == 0
    verified = _ropa(neo4j_settings, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert "audit chain intact" in verified.stdout
    exported = _ropa(neo4j_settings, "audit", "export", "--register", "test-school")
    assert exported.returncode == 0, exported.stderr
    lines = [json.loads(line) for line in exported.stdout.splitlines()]
    assert lines
    assert [e["sequence"] for e in lines] == sorted(e["sequence"] for e in lines)
    assert {(e["actor"]["name"], e["actor"]["via"]) for e in lines} == {("cli-test", "cli")}
    assert all(e["register"] == "test-school" and len(e["hash"]) == 64 for e in lines)
    as_list = _ropa(
        neo4j_settings,
        "audit",
        "export",
        "--register",
        "test-school",
        "--format",
        "json",
        "--since",
        "2000-01-01",
    )
    assert json.loads(as_list.stdout) == lines
    unknown = _ropa(neo4j_settings, "audit", "export", "--register", "nowhere")
    assert unknown.returncode == 4
    assert "no register 'nowhere'" in unknown.stderr

    async with db.driver.session(database=db.name) as session:
        await session.run("MATCH (c:ChangeEvent {sequence: 2}) SET c.op = 'DELETED'")
    broken = _ropa(neo4j_settings, "audit", "verify")
    assert broken.returncode == 5
    assert "audit chain broken at sequence 2: was edited" in broken.stderr


@pytest.mark.neo4j
async def test_secrets_rotate_plans_then_encrypts_what_was_stored_in_the_clear(
    db: Database, neo4j_settings: Neo4jSettings
) -> None:
    policy = TargetPolicy(allow_loopback=True)
    plain = await webhooks.register(
        db, "http://127.0.0.1:9/h", None, "dpo", policy, box=SecretBox()
    )
    planned = _ropa(neo4j_settings, "secrets", "rotate", "--dry-run")
    assert planned.returncode == 0, planned.stderr
    assert f"~ encrypt webhook {plain.endpoint.id}" in planned.stdout
    assert "1 to encrypt" in planned.stdout
    assert "dry run: nothing written" in planned.stdout
    due = await db.read(webhooks.rotation_plan_in, SecretBox([new_key()]))
    assert [s.action for s in due] == ["encrypt"]
    rotated = _ropa(neo4j_settings, "secrets", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    assert "sealed 1 secret(s)" in rotated.stdout
    box = SecretBox.from_setting(SecretStr(os.environ["ROPA_SECRET_KEY"]), required=True)
    after = await db.read(webhooks.rotation_plan_in, box)
    assert [s.action for s in after] == ["current"]
    keyless = _ropa(neo4j_settings, "secrets", "rotate", extra={"ROPA_SECRET_KEY": ""})
    assert keyless.returncode == 1
    assert "ROPA_SECRET_KEY is not set" in keyless.stderr


def test_a_service_without_its_secret_key_in_production_stops_with_one_line() -> None:
    result = _ropa(
        Neo4jSettings(),
        "serve",
        "notifier",
        "--port",
        "0",
        extra={"ROPA_SECRET_KEY": "", "ROPA_ENV": "production"},
    )
    assert result.returncode == 1
    assert "ropa serve notifier: ROPA_SECRET_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr
