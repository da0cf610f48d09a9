"""`ropa check`, `ropa export` and `ropa notice` over a YAML file."""

from __future__ import annotations

import copy
import csv
import io
import json
from pathlib import Path

from click.testing import CliRunner
from openpyxl import load_workbook
from ruamel.yaml import YAML

from services.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "allestree-woodlands.yaml"
STL = ROOT / "examples" / "school-transition-limited.yaml"
# The school's record: its register, and the one its processor keeps (its sub-processors).
BOTH = ("--file", str(EXAMPLE), "--file", str(STL))
CLEAN = ROOT / "tests" / "fixtures" / "compliance" / "clean-register.yaml"


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_check_passes_a_clean_register() -> None:
    code, out, _ = _run("check", str(CLEAN), "--as-of", "2024-06-01")
    assert code == 0
    assert out.strip().endswith("0 error(s), 0 warning(s) on 2024-06-01")


def test_check_exits_1_and_lists_each_gap_with_rule_entity_and_reference() -> None:
    code, out, _ = _run("check", str(EXAMPLE), "--as-of", "2024-06-01")
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "errors (15):"
    assert "warnings (1):" in lines
    dpia = [line for line in lines if "dpia-required-not-done" in line]
    assert len(dpia) == 5  # the post-16 transfer recurs: its DPIA gap stays
    assert all(
        line.startswith("  error ") and line.endswith("[UK GDPR Article 35(1)]") for line in dpia
    )
    assert any("flow:advice-to-consultants" in line for line in lines)
    assert any("schedule-1-condition-without-policy-document" in line for line in lines)
    # The medical teams flow cites a basis for each part of its condition (issue 14).
    assert not any("vital-interests-only-basis" in line for line in lines)
    placeholders = [line for line in lines if "placeholder-in-record" in line]
    assert len(placeholders) == 8  # 3 of the recurring post-16 transfer
    assert any("organisation:allestree-woodlands: dpo is a placeholder" in p for p in placeholders)
    assert lines[-1] == f"{EXAMPLE}: 15 error(s), 1 warning(s) on 2024-06-01"


def test_check_with_only_warnings_exits_0(tmp_path: Path) -> None:
    yaml = YAML(typ="safe")
    data = copy.deepcopy(yaml.load(CLEAN.read_text(encoding="utf-8")))
    school = next(o for o in data["organisations"] if o["id"] == "clean-school")
    school["dpo"] = {"name": "Mr C Smith"}
    path = tmp_path / "warning.yaml"
    out = io.StringIO()
    yaml.dump(data, out)
    path.write_text(out.getvalue(), encoding="utf-8")
    code, text, _ = _run("check", str(path), "--as-of", "2024-06-01")
    assert code == 0
    assert "dpo-missing-contact-details" in text


def test_check_needs_a_file_or_the_graph() -> None:
    code, _, err = _run("check")
    assert code == 2
    assert "give either FILEs (or --file) or --graph" in err
    code, _, _ = _run("check", str(EXAMPLE), "--graph")
    assert code == 2


def test_check_reports_an_invalid_document(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "version: ropa/v1\nregister: {id: x, name: X, owner: nobody}\n", encoding="utf-8"
    )
    code, _, err = _run("check", str(bad))
    assert code == 1
    assert "register.owner: unknown organisation 'nobody'" in err


def test_export_writes_each_format(tmp_path: Path) -> None:
    code, out, _ = _run(
        "export", "--format", "ico-csv", "--file", str(EXAMPLE), "--as-of", "2022-03-01"
    )
    assert code == 0
    rows = list(csv.reader(io.StringIO(out.lstrip("\ufeff"))))
    assert rows[0][0].endswith("as at 2022-03-01")
    code, out, _ = _run("export", "--format", "json", "--file", str(EXAMPLE))
    assert code == 0
    assert json.loads(out)["controller"] == "allestree-woodlands"
    target = tmp_path / "ropa.xlsx"
    code, _, err = _run("export", "--format", "ico-xlsx", "--file", str(EXAMPLE), "-o", str(target))
    assert code == 0
    assert f"wrote {target}" in err
    assert load_workbook(target).sheetnames[0] == "Controller record"


