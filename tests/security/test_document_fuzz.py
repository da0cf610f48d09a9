"""Property-based fuzzing of the document reader: whatever the bytes, a document or a clean
DocumentInvalid whose every line is `FILE[:LINE]: path: reason`; never another exception."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schema.document import RopaDocument
from schema.errors import DocumentInvalid
from schema.validation import parse_document
from schema.yaml_reader import ReaderLimits, decode

SMALL = (Path(__file__).resolve().parents[2] / "tests/fixtures/small-register.yaml").read_text()
LINE = re.compile(r"doc\.yaml(:\d+)?: \S[^\n]*: [^\n]+")
LIMITS = ReaderLimits(max_bytes=64 * 1024, max_depth=16, max_nodes=5_000)
FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Pieces of YAML syntax, so that random text reaches past the scanner into the composer,
# the constructor and the model.
TOKENS = st.sampled_from(
    [
        "[", "]", "{", "}", ": ", ", ", "- ", "? ", "\n", "  ", "&a ", "*a", "&b ", "*b",
        "<<: ", "!!str ", "!!int ", "!!binary ", "!!timestamp ", "!!python/object:os.system ",
        "!custom ", "'", '"', "# c", "---\n", "...\n", "%YAML 1.1\n", "|\n", ">-\n", "~",
        "2022-02-30", "2022-02-14", "1e999", "0x1F", "9" * 5000, "true", "null", ".nan",
        "version: ropa/v1\n", "register: ", "organisations: ", "activities: ", "id: a",
        "name: A", "valid_from: ", "\t", "\r", "\ufeff", "\x85", "é", "\U0001f600",
    ]
)  # fmt: skip


def _check(text: str) -> None:
    try:
        document = parse_document(text, "doc.yaml", LIMITS)
    except DocumentInvalid as exc:
        lines = exc.render()
        assert lines
        for line in lines:
            assert LINE.fullmatch(line), line
    else:
        assert isinstance(document, RopaDocument)


@FUZZ
@given(st.binary(max_size=2048))
def test_any_bytes(data: bytes) -> None:
    try:
        text = decode(data, "doc.yaml", LIMITS)
    except DocumentInvalid as exc:
        refused = exc.render()
    else:
        _check(text)
        return
    assert all(LINE.fullmatch(line) for line in refused)


@FUZZ
@given(st.lists(TOKENS, max_size=60).map("".join))
def test_yaml_shaped_text(text: str) -> None:
    _check(text)


@settings(FUZZ, max_examples=100)
@given(
    st.integers(min_value=0, max_value=SMALL.count("\n")),
    st.lists(TOKENS | st.text(max_size=8), min_size=1, max_size=12).map("".join),
)
def test_the_small_register_with_one_line_replaced(line: int, replacement: str) -> None:
    lines = SMALL.split("\n")
    indent = lines[line][: len(lines[line]) - len(lines[line].lstrip())]
    lines[line] = indent + replacement
    _check("\n".join(lines))
