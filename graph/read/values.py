"""Turning node properties as the driver returns them into plain Python values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from schema.graphql.records import CitationRecord, LawRefRecord


def native(value: Any) -> Any:
    """Neo4j temporal values as datetime objects; everything else as is."""
    return value.to_native() if hasattr(value, "to_native") else value


def text(props: Mapping[str, Any], key: str) -> str | None:
    """A string property, or None when absent."""
    value = props.get(key)
    return None if value is None else str(value)


def integer(props: Mapping[str, Any], key: str) -> int | None:
    """An integer property, or None when absent."""
    value = props.get(key)
    return None if value is None else int(value)


def first(values: list[Any] | None) -> Any:
    """The only element of a COLLECT of an optional single relationship, or None."""
    return values[0] if values else None


def citations(bases: list[str], laws: list[Mapping[str, Any]]) -> tuple[CitationRecord, ...]:
    """The citations of a use from its basis ids and the `{basis, restsOn, provisions}` maps
    of the links that carry law (a link stores them as two lists, for want of a list of maps)."""
    by_basis = {row["basis"]: row for row in laws}
    out = []
    for basis in bases:
        row = by_basis.get(basis) or {}
        provisions = list(row.get("provisions") or [])
        out.append(
            CitationRecord(
                basis,
                tuple(
                    LawRefRecord(law, (provisions[i] if i < len(provisions) else "") or None)
                    for i, law in enumerate(row.get("restsOn") or [])
                ),
            )
        )
    return tuple(out)
