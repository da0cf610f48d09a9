"""Every example in README.md and docs/ is checked: GraphQL operations validate against the
registry's schema, JSON and YAML parse, Python compiles, JavaScript passes `node --check`, shell
passes `bash -n`, and the JSON body of every `curl -d '...'` parses (its query validates).

A block preceded by `<!-- docs-test: skip REASON -->` is left out, the reason in the doc itself.
This checks that the examples are well-formed and ask for what exists;
tests/services/test_docs_run.py runs the shell, Python and JavaScript ones against a stack
(except those marked `<!-- docs-test: not run: REASON -->`, which are still checked here).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from graphql import GraphQLSchema, OperationDefinitionNode, parse, validate
from ruamel.yaml import YAML

from schema.graphql.schema import build_schema

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(
    r"(?P<skip><!-- docs-test: skip [^>]+-->\s*\n)?^```(?P<lang>[a-z]+)\n(?P<body>.*?)^```",
    re.M | re.S,
)
CURL_BODY = re.compile(r"curl\b[^\n]*(?:\\\n[^\n]*)*?-d '(?P<body>[^']*)'", re.S)


@dataclass(frozen=True)
class Example:
    doc: Path
    line: int
    lang: str
    body: str

    def __str__(self) -> str:
        return f"{self.doc.relative_to(ROOT)}:{self.line} ({self.lang})"


def _examples() -> list[Example]:
    found = []
    for doc in DOCS:
        text = doc.read_text()
        for match in FENCE.finditer(text):
            if match["skip"]:
                continue
            line = text.count("\n", 0, match.start("body"))
            found.append(Example(doc, line, match["lang"], match["body"]))
    return found


EXAMPLES = _examples()


@pytest.fixture(scope="module")
def graphql_schema() -> GraphQLSchema:
    schema: GraphQLSchema = build_schema()._schema
    return schema


def _check_operation(schema: GraphQLSchema, text: str, where: object) -> None:
    document = parse(text)
    if not any(isinstance(d, OperationDefinitionNode) for d in document.definitions):
        return  # an excerpt of the SDL: parsing it is the check
    errors = validate(schema, document)
    assert not errors, f"{where}: {[e.message for e in errors]}"


def _by(lang: str) -> list[Example]:
    return [e for e in EXAMPLES if e.lang == lang]


def test_the_docs_have_examples_of_each_kind() -> None:
    kinds = {e.lang for e in EXAMPLES}
    assert {"graphql", "json", "sh", "python", "js", "yaml"} <= kinds, kinds


@pytest.mark.parametrize("example", _by("graphql"), ids=str)
def test_graphql_examples_validate(example: Example, graphql_schema: GraphQLSchema) -> None:
    _check_operation(graphql_schema, example.body, example)


@pytest.mark.parametrize("example", _by("json"), ids=str)
def test_json_examples_parse(example: Example) -> None:
    json.loads(example.body)


@pytest.mark.parametrize("example", _by("yaml"), ids=str)
def test_yaml_examples_parse(example: Example) -> None:
    YAML(typ="safe", pure=True).load(example.body.replace("...", "x"))


@pytest.mark.parametrize("example", _by("python"), ids=str)
def test_python_examples_compile(example: Example) -> None:
    compile(example.body, str(example), "exec")


@pytest.mark.parametrize("example", _by("js"), ids=str)
def test_javascript_examples_pass_node_check(example: Example, tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed (the sign-in tests need it too)")
    script = tmp_path / "example.mjs"
    script.write_text(example.body)
    proc = subprocess.run(
        [node, "--check", str(script)], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, f"{example}: {proc.stderr}"


@pytest.mark.parametrize("example", _by("sh"), ids=str)
def test_shell_examples_parse_and_their_curl_bodies_are_graphql(
    example: Example, graphql_schema: GraphQLSchema
) -> None:
    proc = subprocess.run(
        ["bash", "-n"], input=example.body, capture_output=True, text=True, timeout=30, check=False
    )
    assert proc.returncode == 0, f"{example}: {proc.stderr}"
    for match in CURL_BODY.finditer(example.body):
        body = json.loads(match["body"])
        if isinstance(body, dict) and "query" in body:
            _check_operation(graphql_schema, body["query"], example)
