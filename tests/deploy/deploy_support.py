"""Helpers for the deployment checks: the pinned helm binary and the chart rendered offline.

Helm comes from the HELM_BIN environment variable (the Makefile builds a pinned version into the
cache and exports its path). Nothing here talks to a Kubernetes cluster.

Kept out of a conftest.py on purpose: test folders have no __init__.py, and a second module named
`conftest` would clash with tests/conftest.py for mypy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "helm" / "ropa"
PRODUCTION_VALUES = CHART / "ci" / "production-values.yaml"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# The Kubernetes version the manifests are rendered for and validated against, with the schemas
# that kubernetes-validate ships (offline).
KUBE_VERSION = "1.30.0"

# Secrets of the "inline" rendering, given in values so that the tests can look for them in
# places where they must never appear.
NEO4J_PASSWORD = "Inline-Neo4j-Passw0rd-4711"
TOKEN_SHA256 = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"

INLINE_SETS = (
    f"neo4j.internal.auth.password={NEO4J_PASSWORD}",
    "auth.tokens[0].name=dpo-allestree",
    "auth.tokens[0].role=dpo",
    f"auth.tokens[0].sha256={TOKEN_SHA256}",
    "ropaDocument.enabled=true",
    "ropaDocument.content=organisation: Allestree Woodlands School",
    "ingress.enabled=true",
    "ingress.host=ropa.example.org",
    "registry.autoscaling.enabled=false",
    "registry.replicaCount=3",
)

Manifest = dict[str, Any]


class HelmError(Exception):
    """helm exited non-zero; the message is what it printed."""


def helm_binary() -> Path:
    """The helm named by HELM_BIN; an AssertionError with the remedy when it is missing."""
    raw = os.environ.get("HELM_BIN", "")
    assert raw, (
        "HELM_BIN is not set. The deployment tests need the pinned helm binary: run them through "
        "`make test` (which builds it with `make helm`), or set HELM_BIN to its path."
    )
    binary = Path(raw)
    usable = binary.is_file() and os.access(binary, os.X_OK)
    assert usable, f"HELM_BIN={raw} is not an executable file; build it with `make helm`."
    return binary


@dataclass(frozen=True)
class Helm:
    binary: Path
    home: Path

    def run(self, *args: str) -> str:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(self.home),
            "HELM_CACHE_HOME": str(self.home / "cache"),
            "HELM_CONFIG_HOME": str(self.home / "config"),
            "HELM_DATA_HOME": str(self.home / "data"),
        }
        proc = subprocess.run(
            [str(self.binary), *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if proc.returncode != 0:
            raise HelmError(f"{proc.stderr.strip()}\n{proc.stdout.strip()}".strip())
        return proc.stdout

    def template_text(
        self,
        *,
        values: Sequence[Path] = (),
        sets: Sequence[str] = (),
        release: str = "ropa",
        namespace: str = "ropa",
        chart: Path = CHART,
        show_only: str | None = None,
    ) -> str:
        args = ["template", release, str(chart), "--namespace", namespace]
        args += ["--kube-version", KUBE_VERSION]
        for path in values:
            args += ["--values", str(path)]
        for item in sets:
            args += ["--set", item]
        if show_only is not None:
            args += ["--show-only", show_only]
        return self.run(*args)

    def template(
        self,
        *,
        values: Sequence[Path] = (),
        sets: Sequence[str] = (),
        release: str = "ropa",
        namespace: str = "ropa",
        chart: Path = CHART,
        show_only: str | None = None,
    ) -> list[Manifest]:
        return parse_manifests(
            self.template_text(
                values=values,
                sets=sets,
                release=release,
                namespace=namespace,
                chart=chart,
                show_only=show_only,
            )
        )

    def notes(self, workdir: Path, *, sets: Sequence[str] = (), values: Sequence[Path] = ()) -> str:
        """NOTES.txt rendered offline (helm template omits it): a copy of the chart gets one more
        template that puts NOTES.txt into a ConfigMap, and only that template is shown."""
        copy = workdir / "ropa"
        if not copy.exists():
            shutil.copytree(CHART, copy)
            (copy / "templates" / "zz-notes-probe.yaml").write_text(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes-probe\ndata:\n"
                '  notes: {{ include "ropa/templates/NOTES.txt" . | quote }}\n'
            )
        docs = self.template(
            chart=copy, sets=sets, values=values, show_only="templates/zz-notes-probe.yaml"
        )
        assert len(docs) == 1, docs
        text = docs[0]["data"]["notes"]
        assert isinstance(text, str)
        return text


def parse_manifests(text: str) -> list[Manifest]:
    yaml = YAML(typ="safe", pure=True)
    docs = [doc for doc in yaml.load_all(text) if doc is not None]
    for doc in docs:
        assert isinstance(doc, dict), f"rendered document is not a mapping: {doc!r}"
    return docs


@dataclass(frozen=True)
class Rendering:
    name: str
    manifests: list[Manifest]

    def of_kind(self, kind: str) -> list[Manifest]:
        return [m for m in self.manifests if m["kind"] == kind]

    def one(self, kind: str, name_suffix: str) -> Manifest:
        found = [m for m in self.of_kind(kind) if m["metadata"]["name"].endswith(name_suffix)]
        names = [m["metadata"]["name"] for m in self.of_kind(kind)]
        assert len(found) == 1, f"{self.name}: expected one {kind} *{name_suffix}, have {names}"
        return found[0]

    def kinds(self) -> set[str]:
        return {m["kind"] for m in self.manifests}


WORKLOAD_KINDS = ("Deployment", "StatefulSet", "Job")


def pod_templates(render: Rendering) -> Iterator[tuple[str, Manifest]]:
    """("Kind/name", pod template) for every workload of a rendering."""
    for manifest in render.manifests:
        if manifest["kind"] in WORKLOAD_KINDS:
            yield f"{manifest['kind']}/{manifest['metadata']['name']}", manifest["spec"]["template"]


def all_containers(pod_spec: Manifest) -> list[Manifest]:
    """Init containers and containers of a pod spec."""
    return [*pod_spec.get("initContainers", []), *pod_spec["containers"]]


def labels_match(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def env_of(container: Manifest) -> dict[str, Manifest]:
    return {item["name"]: item for item in container.get("env", [])}
