"""Hostile inputs shared by the security tests."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests" / "fixtures" / "small-register.yaml"


def billion_laughs() -> bytes:
    """The issue's 414-byte shape: nine levels of nine aliases each (9^9 strings)."""
    text = 'version: ropa/v1\na: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    previous = "a"
    for name in "bcdefghi":
        text += f"{name}: &{name} [" + ",".join(["*" + previous] * 9) + "]\n"
        previous = name
    return text.encode()


def _small_with(old: str, new: str) -> bytes:
    text = SMALL.read_text()
    assert old in text
    return text.replace(old, new, 1).encode()


# name -> (bytes, a regex the rendered problem line must match after `FILE:`)
HOSTILE_DOCUMENTS: dict[str, tuple[bytes, str]] = {
    "billion-laughs": (billion_laughs(), r"\d+: \(document\): would expand through its aliases"),
    "deep-flow-nesting": (
        b"version: ropa/v1\nx: " + b"[" * 100_000 + b"]" * 100_000 + b"\n",
        r"2: \(document\): nested deeper than 64 levels",
    ),
    "deep-block-nesting": (
        b"version: ropa/v1\nx:\n" + b"".join(b" " * i + b"- \n" for i in range(1, 2000)),
        r"\d+: \(document\): nested deeper than 64 levels",
    ),
    "recursive-alias": (
        b"version: ropa/v1\nx: &a [*a]\n",
        r"2: \(document\): not valid YAML: alias \*a refers to a node that contains it",
    ),
    "invalid-utf8": (
        b"version: ropa/v1\nregister: {id: a, name: \xff\xfe, owner: a}\n",
        r"2: \(document\): not valid UTF-8: byte 0xff",
    ),
    "impossible-date": (
        _small_with("valid_from: 2022-02-14", "valid_from: 2022-02-30"),
        r"\d+: activities\[\d+\]\.valid_from: .*day value is outside expected range",
    ),
    "wrong-type": (
        _small_with("special: true", "special: [1, 2]"),
        r"\d+: data_categories\[\d+\]\.special: Input should be a valid boolean",
    ),
    "huge-integer": (
        _small_with("special: true", "special: " + "9" * 5000),
        r"\d+: data_categories\[\d+\]\.special: Input should be a valid boolean",
    ),
    "control-character": (
        b"version: ropa/v1\nx: \x01\n",
        r"2: \(document\): not valid YAML: character #x0001 is not allowed",
    ),
    "too-large": (
        b"version: ropa/v1\n" + b"# padding\n" * 900_000,
        r" \(document\): larger than the limit of 8388608 bytes",
    ),
}


@pytest.fixture(params=sorted(HOSTILE_DOCUMENTS))
def hostile_document(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, str]:
    """A hostile document written to a file, and the problem line it must be refused with."""
    data, pattern = HOSTILE_DOCUMENTS[request.param]
    path = tmp_path / f"{request.param}.yaml"
    path.write_bytes(data)
    return path, pattern


@pytest.fixture
def billion_laughs_file(tmp_path: Path) -> tuple[Path, str]:
    """The billion laughs document in a file, and the problem line it must be refused with."""
    data, pattern = HOSTILE_DOCUMENTS["billion-laughs"]
    path = tmp_path / "laughs.yaml"
    path.write_bytes(data)
    return path, pattern
