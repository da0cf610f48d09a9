"""Hostile ROPA documents are refused cheaply, as `FILE:LINE: path: reason`, never a traceback."""

from __future__ import annotations

import re
import tracemalloc
from pathlib import Path

import pytest

from schema.errors import DocumentInvalid
from schema.validation import load_document
from schema.yaml_reader import ReaderLimits, read_tree

ROOT = Path(__file__).resolve().parents[2]


def test_each_hostile_document_is_refused_with_file_line_path_and_reason(
    hostile_document: tuple[Path, str],
) -> None:
    path, pattern = hostile_document
    tracemalloc.start()
    try:
        with pytest.raises(DocumentInvalid) as caught:
            load_document(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    lines = caught.value.render()
    assert any(re.match(re.escape(str(path)) + ":" + pattern, line) for line in lines), lines
    # Refused before anything grows: the 9^9 strings of billion laughs, or 100 000 levels of
    # parsing state, would take gigabytes. (The 8 MiB document is read once, and kept.)
    assert peak < 40 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


def test_the_limits_are_parameters() -> None:
    nested = "x: " + "[" * 10 + "]" * 10
    assert read_tree(nested, "doc.yaml", ReaderLimits(max_depth=11))["x"] == [[[[[[[[[[]]]]]]]]]]
    with pytest.raises(DocumentInvalid, match="1 problem"):
        read_tree(nested, "doc.yaml", ReaderLimits(max_depth=5))
    aliased = "a: &a [1, 2, 3]\nb: [*a, *a, *a]\n"
    assert read_tree(aliased, "doc.yaml", ReaderLimits(max_nodes=20))["b"][2] == [1, 2, 3]
    with pytest.raises(DocumentInvalid) as caught:
        read_tree(aliased, "doc.yaml", ReaderLimits(max_nodes=15))
    assert caught.value.render() == [
        "doc.yaml:2: (document): would expand through its aliases to more than 15 values "
        "(the limit)"
    ]


def test_the_shipped_example_is_well_within_the_limits() -> None:
    doc = load_document(ROOT / "examples" / "allestree-woodlands.yaml")
    assert doc.register_info.id == "allestree-woodlands"
