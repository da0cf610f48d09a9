"""The Helm chart (helm/ropa), linted and rendered offline with the pinned helm, every manifest
validated against the Kubernetes schemas, and the properties the deployment promises asserted
over the rendered YAML."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import kubernetes_validate  # type: ignore[import-untyped]
import pytest
from ruamel.yaml import YAML

from services.cli.main import cli
from services.registry.limits_settings import LimitSettings

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
    "auth.tokens[0].registers[0]=allestree-woodlands",
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
    """The helm named by HELM_BIN (the Makefile builds a pinned version and exports its path).
    Missing helm fails the tests: they are part of `make test`, never silently skipped."""
    raw = os.environ.get("HELM_BIN", "")
    if not raw:
        pytest.fail(
            "HELM_BIN is not set. The deployment tests need the pinned helm binary: run them "
            "through `make test` (which builds it with `make helm`), or set HELM_BIN to its path."
        )
    binary = Path(raw)
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        pytest.fail(f"HELM_BIN={raw} is not an executable file; build it with `make helm`.")
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
        set_files: Sequence[str] = (),
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
        for item in set_files:
            args += ["--set-file", item]
        if show_only is not None:
            args += ["--show-only", show_only]
        return self.run(*args)

    def template(
        self,
        *,
        values: Sequence[Path] = (),
        sets: Sequence[str] = (),
        set_files: Sequence[str] = (),
        release: str = "ropa",
        namespace: str = "ropa",
        chart: Path = CHART,
        show_only: str | None = None,
    ) -> list[Manifest]:
        return parse_manifests(
            self.template_text(
                values=values,
                sets=sets,
                set_files=set_files,
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


def cli_rejects(argv: Sequence[str]) -> str | None:
    """Why the `ropa` CLI would refuse these arguments (None when it accepts them). Parses them
    the way `ropa` does, down to the sub-command's choices and types, without running anything."""
    if not argv:
        return "no sub-command"
    group_ctx = click.Context(cli, info_name="ropa")
    command = cli.get_command(group_ctx, argv[0])
    if command is None:
        return f"ropa has no command {argv[0]!r}"
    try:
        command.make_context(argv[0], list(argv[1:]), parent=group_ctx).close()
    except click.ClickException as error:
        return f"ropa {' '.join(argv)}: {error.format_message()}"
    return None


RENDERS = ("default", "production", "inline")


@pytest.fixture(scope="module")
def helm(tmp_path_factory: pytest.TempPathFactory) -> Helm:
    return Helm(binary=helm_binary(), home=tmp_path_factory.mktemp("helm-home"))


@pytest.fixture(scope="module")
def rendered(helm: Helm) -> dict[str, Rendering]:
    """default: the chart's own Neo4j; production: external cluster, TLS ingress, several
    replicas; inline: internal Neo4j with password and token hashes in values, a ROPA document."""
    return {
        "default": Rendering("default", helm.template()),
        "production": Rendering("production", helm.template(values=[PRODUCTION_VALUES])),
        "inline": Rendering("inline", helm.template(sets=INLINE_SETS)),
    }


@pytest.fixture(params=RENDERS)
def render(request: pytest.FixtureRequest, rendered: dict[str, Rendering]) -> Rendering:
    result: Rendering = rendered[request.param]
    return result


def chart_values() -> dict[str, Any]:
    values = YAML(typ="safe", pure=True).load(CHART / "values.yaml")
    assert isinstance(values, dict)
    return values


def ropa_pods(render: Rendering) -> list[tuple[str, Manifest]]:
    """Pod templates running the ropa image: everything but the Neo4j StatefulSet."""
    return [
        (name, pod) for name, pod in pod_templates(render) if not name.startswith("StatefulSet/")
    ]


# --- lint and render ---------------------------------------------------------------------------


@pytest.mark.parametrize("values", [None, PRODUCTION_VALUES], ids=["default", "production"])
def test_helm_lint_strict_passes(helm: Helm, values: Path | None) -> None:
    args = ["lint", str(CHART), "--strict"]
    if values is not None:
        args += ["--values", str(values)]
    out = helm.run(*args)
    assert "0 chart(s) failed" in out, out
    assert "[WARNING]" not in out, out
    assert "[ERROR]" not in out, out


def test_rendered_kinds(rendered: dict[str, Rendering]) -> None:
    default, production = rendered["default"], rendered["production"]
    assert default.kinds() == {
        "ServiceAccount",
        "Secret",
        "Service",
        "Deployment",
        "StatefulSet",
        "Job",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "NetworkPolicy",
    }
    # External Neo4j: no database of the chart's own, nothing of it to protect, an Ingress.
    assert production.kinds() == {
        "ServiceAccount",
        "Service",
        "Deployment",
        "Job",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "Ingress",
    }
    assert {m["metadata"]["name"] for m in default.of_kind("Deployment")} == {
        "ropa-registry",
        "ropa-notifier",
    }
    assert {m["metadata"]["name"] for m in production.of_kind("Job")} == {
        "ropa-migrate",
        "ropa-apply",
    }
    inline = rendered["inline"]
    assert {m["metadata"]["name"] for m in inline.of_kind("ConfigMap")} == {"ropa-ropa-document"}


def test_every_manifest_validates_against_kubernetes_schemas(render: Rendering) -> None:
    errors = []
    for manifest in render.manifests:
        name = f"{manifest['kind']}/{manifest['metadata']['name']}"
        try:
            kubernetes_validate.validate(manifest, KUBE_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(item) for item in error.path)
            errors.append(f"{name}: {path}: {error.message}")
    assert not errors, f"{render.name}: " + "\n".join(errors)


def test_schema_validation_catches_a_broken_manifest(rendered: dict[str, Rendering]) -> None:
    """Control for the check above: the validator does reject a wrong type and a misspelt key."""
    deployment = json.loads(json.dumps(rendered["default"].one("Deployment", "-registry")))
    deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "http"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBE_VERSION, strict=True)
    service = json.loads(json.dumps(rendered["default"].one("Service", "-registry")))
    service["spec"]["selectr"] = service["spec"].pop("selector")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(service, KUBE_VERSION, strict=True)


# --- the schema rejects wrong values at install time -------------------------------------------


def test_invalid_values_file_fails_helm_template(helm: Helm) -> None:
    with pytest.raises(HelmError) as caught:
        helm.template(values=[FIXTURES / "invalid-values.yaml"])
    message = str(caught.value)
    assert "values don't meet the specifications of the schema" in message
    # Each mistake of the fixture is named by its path.
    for fragment in (
        "registry.replicaCount: Invalid type. Expected: integer, given: string",
        "notifier.replicaCount: Must be less than or equal to 1",
        "neo4j.external.uri: Does not match pattern",
        "neo4j.external.existingSecret: String length must be greater than or equal to 1",
        "Additional property registy is not allowed",
    ):
        assert fragment in message, message