def test_export_of_an_unknown_controller_fails(tmp_path: Path) -> None:
    code, _, err = _run(
        "export", "--format", "json", "--file", str(EXAMPLE), "--controller", "nobody"
    )
    assert code == 4
    assert "no controller" in err


def test_notice_writes_markdown_and_html() -> None:
    code, out, _ = _run("notice", "--audience", "pupils", *BOTH, "--as-of", "2022-03-01", "--draft")
    assert code == 0
    assert out.startswith("# Draft: Allestree Woodlands School: privacy notice for pupils")
    assert "Link ICT Services Limited" in out
    code, out, _ = _run(
        "notice", "--audience", "parents", "--format", "html", "--file", str(EXAMPLE), "--draft"
    )
    assert code == 0
    assert out.startswith("<!DOCTYPE html>")
    code, _, _ = _run("notice", "--audience", "governors", "--file", str(EXAMPLE))
    assert code == 2


def test_a_notice_that_would_print_a_placeholder_is_refused_unless_a_draft() -> None:
    code, out, err = _run("notice", "--audience", "parents", "--file", str(EXAMPLE))
    assert code == 10
    assert out == ""
    assert "would print 1 placeholder(s)" in err
    assert "organisation allestree-woodlands: dpo" in err
    assert "--draft" in err
    code, out, _ = _run("notice", "--audience", "parents", "--file", str(EXAMPLE), "--draft")
    assert code == 0
    assert "## This is a draft" in out
    assert "organisation allestree-woodlands: dpo: Data Protection Officer" in out


def test_the_parents_notice_publishes_once_the_dpo_is_named(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "      name: Data Protection Officer (not named in the notice)\n"
        "      role: Data Protection Officer\n"
        "    placeholders: [dpo]\n",
        "      name: Ms D Officer\n      role: Data Protection Officer\n"
        "      email: dpo@woodlands.example\n",
    )
    named = tmp_path / "named.yaml"
    named.write_text(text, encoding="utf-8")
    code, out, _ = _run("notice", "--audience", "parents", "--file", str(named))
    assert code == 0
    assert out.startswith("# Allestree Woodlands School: privacy notice for parents")
    assert "Ms D Officer" in out
    # No placeholder text of the record reaches the published notice.
    assert "not named in the notice" not in out
    assert "urn:" not in out
    assert "draft" not in out.lower()


def test_the_dpo_gets_the_assumptions_behind_the_notice_apart(tmp_path: Path) -> None:
    listed = tmp_path / "assumptions.md"
    code, out, err = _run(
        "notice",
        "--audience",
        "pupils",
        *BOTH,
        "--as-of",
        "2022-03-01",
        "--draft",
        "--assumptions",
        str(listed),
    )
    assert code == 0
    assert f"wrote {listed}" in err
    text = listed.read_text(encoding="utf-8")
    assert text.startswith("# Assumptions behind: Draft: Allestree Woodlands School")
    assert "not for publication" in text
    assert "## Who we share it with, and why" in text
    whole_list = "these three are recorded as the whole list"
    assert "- School Transition Limited: The notice names the sub-processors" in text
    assert whole_list in text
    # An assumption about one field of the engagement says which.
    assert (
        "Link ICT Services Limited, sub-processor of School Transition Limited (data categories):"
        in text
    )
    # The public text carries none of it, but marks each statement that rests on one.
    assert whole_list not in out
    marked = [line for line in out.splitlines() if " \u2020" in line]
    assert any(line.startswith("### School Transition Limited") for line in marked)
    assert any("Link ICT Services Limited" in line for line in marked)
    assert "## About the marks in this notice" in out
    assert "which categories each sub-processor handles" not in out


def _engaged_by_stl(export_json: str) -> set[str]:
    rows = json.loads(export_json)["processorRecord"]["rows"]
    return {
        row["Name and contact details of processor"].split(",")[0]
        for row in rows
        if row["Sub-processor engaged by (if applicable)"].startswith("School Transition Limited")
    }


