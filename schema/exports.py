"""The contract files kept in schema/: generated from code, checked for drift by a test."""

from __future__ import annotations

import json
from pathlib import Path

from schema.document import RopaDocument

HERE = Path(__file__).resolve().parent
DOCUMENT_SCHEMA = HERE / "ropa-document.schema.json"
REGISTRY_SDL = HERE / "registry.graphql"


def document_json_schema() -> str:
    """The JSON Schema of a ROPA document, as written to schema/ropa-document.schema.json."""
    data = RopaDocument.model_json_schema(by_alias=True, mode="validation")
    data["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    data["$id"] = "https://ropa-registry.example/schema/ropa-document.schema.json"
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def registry_sdl() -> str:
    """The registry's GraphQL schema in SDL, as written to schema/registry.graphql."""
    # Imported here: building the GraphQL schema is not needed by users of the JSON Schema.
    from schema.graphql.schema import sdl

    return sdl()


def exports() -> dict[Path, str]:
    """Every exported contract file and its expected content."""
    return {DOCUMENT_SCHEMA: document_json_schema(), REGISTRY_SDL: registry_sdl()}