@pytest.mark.parametrize(
    ("sets", "fragment"),
    [
        (["image.repository="], "image.repository: String length must be greater than"),
        (["environment=staging"], "environment: environment must be one of"),
        (["neo4j.mode=aura"], "neo4j.mode: neo4j.mode must be one of"),
        (["ingress.enabled=true", "ingress.host="], "ingress.host: String length"),
        (["registry.resources.limits=null"], "registry.resources: limits is required"),
        (
            ["containerSecurityContext.readOnlyRootFilesystem=false"],
            "containerSecurityContext.readOnlyRootFilesystem does not match: true",
        ),
        (["podSecurityContext.runAsUser=0"], "podSecurityContext.runAsUser: Must be greater"),
        (
            ["auth.tokens[0].name=a", "auth.tokens[0].role=dpo", "auth.tokens[0].sha256=abc"],
            "auth.tokens.0.sha256: Does not match pattern",
        ),
        (
            [
                "auth.tokens[0].name=a",
                "auth.tokens[0].role=owner",
                f"auth.tokens[0].sha256={TOKEN_SHA256}",
            ],
            "auth.tokens.0.role",
        ),
        (
            [
                "auth.tokens[0].name=a",
                "auth.tokens[0].role=dpo",
                f"auth.tokens[0].sha256={TOKEN_SHA256}",
            ],
            "registers",
        ),
        (["neo4j.internal.auth.password=short"], "neo4j.internal.auth.password: Does not match"),
        (["ropaDocument.enabled=true"], "ropaDocument: Must validate at least one schema"),
        (["neo4j.internal.memory.heapMaxSize=lots"], "heapMaxSize: Does not match pattern"),
        # Rules JSON Schema cannot express, checked by the templates.
        (["registry.autoscaling.minReplicas=9"], "must not exceed registry.autoscaling.max"),
        (
            ["ingress.enabled=true", "ingress.tls.enabled=true"],
            "ingress.tls.secretName is required",
        ),
        (["mail.smtp.host=smtp.example.org"], "publicUrl is required when mail.smtp.host"),
        (
            ["mail.smtp.host=smtp.example.org", "publicUrl=https://r.example", "mail.smtp.user=u"],
            "mail.smtp.existingSecret is required",
        ),
        (["mail.smtp.port=0"], "mail.smtp.port: Must be greater than or equal to 1"),
        (["publicUrl=ftp://r.example"], "publicUrl: Does not match pattern"),
        (
            [
                "auth.existingSecret=t",
                "auth.tokens[0].name=a",
                "auth.tokens[0].role=dpo",
                f"auth.tokens[0].sha256={TOKEN_SHA256}",
                "auth.tokens[0].registers[0]=a",
            ],
            "mutually exclusive",
        ),
    ],
)
def test_wrong_value_fails_with_a_clear_message(helm: Helm, sets: list[str], fragment: str) -> None:
    with pytest.raises(HelmError) as caught:
        helm.template(sets=sets)
    assert fragment in str(caught.value), str(caught.value)


def test_external_uri_schemes_accepted(helm: Helm) -> None:
    for uri in (
        "bolt://neo4j.db.svc:7687",
        "neo4j://cluster.db.svc.cluster.local:7687",
        "neo4j+s://abcd1234.databases.neo4j.io",
    ):
        manifests = helm.template(
            sets=[
                "neo4j.mode=external",
                f"neo4j.external.uri={uri}",
                "neo4j.external.existingSecret=creds",
            ]
        )
        registry = Rendering(uri, manifests).one("Deployment", "-registry")
        env = env_of(registry["spec"]["template"]["spec"]["containers"][0])
        assert env["NEO4J_URI"]["value"] == uri


# --- probes, resources, security ---------------------------------------------------------------


@pytest.mark.parametrize("component", ["registry", "notifier"])
def test_service_probes(render: Rendering, component: str) -> None:
    deployment = render.one("Deployment", f"-{component}")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    port_names = {port["name"] for port in container["ports"]}
    for probe, path in (
        ("livenessProbe", "/healthz"),
        ("readinessProbe", "/readyz"),
        ("startupProbe", "/healthz"),
    ):
        http = container[probe]["httpGet"]
        assert http["path"] == path, (component, probe)
        assert http["port"] in port_names, (component, probe, http["port"])


def test_neo4j_probes_on_bolt(rendered: dict[str, Rendering]) -> None:
    statefulset = rendered["default"].one("StatefulSet", "-neo4j")
    (container,) = statefulset["spec"]["template"]["spec"]["containers"]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports["bolt"] == 7687
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert container[probe]["tcpSocket"]["port"] == "bolt"


def test_every_container_has_requests_and_limits(render: Rendering) -> None:
    for name, pod in pod_templates(render):
        for container in all_containers(pod["spec"]):
            resources = container.get("resources", {})
            for kind in ("requests", "limits"):
                for resource in ("cpu", "memory"):
                    assert resource in resources.get(kind, {}), (
                        f"{render.name} {name} {container['name']}: no {kind}.{resource}"
                    )


def test_pod_and_container_security_context(render: Rendering) -> None:
    for name, pod in pod_templates(render):
        spec = pod["spec"]
        where = f"{render.name} {name}"
        pod_context = spec["securityContext"]
        assert pod_context["runAsNonRoot"] is True, where
        assert pod_context["runAsUser"] > 0, where
        assert pod_context["seccompProfile"]["type"] == "RuntimeDefault", where
        assert spec["automountServiceAccountToken"] is False, where
        assert spec["enableServiceLinks"] is False, where
        assert not spec.get("hostNetwork"), where
        assert not spec.get("hostPID"), where
        for container in all_containers(spec):
            context = container["securityContext"]
            cwhere = f"{where} {container['name']}"
            assert context["runAsNonRoot"] is True, cwhere
            assert context["allowPrivilegeEscalation"] is False, cwhere
            assert context["readOnlyRootFilesystem"] is True, cwhere
            assert context.get("privileged", False) is False, cwhere
            assert context["capabilities"]["drop"] == ["ALL"], cwhere
            assert not context["capabilities"].get("add"), cwhere
            assert context.get("runAsUser", 1) != 0, cwhere


def test_writable_paths_are_empty_dirs(render: Rendering) -> None:
    """With a read-only root filesystem every ropa container gets /tmp from an emptyDir."""
    pods = ropa_pods(render)
    assert pods
    for name, pod in pods:
        volumes = {volume["name"]: volume for volume in pod["spec"].get("volumes", [])}
        for container in pod["spec"]["containers"]:
            mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
            assert "/tmp" in mounts, (name, container["name"])
            assert "emptyDir" in volumes[mounts["/tmp"]], (name, container["name"])