def test_the_schools_record_reads_its_sub_processors_from_the_processors_register() -> None:
    """Alone, the school's file checks and exports, and says which register it lacks."""
    code, alone, err = _run("export", "--format", "json", "--file", str(EXAMPLE))
    assert code == 0
    assert _engaged_by_stl(alone) == set()
    assert (
        "note: School Transition Limited keeps its own register 'school-transition-limited', "
        "which declares its sub-processors (for post16-transfer)"
    ) in err
    code, both, err = _run("export", "--format", "json", *BOTH)
    assert code == 0
    assert "note:" not in err
    assert "warning:" not in err  # the shared entities are exact copies
    assert _engaged_by_stl(both) == {
        "Link ICT Services Limited",
        "Derby City Council",
        "School Development Support Agency",
    }
    # FILE and --file mix; the school's record is the first file's.
    code, out, err = _run("check", str(EXAMPLE), "--file", str(STL), "--as-of", "2024-06-01")
    assert code == 1
    assert out.splitlines()[-1] == (f"{EXAMPLE} + {STL}: 15 error(s), 1 warning(s) on 2024-06-01")
    code, out, err = _run("check", str(EXAMPLE), "--as-of", "2024-06-01")
    assert code == 1
    assert "it was not read, so they are not in this result; give it with another --file" in err


def test_each_registers_check_reports_the_gaps_of_its_own_processing() -> None:
    """STL's register is its record as processor (Article 30(2)): its check reports STL's
    gaps (here: no contact details of its own), none of the school's, which the school's
    register reports (its DPIA, its Schedule 1 policy document, its DPO and the contract)."""
    code, out, _ = _run("check", str(STL), "--as-of", "2024-06-01")
    assert code == 1
    lines = out.splitlines()
    assert lines[-1] == f"{STL}: 1 error(s), 0 warning(s) on 2024-06-01"
    assert any(
        "processor-missing-contact-details  organisation:school-transition-limited" in line
        for line in lines
    )
    assert not any("allestree-woodlands" in line for line in lines)
    code, out, _ = _run("check", str(EXAMPLE), "--as-of", "2024-06-01")
    school = out.splitlines()
    assert code == 1
    for gap in (
        "dpia-required-not-done  activity:post16-transfer",
        "schedule-1-condition-without-policy-document  organisation:allestree-woodlands",
        "placeholder-in-record  organisation:allestree-woodlands: dpo",
        "placeholder-in-record  activity:post16-transfer: processors[school-transition-limited]",
    ):
        assert any(gap in line for line in school), gap
    assert not any(
        "processor-" in line and "organisation:school-transition" in line for line in school
    )


def test_a_folder_is_every_document_in_it(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(STL.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "b.yaml").write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    code, out, _ = _run("validate", str(tmp_path))
    assert code == 0
    assert out.splitlines() == [
        f"{tmp_path / 'a.yaml'}: valid (1 activities, 0 flows, 3 engagements)",
        f"{tmp_path / 'b.yaml'}: valid (14 activities, 23 flows, 0 engagements)",
    ]
    # The first register is the record's: STL's, as processor (Article 30(2)).
    code, out, _ = _run("export", "--format", "json", "--file", str(tmp_path))
    assert code == 0
    assert json.loads(out)["controller"] == "school-transition-limited"
    assert "Link ICT Services Limited" in out
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = _run("check", str(empty))
    assert code == 2
    assert "a folder with no *.yaml file" in err


def test_documents_that_disagree_on_a_shared_entity_are_read_with_a_warning(
    tmp_path: Path,
) -> None:
    changed = tmp_path / "stl.yaml"
    changed.write_text(
        STL.read_text(encoding="utf-8")
        .replace(
            "description: Sub-processor of School Transition Limited for the Transition Portal.",
            "description: Changed.",
            1,
        )
        .replace("  name: Derby City Council\n", "  name: Derby City Council (changed)\n", 1),
        encoding="utf-8",
    )
    code, out, err = _run(
        "export", "--format", "json", "--file", str(EXAMPLE), "--file", str(changed)
    )
    assert code == 0
    assert (
        "warning: organisations 'derby-city-council' is declared differently by register "
        "allestree-woodlands and by register school-transition-limited; register "
        "allestree-woodlands's is read"
    ) in err
    assert "Derby City Council (changed)" not in out
    code, _, err = _run("validate", str(EXAMPLE), str(EXAMPLE))
    assert code == 1
    assert "register allestree-woodlands is given twice" in err
