"""The register as the graph holds it: entities (a node each) with their outgoing links.

Every register node carries the label `Entity` and its kind label (`Organisation`, ...), an
`id` unique per kind and a `key` ("Kind:id") unique across kinds. The generic write path
addresses nodes by `key`, which the `Entity(key)` constraint indexes; reads by kind use the
per-kind `id` constraints.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

# Node labels (kinds) of the register, and the relationship types between them.
REGISTER = "Register"
ORGANISATION = "Organisation"
DATA_SUBJECT = "DataSubjectCategory"
DATA_CATEGORY = "DataCategory"
LEGAL_BASIS = "LegalBasis"
SYSTEM = "System"
ACTIVITY = "ProcessingActivity"
DISCLOSURE = "Disclosure"
ENGAGEMENT = "Engagement"

KINDS = (
    REGISTER,
    ORGANISATION,
    DATA_SUBJECT,
    DATA_CATEGORY,
    LEGAL_BASIS,
    SYSTEM,
    ACTIVITY,
    DISCLOSURE,
    ENGAGEMENT,
)

# (source kind, relationship type, target kind); the source holds the reference.
LINK_TYPES: frozenset[tuple[str, str, str]] = frozenset(
    {
        (REGISTER, "OWNED_BY", ORGANISATION),
        (DATA_SUBJECT, "PART_OF", DATA_SUBJECT),
        (DATA_CATEGORY, "PART_OF", DATA_CATEGORY),
        (LEGAL_BASIS, "RESTS_ON", LEGAL_BASIS),
        (SYSTEM, "OPERATED_BY", ORGANISATION),
        (ACTIVITY, "CONTROLLED_BY", ORGANISATION),
        (ACTIVITY, "JOINT_CONTROLLER", ORGANISATION),
        (ACTIVITY, "PROCESSOR", ORGANISATION),
        (ACTIVITY, "CONCERNS", DATA_SUBJECT),
        (ACTIVITY, "PROCESSES", DATA_CATEGORY),
        (ACTIVITY, "LAWFUL_BASIS", LEGAL_BASIS),
        (ACTIVITY, "USES_SYSTEM", SYSTEM),
        (DISCLOSURE, "IN_ACTIVITY", ACTIVITY),
        (DISCLOSURE, "FROM", ORGANISATION),
        (DISCLOSURE, "TO", ORGANISATION),
        (DISCLOSURE, "CARRIES", DATA_CATEGORY),
        (DISCLOSURE, "UNDER", LEGAL_BASIS),
        (DISCLOSURE, "VIA", SYSTEM),
        (ENGAGEMENT, "ENGAGED_BY", ORGANISATION),
        (ENGAGEMENT, "SUB_PROCESSOR", ORGANISATION),
        (ENGAGEMENT, "COVERS", DATA_CATEGORY),
        (ENGAGEMENT, "FOR_ACTIVITY", ACTIVITY),
    }
)
RELATIONSHIP_TYPES: tuple[str, ...] = tuple(sorted({t for _, t, _ in LINK_TYPES}))

Value = str | int | float | bool | dt.date | list[str] | list[int]


def entity_key(kind: str, entity_id: str) -> str:
    """The cross-kind unique key of a node: 'Organisation:dfe'."""
    return f"{kind}:{entity_id}"


@dataclass(frozen=True, order=True)
class Link:
    """An outgoing relationship of an entity; `props` as sorted (name, value) pairs."""

    type: str
    target_kind: str
    target: str
    props: tuple[tuple[str, Any], ...] = ()

    @property
    def target_key(self) -> str:
        """The key of the node this link points to."""
        return entity_key(self.target_kind, self.target)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form for change events."""
        out: dict[str, Any] = {"type": self.type, "to": self.target_key}
        if self.props:
            out["props"] = {k: jsonable(v) for k, v in self.props}
        return out


@dataclass(frozen=True)
class Entity:
    """One register node: its kind, id, properties (no None values) and outgoing links."""

    kind: str
    id: str
    props: dict[str, Any] = field(default_factory=dict)
    links: frozenset[Link] = frozenset()

    @property
    def key(self) -> str:
        """The cross-kind unique key."""
        return entity_key(self.kind, self.id)

    def snapshot(self) -> dict[str, Any]:
        """The before/after state recorded in change events."""
        return {
            "kind": self.kind,
            "id": self.id,
            "props": {k: jsonable(v) for k, v in sorted(self.props.items())},
            "links": [link.as_dict() for link in sorted(self.links)],
        }


def clean_props(props: dict[str, Any]) -> dict[str, Any]:
    """Drop None values (Neo4j stores no nulls) and turn tuples into lists."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in props.items() if v is not None}


def jsonable(value: Any) -> Any:
    """Dates as ISO strings, everything else as is."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value