def test_neo4j_writable_paths(rendered: dict[str, Rendering]) -> None:
    """Neo4j's entrypoint writes its configuration: conf is an emptyDir filled by an init
    container from the image, data is the persistent volume."""
    statefulset = rendered["default"].one("StatefulSet", "-neo4j")
    spec = statefulset["spec"]["template"]["spec"]
    volumes = {volume["name"]: volume for volume in spec["volumes"]}
    (container,) = spec["containers"]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    for path in ("/var/lib/neo4j/conf", "/logs", "/tmp", "/run"):
        assert "emptyDir" in volumes[mounts[path]], path
    (claim,) = statefulset["spec"]["volumeClaimTemplates"]
    assert mounts["/data"] == claim["metadata"]["name"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "10Gi"
    (init,) = spec["initContainers"]
    init_mounts = {m["name"]: m["mountPath"] for m in init["volumeMounts"]}
    assert init["command"] == [
        "cp",
        "-R",
        "/var/lib/neo4j/conf/.",
        init_mounts[mounts["/var/lib/neo4j/conf"]] + "/",
    ]
    assert init["image"] == container["image"]


# --- commands, environment and secrets ---------------------------------------------------------


def test_containers_run_the_ropa_commands(render: Rendering) -> None:
    known = {
        ("serve", "registry"): "Deployment/ropa-registry",
        ("serve", "notifier"): "Deployment/ropa-notifier",
        ("migrate",): "Job/ropa-migrate",
        ("apply",): "Job/ropa-apply",
    }
    seen = set()
    for name, pod in ropa_pods(render):
        (container,) = pod["spec"]["containers"]
        assert container["command"] == ["ropa"], name
        args = container["args"]
        assert cli_rejects(args) is None, (name, cli_rejects(args))
        key = tuple(args[:2]) if args[0] == "serve" else (args[0],)
        assert known.get(key) == name, (name, args)
        seen.add(key)
        if args[0] == "serve":
            port = container["ports"][0]["containerPort"]
            assert args[2:6] == ["--host", "0.0.0.0", "--port", str(port)], args
            # The registry runs as many uvicorn workers as `registry.workers` says (default 1).
            assert args[6:] == (["--workers", "1"] if args[1] == "registry" else []), args
    assert {("serve", "registry"), ("serve", "notifier"), ("migrate",)} <= seen


def test_neo4j_connection_environment(rendered: dict[str, Rendering]) -> None:
    default, production = rendered["default"], rendered["production"]
    for name, pod in ropa_pods(default):
        env = env_of(pod["spec"]["containers"][0])
        assert env["NEO4J_URI"]["value"] == "bolt://ropa-neo4j.ropa.svc:7687", name
        assert env["NEO4J_USER"]["value"] == "neo4j", name
        ref = env["NEO4J_PASSWORD"]["valueFrom"]["secretKeyRef"]
        assert (ref["name"], ref["key"]) == ("ropa-neo4j-auth", "password"), name
        assert env["ROPA_ENV"]["value"] == "production"
    # The secret the pods read is the one the chart creates, with that key.
    secret = default.one("Secret", "-neo4j-auth")
    assert "password" in secret["data"]
    for name, pod in ropa_pods(production):
        env = env_of(pod["spec"]["containers"][0])
        assert env["NEO4J_URI"]["value"] == "neo4j://neo4j-cluster.neo4j.svc.cluster.local:7687"
        assert env["NEO4J_DATABASE"]["value"] == "ropa"
        for variable, key in (("NEO4J_USER", "username"), ("NEO4J_PASSWORD", "password")):
            ref = env[variable]["valueFrom"]["secretKeyRef"]
            assert (ref["name"], ref["key"]) == ("ropa-neo4j-credentials", key), name


def test_tokens_file_is_mounted_from_a_secret(rendered: dict[str, Rendering]) -> None:
    for render_name, secret_name, key in (
        ("production", "ropa-dpo-tokens", "tokens.json"),
        ("inline", "ropa-tokens", "tokens.json"),
    ):
        render = rendered[render_name]
        pod = render.one("Deployment", "-registry")["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        path = env_of(container)["ROPA_TOKENS_FILE"]["value"]
        directory, filename = path.rsplit("/", 1)
        mount = next(m for m in container["volumeMounts"] if m["mountPath"] == directory)
        volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
        assert volume["secret"]["secretName"] == secret_name, render_name
        assert filename == key
        assert "ROPA_TOKENS" not in env_of(container), "hashes belong in the file, not in env"
    inline_secret = rendered["inline"].one("Secret", "-tokens")
    tokens = json.loads(base64.b64decode(inline_secret["data"]["tokens.json"]))
    assert tokens == [
        {
            "name": "dpo-allestree",
            "role": "dpo",
            "sha256": TOKEN_SHA256,
            "registers": ["allestree-woodlands"],
        }
    ]
    # Without tokens the registry gets no tokens file (read-only API).
    default_pod = rendered["default"].one("Deployment", "-registry")["spec"]["template"]["spec"]
    assert "ROPA_TOKENS_FILE" not in env_of(default_pod["containers"][0])


def test_secrets_never_in_configmaps_or_plain_env(rendered: dict[str, Rendering]) -> None:
    inline = rendered["inline"]
    # Control: the secrets are in the rendering, in Secrets.
    secrets_text = json.dumps(inline.of_kind("Secret"))
    assert base64.b64encode(NEO4J_PASSWORD.encode()).decode() in secrets_text
    for render in rendered.values():
        for configmap in render.of_kind("ConfigMap"):
            text = json.dumps(configmap)
            assert NEO4J_PASSWORD not in text, configmap
            assert TOKEN_SHA256 not in text, configmap
            for key in configmap.get("data", {}):
                assert not any(word in key.lower() for word in ("password", "token", "secret"))
        for name, pod in pod_templates(render):
            for container in all_containers(pod["spec"]):
                for item in container.get("env", []):
                    value = str(item.get("value", ""))
                    assert NEO4J_PASSWORD not in value, (name, item)
                    if any(word in item["name"] for word in ("PASSWORD", "TOKENS")) and not item[
                        "name"
                    ].endswith("_FILE"):
                        assert "secretKeyRef" in item.get("valueFrom", {}), (name, item)


def test_notes_print_no_secret(helm: Helm, tmp_path: Path) -> None:
    notes = helm.notes(tmp_path, sets=INLINE_SETS)
    assert "ropa-neo4j-auth" in notes  # it says where the password is ...
    assert NEO4J_PASSWORD not in notes  # ... but never what it is
    assert TOKEN_SHA256 not in notes
    assert "https://" not in notes
    assert "http://ropa.example.org/graphql" in notes
    production = helm.notes(tmp_path, values=[PRODUCTION_VALUES])
    assert "https://ropa.derby.example.gov.uk/graphql" in production
    assert "ropa-neo4j-credentials" in production


def test_neo4j_statefulset(rendered: dict[str, Rendering]) -> None:
    statefulset = rendered["inline"].one("StatefulSet", "-neo4j")
    assert statefulset["spec"]["replicas"] == 1
    spec = statefulset["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    assert container["image"] == "neo4j:5.26.12-community"
    env = container["env"]
    names = [item["name"] for item in env]
    by_name = env_of(container)
    # NEO4J_AUTH is built from the secret by Kubernetes' $(VAR) expansion, which only sees
    # variables defined earlier in the list.
    assert by_name["NEO4J_AUTH"]["value"] == "neo4j/$(ROPA_NEO4J_PASSWORD)"
    assert names.index("ROPA_NEO4J_PASSWORD") < names.index("NEO4J_AUTH")
    ref = by_name["ROPA_NEO4J_PASSWORD"]["valueFrom"]["secretKeyRef"]
    assert ref == {"name": "ropa-neo4j-auth", "key": "password"}
    values = chart_values()["neo4j"]["internal"]["memory"]
    assert by_name["NEO4J_server_memory_heap_max__size"]["value"] == values["heapMaxSize"]
    assert by_name["NEO4J_server_memory_heap_initial__size"]["value"] == values["heapInitialSize"]
    assert by_name["NEO4J_server_memory_pagecache_size"]["value"] == values["pagecacheSize"]
    # Every other NEO4J_* variable is a setting for the image's entrypoint: server.* names only.
    for name in names:
        if name.startswith("NEO4J_") and name != "NEO4J_AUTH":
            assert name.startswith("NEO4J_server_"), name
    assert spec["securityContext"]["runAsUser"] == 7474
    assert spec["securityContext"]["fsGroup"] == 7474
    secret = rendered["inline"].one("Secret", "-neo4j-auth")
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"


# --- hooks --------------------------------------------------------------------------------------


def test_migration_job_is_a_hook(rendered: dict[str, Rendering]) -> None:
    for render_name, events in (
        # External Neo4j: migrate before anything of the release changes.
        ("production", {"pre-install", "pre-upgrade"}),
        # The chart's own Neo4j does not exist before install: migrate right after it is created
        # (the pods migrate too, before they start: `helm install --wait` runs post-install
        # hooks only once they are ready).
        ("default", {"post-install", "pre-upgrade"}),
    ):
        job = rendered[render_name].one("Job", "-migrate")
        annotations = job["metadata"]["annotations"]
        assert set(annotations["helm.sh/hook"].split(",")) == events, render_name
        policy = set(annotations["helm.sh/hook-delete-policy"].split(","))
        assert "before-hook-creation" in policy
        spec = job["spec"]["template"]["spec"]
        assert spec["restartPolicy"] == "Never"
        assert spec["containers"][0]["args"] == ["migrate"]
        # A pre-install hook runs before the release's ServiceAccount exists.
        assert spec["serviceAccountName"] == "default"


@pytest.mark.parametrize("component", ["registry", "notifier"])
def test_services_migrate_before_they_start_with_the_charts_neo4j(
    render: Rendering, component: str
) -> None:
    """/readyz is 503 until Neo4j is reachable and every migration is applied, and
    `helm install --wait` waits for the pods before it runs post-install hooks: with the chart's
    own Neo4j each pod waits for Bolt and runs `ropa migrate` itself before its main container."""
    pod = render.one("Deployment", f"-{component}")["spec"]["template"]["spec"]
    (main,) = pod["containers"]
    if render.name == "production":
        # External Neo4j: the pre-install/pre-upgrade Job has migrated before any pod starts.
        assert "initContainers" not in pod
        return
    wait, migrate = pod["initContainers"]
    where = f"{render.name} {component}"
    # First the wait for the chart's Neo4j Service on its Bolt port ...
    assert wait["name"] == "wait-for-neo4j", where
    service = render.one("Service", "-neo4j")
    bolt = next(port for port in service["spec"]["ports"] if port["name"] == "bolt")
    assert wait["command"][:2] == ["python", "-c"], where
    assert f'("{service["metadata"]["name"]}", {bolt["port"]})' in wait["command"][2], where
    # ... the very step the migration Job waits with.
    job_wait = render.one("Job", "-migrate")["spec"]["template"]["spec"]["initContainers"][0]
    assert wait["command"] == job_wait["command"], where
    # ... then the migration, accepted by the real CLI.
    assert migrate["name"] == "migrate", where
    assert migrate["command"] == ["ropa"], where
    assert migrate["args"] == ["migrate"], where
    assert cli_rejects(migrate["args"]) is None, where
    for container in (wait, migrate):
        cwhere = f"{where} {container['name']}"
        assert container["image"] == main["image"], cwhere
        assert container["imagePullPolicy"] == main["imagePullPolicy"], cwhere
        assert container["resources"] == main["resources"], cwhere
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(container["resources"][kind]), cwhere
        assert container["securityContext"] == main["securityContext"], cwhere
        context = container["securityContext"]
        assert context["runAsNonRoot"] is True, cwhere
        assert context["readOnlyRootFilesystem"] is True, cwhere
        assert context["allowPrivilegeEscalation"] is False, cwhere
        assert context["capabilities"]["drop"] == ["ALL"], cwhere
        assert not context["capabilities"].get("add"), cwhere
    # The migration connects the way the service does: same NEO4J_* (password from the Secret).
    env, main_env = env_of(migrate), env_of(main)
    for variable in ("ROPA_ENV", "NEO4J_URI", "NEO4J_DATABASE", "NEO4J_USER", "TMPDIR"):
        assert env[variable] == main_env[variable], (where, variable)
    assert env["NEO4J_URI"]["value"] == "bolt://ropa-neo4j.ropa.svc:7687", where
    assert env["NEO4J_PASSWORD"] == main_env["NEO4J_PASSWORD"], where
    ref = env["NEO4J_PASSWORD"]["valueFrom"]["secretKeyRef"]
    assert (ref["name"], ref["key"]) == ("ropa-neo4j-auth", "password"), where
    # /tmp from the pod's emptyDir, like the main container.
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in migrate["volumeMounts"]}
    main_mounts = {m["mountPath"]: m["name"] for m in main["volumeMounts"]}
    assert mounts["/tmp"] == main_mounts["/tmp"], where
    assert "emptyDir" in volumes[mounts["/tmp"]], where


def test_no_deployment_waits_on_a_post_install_migration(rendered: dict[str, Rendering]) -> None:
    """Under `helm install --wait` no Deployment may need a post-install hook to turn ready:
    every pod needing the schema migrates it itself, or starts after a pre-install migration."""
    for render_name in RENDERS:
        render = rendered[render_name]
        annotations = render.one("Job", "-migrate")["metadata"]["annotations"]
        events = set(annotations["helm.sh/hook"].split(","))
        assert "pre-upgrade" in events, render_name
        for deployment in render.of_kind("Deployment"):
            init = deployment["spec"]["template"]["spec"].get("initContainers", [])
            migrates = any(container.get("args") == ["migrate"] for container in init)
            name = deployment["metadata"]["name"]
            assert migrates or "pre-install" in events, (render_name, name)


def test_apply_job_runs_after_the_migration(rendered: dict[str, Rendering]) -> None:
    for render_name in ("production", "inline"):
        render = rendered[render_name]
        job = render.one("Job", "-apply")
        annotations = job["metadata"]["annotations"]
        assert set(annotations["helm.sh/hook"].split(",")) == {"post-install", "post-upgrade"}
        migrate = render.one("Job", "-migrate")["metadata"]["annotations"]
        assert int(annotations["helm.sh/hook-weight"]) > int(migrate["helm.sh/hook-weight"])
        # At install and at upgrade a migration hook comes first: an earlier phase, or the same
        # phase with the lower weight (Helm waits for each weight's Jobs to complete).
        migrate_events = set(migrate["helm.sh/hook"].split(","))
        assert migrate_events & {"pre-install", "post-install"}, render_name
        assert "pre-upgrade" in migrate_events, render_name
        spec = job["spec"]["template"]["spec"]
        (container,) = spec["containers"]
        assert container["args"][0] == "apply"
        assert container["args"][2] == "--actor"
        document = container["args"][1]
        directory, key = document.rsplit("/", 1)
        mount = next(m for m in container["volumeMounts"] if m["mountPath"] == directory)
        volume = next(v for v in spec["volumes"] if v["name"] == mount["name"])
        configmap_name = volume["configMap"]["name"]
        assert volume["configMap"]["items"] == [{"key": key, "path": key}]
        if render_name == "inline":
            configmap = render.one("ConfigMap", "-ropa-document")
            assert configmap["metadata"]["name"] == configmap_name
            assert configmap["data"][key] == "organisation: Allestree Woodlands School"
        else:
            assert configmap_name == "ropa-document"
            assert not render.of_kind("ConfigMap")


def test_further_documents_are_applied_with_it_each_its_own_register(helm: Helm) -> None:
    """`ropaDocument.more`: the processor's own register beside the school's, in one apply."""
    school = REPO / "examples" / "allestree-woodlands.yaml"
    stl = REPO / "examples" / "school-transition-limited.yaml"
    render = Rendering(
        "more",
        helm.template(
            sets=["ropaDocument.enabled=true"],
            set_files=[
                f"ropaDocument.content={school}",
                f"ropaDocument.more.school-transition-limited\\.yaml={stl}",
            ],
        ),
    )
    configmap = render.one("ConfigMap", "-ropa-document")
    assert configmap["data"]["school-transition-limited.yaml"] == stl.read_text()
    (job,) = [j for j in render.of_kind("Job") if j["metadata"]["name"].endswith("-apply")]
    pod = job["spec"]["template"]["spec"]
    assert pod["containers"][0]["args"] == [
        "apply",
        "/etc/ropa/document/ropa.yaml",
        "/etc/ropa/document/school-transition-limited.yaml",
        "--actor",
        "helm",
    ]
    (volume,) = [v for v in pod["volumes"] if v["name"] == "document"]
    assert [i["key"] for i in volume["configMap"]["items"]] == [
        "ropa.yaml",
        "school-transition-limited.yaml",
    ]


def test_ropa_document_reaches_the_job_byte_for_byte(helm: Helm) -> None:
    """The shipped example, passed with --set-file as the README says, arrives unchanged."""
    example = REPO / "examples" / "allestree-woodlands.yaml"
    render = Rendering(
        "example",
        helm.template(
            sets=["ropaDocument.enabled=true"],
            set_files=[f"ropaDocument.content={example}"],
        ),
    )
    configmap = render.one("ConfigMap", "-ropa-document")
    assert configmap["data"]["ropa.yaml"] == example.read_text()
    kubernetes_validate.validate(configmap, KUBE_VERSION, strict=True)


# --- selectors: services, autoscaler, disruption budget, network policy -------------------------


def test_service_selectors_match_their_pods(render: Rendering) -> None:
    pods = {name: pod for name, pod in pod_templates(render) if not name.startswith("Job/")}
    for service in render.of_kind("Service"):
        selector = service["spec"]["selector"]
        matched = [
            name for name, pod in pods.items() if labels_match(selector, pod["metadata"]["labels"])
        ]
        assert len(matched) == 1, (service["metadata"]["name"], matched)
        pod = pods[matched[0]]
        port_names = {p["name"] for c in pod["spec"]["containers"] for p in c["ports"]}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in port_names, (service["metadata"]["name"], port)


def test_registry_scaling(render: Rendering) -> None:
    deployment = render.one("Deployment", "-registry")
    hpas = render.of_kind("HorizontalPodAutoscaler")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    if render.name == "inline":
        assert hpas == []
        assert deployment["spec"]["replicas"] == 3
    else:
        (hpa,) = hpas
        target = hpa["spec"]["scaleTargetRef"]
        assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
        # The autoscaler owns the count: the Deployment must not fight it on every upgrade.
        assert "replicas" not in deployment["spec"]
        assert hpa["spec"]["minReplicas"] >= (3 if render.name == "production" else 2)
    pdb = render.one("PodDisruptionBudget", "-registry")
    assert labels_match(pdb["spec"]["selector"]["matchLabels"], labels)
    notifier = render.one("Deployment", "-notifier")
    assert not labels_match(
        pdb["spec"]["selector"]["matchLabels"], notifier["spec"]["template"]["metadata"]["labels"]
    )


def test_notifier_is_a_single_recreated_replica(render: Rendering) -> None:
    notifier = render.one("Deployment", "-notifier")
    assert notifier["spec"]["replicas"] == 1
    assert notifier["spec"]["strategy"] == {"type": "Recreate"}


def test_network_policy_admits_only_the_services(rendered: dict[str, Rendering]) -> None:
    for render_name in ("default", "inline"):
        render = rendered[render_name]
        (policy,) = render.of_kind("NetworkPolicy")
        spec = policy["spec"]
        assert spec["policyTypes"] == ["Ingress"]
        pods = dict(pod_templates(render))
        selected = [
            name
            for name, pod in pods.items()
            if labels_match(spec["podSelector"]["matchLabels"], pod["metadata"]["labels"])
        ]
        assert selected == ["StatefulSet/ropa-neo4j"], selected
        (rule,) = spec["ingress"]
        assert rule["ports"] == [{"port": 7687, "protocol": "TCP"}]
        peers = rule["from"]
        assert peers, "an empty from list admits everyone"
        for peer in peers:
            assert set(peer) == {"podSelector"}, "no namespaceSelector or ipBlock"
            assert peer["podSelector"]["matchLabels"], "an empty selector admits every pod"
        admitted = {
            name
            for name, pod in pods.items()
            if any(
                labels_match(peer["podSelector"]["matchLabels"], pod["metadata"]["labels"])
                for peer in peers
            )
        }
        expected = {"Deployment/ropa-registry", "Deployment/ropa-notifier", "Job/ropa-migrate"}
        if render_name == "inline":
            expected.add("Job/ropa-apply")
        assert admitted == expected
    # Another release's services in the same namespace are not admitted.
    (policy,) = rendered["default"].of_kind("NetworkPolicy")
    (peer,) = policy["spec"]["ingress"][0]["from"]
    assert peer["podSelector"]["matchLabels"]["app.kubernetes.io/instance"] == "ropa"


def test_no_network_policy_without_internal_neo4j(helm: Helm) -> None:
    kinds = Rendering("off", helm.template(sets=["networkPolicy.enabled=false"])).kinds()
    assert "NetworkPolicy" not in kinds
    assert "StatefulSet" in kinds


# --- ingress -----------------------------------------------------------------------------------


def test_ingress_websocket_friendly(rendered: dict[str, Rendering]) -> None:
    production = rendered["production"]
    ingress = production.one("Ingress", "-registry")
    annotations = ingress["metadata"]["annotations"]
    for key in ("proxy-read-timeout", "proxy-send-timeout"):
        assert int(annotations[f"nginx.ingress.kubernetes.io/{key}"]) >= 3600, key
    assert annotations["cert-manager.io/cluster-issuer"] == "letsencrypt"
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["tls"] == [
        {"hosts": ["ropa.derby.example.gov.uk"], "secretName": "ropa-tls"}
    ]
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] == "ropa.derby.example.gov.uk"
    (path,) = rule["http"]["paths"]
    # "/" with Prefix routes /graphql (HTTP and WebSocket) and /feeds to the registry.
    assert (path["path"], path["pathType"]) == ("/", "Prefix")
    backend = path["backend"]["service"]
    service = production.one("Service", "-registry")
    assert backend["name"] == service["metadata"]["name"]
    assert backend["port"]["name"] in {port["name"] for port in service["spec"]["ports"]}
    assert rendered["default"].of_kind("Ingress") == []


def _registry_env(render: Rendering) -> dict[str, Manifest]:
    return env_of(
        render.one("Deployment", "-registry")["spec"]["template"]["spec"]["containers"][0]
    )


LIMIT_ENV = {
    "rateLimit": "ROPA_RATE_LIMIT",
    "maxTokens": "ROPA_MAX_TOKENS",
    "maxDepth": "ROPA_MAX_DEPTH",
    "maxAliases": "ROPA_MAX_ALIASES",
    "maxDirectives": "ROPA_MAX_DIRECTIVES",
    "maxDuplicates": "ROPA_MAX_DUPLICATES",
    "maxCost": "ROPA_MAX_COST",
    "maxResultValues": "ROPA_MAX_RESULT_VALUES",
    "maxBodyBytes": "ROPA_MAX_BODY_BYTES",
    "websocketsPerAddress": "ROPA_WEBSOCKETS_PER_ADDRESS",
}


def test_forwarded_headers_trusted_only_when_configured(rendered: dict[str, Rendering]) -> None:
    env = _registry_env(rendered["production"])
    assert env["ROPA_TRUSTED_PROXIES"]["value"] == "0.0.0.0/0,::/0"
    networks = LimitSettings(trusted_proxies=env["ROPA_TRUSTED_PROXIES"]["value"]).proxy_networks
    assert [str(network) for network in networks] == ["0.0.0.0/0", "::/0"]
    # uvicorn's own variable does nothing (`ropa serve` turns its proxy headers off).
    assert "FORWARDED_ALLOW_IPS" not in env
    assert "ROPA_TRUSTED_PROXIES" not in _registry_env(rendered["default"])


def test_deprecated_forwarded_allow_ips_becomes_trusted_proxies(helm: Helm) -> None:
    env = _registry_env(Rendering("star", helm.template(sets=["registry.forwardedAllowIps=*"])))
    assert env["ROPA_TRUSTED_PROXIES"]["value"] == "0.0.0.0/0,::/0"
    env = _registry_env(
        Rendering(
            "both",
            helm.template(
                sets=["registry.forwardedAllowIps=*", "registry.trustedProxies=10.0.0.0/8"]
            ),
        )
    )
    assert env["ROPA_TRUSTED_PROXIES"]["value"] == "10.0.0.0/8"


def test_limits_reach_the_registry_only_when_set(
    helm: Helm, rendered: dict[str, Rendering]
) -> None:
    """Every limit value becomes its ROPA_* variable, which LimitSettings reads and accepts; an
    unset one is left out, so that the registry's default applies."""
    default = _registry_env(rendered["default"])
    assert not set(LIMIT_ENV.values()) & set(default)
    assert set(LIMIT_ENV) == set(chart_values()["registry"]["limits"])
    values = {key: str(3 + i) for i, key in enumerate(LIMIT_ENV)}
    values["rateLimit"] = "5/second;100/minute"
    sets = [f"registry.limits.{key}={value}" for key, value in values.items()]
    env = _registry_env(Rendering("limits", helm.template(sets=sets)))
    given = {name: env[name]["value"] for name in LIMIT_ENV.values()}
    assert given == {LIMIT_ENV[key]: value for key, value in values.items()}
    settings = LimitSettings.model_validate(
        {name.removeprefix("ROPA_").lower(): value for name, value in given.items()}
    )
    assert settings.operation_limits.max_depth == int(values["maxDepth"])
    assert [str(item) for item in settings.rate_limits] == [
        "5 per 1 second",
        "100 per 1 minute",
    ]
    # "" is a value (no rate limit), not "unset".
    env = _registry_env(Rendering("off", helm.template(sets=["registry.limits.rateLimit="])))
    assert env["ROPA_RATE_LIMIT"]["value"] == ""
    production = _registry_env(rendered["production"])
    assert production["ROPA_MAX_DEPTH"]["value"] == "8"
    assert production["ROPA_RATE_LIMIT"]["value"] == "20/second;300/minute"


@pytest.mark.parametrize(
    ("sets", "fragment"),
    [
        (["registry.limits.maxDepth=0"], "registry.limits.maxDepth: Must be greater"),
        (["registry.limits.maxCost=lots"], "registry.limits.maxCost: Invalid type"),
        (["registry.limits.maxDept=3"], "Additional property maxDept is not allowed"),
        (["registry.trustedProxies=*"], "registry.trustedProxies: Does not match pattern"),
    ],
)
def test_schema_rejects_bad_limits(helm: Helm, sets: list[str], fragment: str) -> None:
    with pytest.raises(HelmError) as caught:
        helm.template(sets=sets)
    assert fragment in str(caught.value)


def test_images(render: Rendering) -> None:
    expected = (
        "registry.example.gov.uk/ropa/ropa-registry:0.1.0"
        if render.name == "production"
        else "ropa-registry:0.1.0"
    )
    for name, pod in ropa_pods(render):
        for container in all_containers(pod["spec"]):
            assert container["image"] == expected, name


def test_registry_and_notifier_share_the_webhook_target_policy(helm: Helm) -> None:
    # registerWebhook (registry) must refuse exactly what delivery (notifier) would refuse.
    for allow in ("false", "true"):
        render = Rendering(allow, helm.template(sets=[f"notifier.webhookAllowPrivate={allow}"]))
        for suffix in ("-registry", "-notifier"):
            pod = render.one("Deployment", suffix)["spec"]["template"]["spec"]
            (main,) = [c for c in pod["containers"] if c["name"] in ("registry", "notifier")]
            assert env_of(main)["ROPA_WEBHOOK_ALLOW_PRIVATE"]["value"] == allow, suffix


# Sign-in for people: its settings in plain env, its secrets only through a Secret.
SIGN_IN_SETS = (
    "signIn.enabled=true",
    "signIn.issuer=https://login.microsoftonline.com/tenant-id/v2.0",
    "signIn.clientId=ropa-registry",
    "signIn.roleMappings[0].group=entra-group-object-id",
    "signIn.roleMappings[0].role=dpo",
    "signIn.roleMappings[0].registers[0]=allestree-woodlands",
    "signIn.roleMappings[1].claim=roles",
    "signIn.roleMappings[1].value=ROPA.Admin",
    "signIn.roleMappings[1].role=admin",
)
CLIENT_SECRET = "Inline-Client-Secret-0815"
SESSION_SECRET = "Inline-Session-Secret-0123456789-abcdefghij"


def registry_container(manifests: list[Manifest]) -> Manifest:
    render = Rendering("sign-in", manifests)
    (container,) = render.one("Deployment", "-registry")["spec"]["template"]["spec"]["containers"]
    found: Manifest = container
    return found


def test_sign_in_settings_reach_the_registry(helm: Helm) -> None:
    manifests = helm.template(
        sets=(
            *SIGN_IN_SETS,
            "signIn.publicUrl=https://ropa.example.org",
            f"signIn.clientSecret={CLIENT_SECRET}",
            f"signIn.sessionSecret={SESSION_SECRET}",
        )
    )
    for manifest in manifests:
        kubernetes_validate.validate(manifest, KUBE_VERSION, strict=True)
    env = env_of(registry_container(manifests))
    assert env["ROPA_OIDC_ISSUER"]["value"] == "https://login.microsoftonline.com/tenant-id/v2.0"
    assert env["ROPA_OIDC_CLIENT_ID"]["value"] == "ropa-registry"
    assert env["ROPA_PUBLIC_URL"]["value"] == "https://ropa.example.org"
    assert env["ROPA_SESSION_LIFETIME"]["value"] == "28800"
    assert json.loads(env["ROPA_OIDC_ROLE_MAPPINGS"]["value"]) == [
        {"group": "entra-group-object-id", "role": "dpo", "registers": ["allestree-woodlands"]},
        {"claim": "roles", "value": "ROPA.Admin", "role": "admin"},
    ]
    for name, key in (
        ("ROPA_OIDC_CLIENT_SECRET", "client-secret"),
        ("ROPA_SESSION_SECRET", "session-secret"),
    ):
        assert env[name]["valueFrom"]["secretKeyRef"] == {"name": "ropa-signin", "key": key}
        assert "value" not in env[name]
    secret = Rendering("sign-in", manifests).one("Secret", "-signin")
    assert base64.b64decode(secret["data"]["client-secret"]).decode() == CLIENT_SECRET
    assert base64.b64decode(secret["data"]["session-secret"]).decode() == SESSION_SECRET
    # The clear secrets are nowhere but in that Secret: not in env, not in ConfigMaps.
    for manifest in manifests:
        if manifest["kind"] == "Secret":
            continue
        text = json.dumps(manifest)
        assert CLIENT_SECRET not in text, manifest["metadata"]["name"]
        assert SESSION_SECRET not in text, manifest["metadata"]["name"]
    # The notifier signs no one in.
    notifier = Rendering("sign-in", manifests).one("Deployment", "-notifier")
    notifier_env = env_of(notifier["spec"]["template"]["spec"]["containers"][0])
    assert not any(name.startswith(("ROPA_OIDC", "ROPA_SESSION")) for name in notifier_env)


def test_sign_in_from_an_existing_secret(helm: Helm) -> None:
    manifests = helm.template(
        sets=(
            *SIGN_IN_SETS,
            "signIn.existingSecret=ropa-oidc",
            "ingress.enabled=true",
            "ingress.host=ropa.example.org",
            "ingress.tls.enabled=true",
            "ingress.tls.secretName=ropa-tls",
        )
    )
    env = env_of(registry_container(manifests))
    # The public URL follows the TLS ingress.
    assert env["ROPA_PUBLIC_URL"]["value"] == "https://ropa.example.org"
    assert env["ROPA_OIDC_CLIENT_SECRET"]["valueFrom"]["secretKeyRef"]["name"] == "ropa-oidc"
    assert env["ROPA_SESSION_SECRET"]["valueFrom"]["secretKeyRef"]["name"] == "ropa-oidc"
    assert not [m for m in manifests if m["metadata"]["name"].endswith("-signin")]


def test_sign_in_session_secret_generated(helm: Helm) -> None:
    manifests = helm.template(sets=(*SIGN_IN_SETS, "signIn.publicUrl=https://ropa.example.org"))
    secret = Rendering("sign-in", manifests).one("Secret", "-signin")
    assert len(base64.b64decode(secret["data"]["session-secret"])) == 48
    # A public client (no secret): the registry authenticates with PKCE alone.
    assert "client-secret" not in secret["data"]
    assert "ROPA_OIDC_CLIENT_SECRET" not in env_of(registry_container(manifests))
    # Without sign-in the registry gets none of it.
    default = env_of(registry_container(helm.template()))
    assert not any(name.startswith(("ROPA_OIDC", "ROPA_SESSION")) for name in default)


@pytest.mark.parametrize(
    ("sets", "fragment"),
    [
        (["signIn.enabled=true"], "signIn.issuer: Does not match pattern"),
        ([*SIGN_IN_SETS, "signIn.issuer=http://idp.example.org"], "signIn.issuer: Does not"),
        ([*SIGN_IN_SETS], "signIn.publicUrl is required"),
        ([*SIGN_IN_SETS, "signIn.roleMappings[0].role=boss"], "roleMappings.0.role"),
        ([*SIGN_IN_SETS, "signIn.roleMappings[1].registers[0]=x"], "roleMappings.1"),
        ([*SIGN_IN_SETS, "signIn.sessionSecret=short"], "signIn.sessionSecret: Does not match"),
        (
            [
                *SIGN_IN_SETS,
                "signIn.publicUrl=https://a.b",
                "signIn.existingSecret=s",
                "signIn.clientSecret=c",
            ],
            "mutually exclusive",
        ),
    ],
)
def test_wrong_sign_in_value_fails_clearly(helm: Helm, sets: list[str], fragment: str) -> None:
    with pytest.raises(HelmError) as caught:
        helm.template(sets=sets)
    assert fragment in str(caught.value), str(caught.value)


def test_the_secret_key_reaches_registry_and_notifier_from_a_kept_secret(
    rendered: dict[str, Rendering],
) -> None:
    render = rendered["default"]
    secret = render.one("Secret", "-secret-key")
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert len(base64.b64decode(secret["data"]["secret-key"])) == 48
    for suffix in ("-registry", "-notifier"):
        (container,) = render.one("Deployment", suffix)["spec"]["template"]["spec"]["containers"]
        env = env_of(container)
        assert env["ROPA_SECRET_KEY"]["valueFrom"]["secretKeyRef"] == {
            "name": secret["metadata"]["name"],
            "key": "secret-key",
        }
        previous = env["ROPA_SECRET_KEY_PREVIOUS"]["valueFrom"]["secretKeyRef"]
        assert previous == {
            "name": secret["metadata"]["name"],
            "key": "previous-keys",
            "optional": True,
        }
        assert "value" not in env["ROPA_SECRET_KEY"]
    # The migration hook runs before the release's Secrets exist, and needs no key.
    (job,) = render.one("Job", "-migrate")["spec"]["template"]["spec"]["containers"]
    assert "ROPA_SECRET_KEY" not in env_of(job)


def test_the_secret_key_from_an_existing_secret(helm: Helm) -> None:
    manifests = helm.template(sets=("secretKey.existingSecret=ropa-keys", "secretKey.key=current"))
    assert not [m for m in manifests if m["metadata"]["name"].endswith("-secret-key")]
    env = env_of(registry_container(manifests))
    assert env["ROPA_SECRET_KEY"]["valueFrom"]["secretKeyRef"] == {
        "name": "ropa-keys",
        "key": "current",
    }
    with pytest.raises(HelmError) as caught:
        helm.template(sets=("secretKey.value=inline-keys-are-not-accepted",))
    assert "secretKey" in str(caught.value)


# --- metrics and the helm binary -----------------------------------------------------------


def test_registry_and_notifier_pods_are_annotated_for_scraping(
    rendered: dict[str, Rendering],
) -> None:
    values = chart_values()
    for render in rendered.values():
        for component in ("registry", "notifier"):
            pod = render.one("Deployment", f"-{component}")["spec"]["template"]
            annotations = pod["metadata"]["annotations"]
            assert annotations["prometheus.io/scrape"] == "true"
            assert annotations["prometheus.io/port"] == str(values[component]["port"])
            assert annotations["prometheus.io/path"] == "/metrics"
            ports = {p["name"]: p["containerPort"] for p in pod["spec"]["containers"][0]["ports"]}
            assert ports["http"] == values[component]["port"]


def test_scrape_annotations_can_be_turned_off(helm: Helm) -> None:
    manifests = helm.template(sets=["metrics.podAnnotations=false"])
    for manifest in manifests:
        if manifest["kind"] == "Deployment":
            annotations = manifest["spec"]["template"]["metadata"].get("annotations") or {}
            assert not any(key.startswith("prometheus.io/") for key in annotations)


def test_an_optional_service_monitor_scrapes_both_services(helm: Helm) -> None:
    plain = Rendering("plain", helm.template())
    assert not plain.of_kind("ServiceMonitor")
    on = Rendering(
        "monitored",
        helm.template(
            sets=[
                "metrics.serviceMonitor.enabled=true",
                "metrics.serviceMonitor.interval=15s",
                "metrics.serviceMonitor.labels.release=prometheus",
            ]
        ),
    )
    for component in ("registry", "notifier"):
        monitor = on.one("ServiceMonitor", f"-{component}")
        assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
        assert monitor["metadata"]["labels"]["release"] == "prometheus"
        (endpoint,) = monitor["spec"]["endpoints"]
        assert (endpoint["port"], endpoint["path"], endpoint["interval"]) == (
            "http",
            "/metrics",
            "15s",
        )
        service = on.one("Service", f"-{component}")
        assert labels_match(
            monitor["spec"]["selector"]["matchLabels"], service["metadata"]["labels"]
        )
        assert "http" in {port["name"] for port in service["spec"]["ports"]}
    with pytest.raises(HelmError, match="interval"):
        helm.template(sets=["metrics.serviceMonitor.interval=often"])


def test_the_built_helm_knows_its_versions(helm: Helm) -> None:
    """`make helm` links helm's version metadata: it reports its version, and a plain
    `helm template` (no --kube-version) assumes a Kubernetes the chart's kubeVersion accepts."""
    version = helm.run("version", "--template", "{{.Version}}")
    assert version.startswith("v3."), version
    out = helm.run("template", "ropa", str(CHART), "--namespace", "ropa")
    assert "kind: Deployment" in out


def _container(manifests: list[Manifest], suffix: str) -> Manifest:
    pod = Rendering("mail", manifests).one("Deployment", suffix)["spec"]["template"]["spec"]
    (main,) = [c for c in pod["containers"] if c["name"] in ("registry", "notifier")]
    found: Manifest = main
    return found


def test_mail_settings_reach_the_notifier_and_the_password_only_by_reference(helm: Helm) -> None:
    manifests = helm.template(
        sets=(
            "publicUrl=https://ropa.example.org",
            "mail.smtp.host=smtp.example.org",
            "mail.smtp.port=2525",
            "mail.smtp.user=ropa-notices",
            "mail.smtp.existingSecret=ropa-smtp",
            "mail.smtp.starttls=false",
            "mail.from=Notices <notices@example.org>",
        )
    )
    for manifest in manifests:
        kubernetes_validate.validate(manifest, KUBE_VERSION, strict=True)
    env = env_of(_container(manifests, "-notifier"))
    assert {name: env[name].get("value") for name in env if name.startswith("ROPA_SMTP")} == {
        "ROPA_SMTP_HOST": "smtp.example.org",
        "ROPA_SMTP_PORT": "2525",
        "ROPA_SMTP_USER": "ropa-notices",
        "ROPA_SMTP_STARTTLS": "false",
        "ROPA_SMTP_PASSWORD": None,
    }
    assert env["ROPA_SMTP_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "ropa-smtp",
        "key": "smtp-password",
    }
    assert env["ROPA_MAIL_FROM"]["value"] == "Notices <notices@example.org>"
    # Both services link to the same public address (mail, feeds, pages).
    for suffix in ("-notifier", "-registry"):
        assert env_of(_container(manifests, suffix))["ROPA_PUBLIC_URL"]["value"] == (
            "https://ropa.example.org"
        )
    # The registry sends no mail.
    assert not any(n.startswith("ROPA_SMTP") for n in env_of(_container(manifests, "-registry")))


def test_no_mail_settings_without_a_relay(helm: Helm) -> None:
    manifests = helm.template()
    env = env_of(_container(manifests, "-notifier"))
    assert not [n for n in env if n.startswith(("ROPA_SMTP", "ROPA_MAIL", "ROPA_PUBLIC_URL"))]
    # A TLS ingress gives the public address, for the relay's links too.
    manifests = helm.template(
        sets=(
            "mail.smtp.host=smtp.example.org",
            "ingress.enabled=true",
            "ingress.host=ropa.example.org",
            "ingress.tls.enabled=true",
            "ingress.tls.secretName=ropa-tls",
        )
    )
    env = env_of(_container(manifests, "-notifier"))
    assert env["ROPA_PUBLIC_URL"]["value"] == "https://ropa.example.org"
    assert "ROPA_SMTP_PASSWORD" not in env  # no user, no password
