"""`ropa check --graph`, `ropa export` and `ropa notice` read the record from Neo4j."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from graph import from_document, register
from graph.database import Database
from graph.settings import Neo4jSettings
from schema.validation import load_document, parse_document
from services.cli.main import cli
from tests.support.examples import STL, apply_school_record

pytestmark = pytest.mark.neo4j

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "allestree-woodlands.yaml"


async def _ropa(settings: Neo4jSettings, *args: str) -> Result:
    env = {
        **settings.environment(),
    }
    # The command runs its own event loop, so it runs in a thread of its own.
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args), env=env)


async def test_check_export_and_notice_read_the_graph_as_of_a_day(
    db: Database, neo4j_settings: Neo4jSettings
) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    # The register School Transition Limited keeps, declaring the school's sub-processors.
    stl = load_document(STL)
    await register.apply(
        db,
        stl.register_info.id,
        from_document.entities(stl),
        "tester",
        occurred_at=dt.datetime(2022, 1, 1, tzinfo=dt.UTC),
    )
    first = load_document(EXAMPLE)
    await register.apply(
        db,
        first.register_info.id,
        from_document.entities(first),
        "tester",
        occurred_at=dt.datetime(2022, 1, 1, tzinfo=dt.UTC),
    )
    # On 1 June 2022 the advisers' contract is linked and the DPIA for CCTV completed.
    fixed = text.replace(
        "      - organisation: consultants-and-advisers\n",
        "      - organisation: consultants-and-advisers\n"
        "        contract: urn:allestree-woodlands:contract:advisers-register\n",
    ).replace(
        "    dpia:\n      status: required\n    assumptions:\n      - CCTV also captures staff",
        "    dpia:\n      status: completed\n      completed_on: 2022-05-20\n    assumptions:\n"
        "      - CCTV also captures staff",
    )
    second = parse_document(fixed)
    await register.apply(
        db,
        second.register_info.id,
        from_document.entities(second),
        "tester",
        occurred_at=dt.datetime(2022, 6, 1, 9, tzinfo=dt.UTC),
    )

    # --as-of is the day the processing is valid; --recorded-at the record read (default now).
    check = ("check", "--graph", "--as-of")
    before = await _ropa(neo4j_settings, *check, "2022-03-01", "--recorded-at", "2022-03-01")
    after = await _ropa(neo4j_settings, *check, "2022-07-01", "--recorded-at", "2022-07-01")
    today = await _ropa(neo4j_settings, *check, "2022-03-01")
    assert before.exit_code == after.exit_code == today.exit_code == 1
    assert "activity:cctv-photos" not in today.stdout
    assert "flow:advice-to-consultants" in before.stdout
    assert "activity:cctv-photos" in before.stdout
    assert "flow:advice-to-consultants" not in after.stdout
    assert "activity:cctv-photos" not in after.stdout
    assert "graph register allestree-woodlands: 15 error(s)" in before.stdout
    assert "graph register allestree-woodlands: 13 error(s)" in after.stdout

    exported = await _ropa(
        neo4j_settings,
        "export",
        "--format",
        "json",
        "--controller",
        "allestree-woodlands",
        "--as-of",
        "2022-03-01",
        "--recorded-at",
        "2022-03-01",
    )
    assert exported.exit_code == 0, exported.stderr
    rows = json.loads(exported.stdout)["controllerRecord"]["rows"]
    assert len(rows) == 14
    cctv = next(r for r in rows if r["Business function"].startswith("CCTV"))
    assert cctv["Data Protection Impact Assessment progress"] == "Required; not started"
    later = await _ropa(neo4j_settings, "export", "--format", "json", "--as-of", "2022-03-01")
    cctv = next(
        r
        for r in json.loads(later.stdout)["controllerRecord"]["rows"]
        if r["Business function"].startswith("CCTV")
    )
    assert cctv["Data Protection Impact Assessment progress"] == "Completed on 2022-05-20"

    notice = await _ropa(neo4j_settings, "notice", "--audience", "pupils", "--as-of", "2022-03-01")
    # The example's DPO is a placeholder: the notice is only a draft.
    assert notice.exit_code == 10, notice.stderr
    assert "organisation allestree-woodlands: dpo" in notice.stderr
    draft = await _ropa(
        neo4j_settings, "notice", "--audience", "pupils", "--as-of", "2022-03-01", "--draft"
    )
    assert draft.exit_code == 0, draft.stderr
    assert draft.stdout.startswith("# Draft: ")
    assert "School Development Support Agency" in draft.stdout


async def test_an_unknown_controller_exits_4(db: Database, neo4j_settings: Neo4jSettings) -> None:
    result = await _ropa(neo4j_settings, "check", "--graph", "--controller", "nobody")
    assert result.exit_code == 4
    assert "no controller with id or name 'nobody'" in result.stderr


async def test_each_registers_check_in_the_graph_reports_its_own_processing(
    db: Database, neo4j_settings: Neo4jSettings
) -> None:
    await apply_school_record(db)
    check = ("check", "--graph", "--as-of", "2024-06-01", "--controller")
    stl = await _ropa(neo4j_settings, *check, "School Transition Limited")
    assert stl.exit_code == 1, stl.stderr
    # STL's record as processor: its own gap only, none of the school's.
    assert stl.stdout.splitlines()[-1].endswith(": 1 error(s), 0 warning(s) on 2024-06-01")
    assert "processor-missing-contact-details" in stl.stdout
    assert "allestree-woodlands" not in stl.stdout
    school = await _ropa(neo4j_settings, *check, "Allestree Woodlands School")
    assert school.stdout.splitlines()[-1].endswith(": 15 error(s), 1 warning(s) on 2024-06-01")
    assert "processor-missing-contact-details" not in school.stdout
