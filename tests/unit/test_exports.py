"""The contract files in schema/ match the code they are generated from."""

from __future__ import annotations

from pathlib import Path

import pytest

from schema.exports import DOCUMENT_SCHEMA, REGISTRY_SDL, exports


@pytest.mark.parametrize("path", [DOCUMENT_SCHEMA, REGISTRY_SDL], ids=lambda p: p.name)
def test_exported_file_is_current(path: Path) -> None:
    expected = exports()[path]
    assert path.exists(), f"{path} is missing; run `ropa schema export`"
    assert path.read_text(encoding="utf-8") == expected, (
        f"{path} is stale; run `ropa schema export`"
    )


def test_sdl_keeps_the_contract() -> None:
    sdl = exports()[REGISTRY_SDL]
    for line in [
        "enum HopKind {\n  DISCLOSURE\n  SUB_PROCESSING\n  ONWARD_DISCLOSURE\n}",
        "enum EngagementStatus {\n  PROPOSED\n  ACTIVE\n  WITHDRAWN\n}",
        "scalar Date",
        "type LineagePath {\n  hops: [Hop!]!\n",
    ]:
        assert line in sdl
