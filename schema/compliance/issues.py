"""What a gap check reports: one issue per gap, with a stable rule id and its legal footing."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """`error` is a gap in what the law requires; `warning` is one a careful DPO would close."""

    ERROR = "error"
    WARNING = "warning"


class EntityKind(StrEnum):
    """The kind of register entity an issue concerns (the document's collection, singular)."""

    ORGANISATION = "organisation"
    ACTIVITY = "activity"
    FLOW = "flow"
    ENGAGEMENT = "engagement"


@dataclass(frozen=True, order=True)
class ComplianceIssue:
    """One gap: which rule found it, how bad it is, where it is, and what it rests on."""

    rule_id: str
    severity: Severity
    entity_kind: EntityKind
    entity_id: str
    message: str
    reference: str

    def render(self) -> str:
        """One line: `error rule-id activity:x: message [reference]`."""
        return (
            f"{self.severity.value:<7} {self.rule_id}  {self.entity_kind.value}:{self.entity_id}: "
            f"{self.message} [{self.reference}]"
        )


def has_errors(issues: list[ComplianceIssue]) -> bool:
    """True when any issue is an error (what makes `ropa check` fail)."""
    return any(issue.severity is Severity.ERROR for issue in issues)
