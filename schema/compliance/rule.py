"""The shape of a rule: a stable id, a severity, its legal footing, whose duty it checks, and
a pure check."""

from __future__ import annotations

import datetime as dt
import enum
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


class Duty(enum.Enum):
    """Whose record a rule checks: a controller's (Article 30(1)) or a processor's own record of
    the processing it carries out for its controllers (Article 30(2))."""

    CONTROLLER = "controller"
    PROCESSOR = "processor"


CONTROLLER_ONLY = frozenset({Duty.CONTROLLER})
BOTH = frozenset({Duty.CONTROLLER, Duty.PROCESSOR})


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
    # In a processor's own record (Article 30(2)), that processor; None in a controller's.
    processor: str | None = None

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
    # Whose records it checks: a controller's duty (the default) is not a processor's gap.
    duties: frozenset[Duty] = CONTROLLER_ONLY
