"""The shape of a rule: a stable id, a severity, its legal footing, and a pure check."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from schema.compliance.index import DocumentIndex
from schema.compliance.issues import EntityKind, Severity
from schema.document import Flow, RopaDocument


@dataclass(frozen=True)
class Finding:
    """What a check found; the rule adds its id and severity, and its reference if none here."""

    entity_kind: EntityKind
    entity_id: str
    message: str
    reference: str | None = None


@dataclass(frozen=True)
class Context:
    """What every check sees.

    `doc` holds what applies on `as_of` or is planned after it (ended and withdrawn things are
    history, not gaps); `full` holds the whole record, for the rules about what has ended.
    """

    doc: RopaDocument
    full: RopaDocument
    as_of: dt.date
    index: DocumentIndex

    def flow_label(self, flow: Flow) -> str:
        """ "disclosure 'x' (School to DfE)"."""
        return (
            f"disclosure '{flow.id}' ({self.index.name(flow.source)} to "
            f"{self.index.name(flow.recipient)})"
        )


Check = Callable[[Context], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    """One gap check. The id is a stable slug: dashboards and CI configurations key on it."""

    id: str
    severity: Severity
    title: str
    reference: str
    check: Check
