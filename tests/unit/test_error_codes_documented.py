"""Every error code a client (or an operator) can meet is in docs/api-changes.md's table,
with where it is returned and why; and product code names codes only through the enum."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from schema.errors import ErrorCode

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "api-changes.md"
# A row of the table: | `CODE` | where | meaning |, each cell filled.
ROW = re.compile(r"^\| `(?P<code>[A-Z_]+)` \|(?P<where>[^|]+)\|(?P<why>[^|]+)\|$", re.M)


def _section(text: str) -> str:
    start = text.index("\n## Error codes\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def test_every_error_code_is_documented_once() -> None:
    rows = [m for m in ROW.finditer(_section(DOC.read_text())) if m["where"].strip()]
    documented = [m["code"] for m in rows if m["why"].strip()]
    assert sorted(set(documented)) == sorted(documented), "a code documented twice"
    missing = sorted(set(ErrorCode) - set(documented))
    assert missing == [], f"docs/api-changes.md#error-codes does not document {missing}"
    unknown = sorted(set(documented) - {c.value for c in ErrorCode})
    assert unknown == [], f"docs/api-changes.md#error-codes documents codes now gone: {unknown}"


def test_codes_are_named_through_the_enum() -> None:
    # A code written as a string ("NOT_FOUND") anywhere in product code escapes the enum, and
    # with it this page: name the member (ErrorCode.NOT_FOUND) instead.
    codes = {c.value for c in ErrorCode}
    written = []
    for package in ("schema", "graph", "services"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if "node_modules" in path.parts or path == ROOT / "schema" / "errors.py":
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Constant) and node.value in codes:
                    written.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value}")
    assert written == []
