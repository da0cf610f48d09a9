"""The contract files kept in schema/: generated from code, checked for drift by a test."""

from __future__ import annotations

import json
from pathlib import Path

from schema.document import RopaDocument

HERE = Path(__file__).resolve().parent
DOCUMENT_SCHEMA = HERE / "ropa-document.schema.json"


def document_json_schema() -> str:
    """The JSON Schema of a ROPA document, as written to schema/ropa-document.schema.json."""
    data = RopaDocument.model_json_schema(by_alias=True, mode="validation")
    data["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    data["$id"] = "https://ropa-registry.example/schema/ropa-document.schema.json"
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def exports() -> dict[Path, str]:
    """Every exported contract file and its expected content."""
    return {DOCUMENT_SCHEMA: document_json_schema()}
