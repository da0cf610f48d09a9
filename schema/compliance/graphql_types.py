"""GraphQL face of the gap checks: the `ComplianceIssue` type and the `complianceIssues` resolver.

The resolver reaches the record through a `ComplianceDocuments` loader that the service puts in
the request context (as `context.compliance_documents`, attribute or mapping key), so this
module stays free of the graph. `graph.to_document.GraphDocumentLoader` is the implementation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Protocol

import strawberry
from strawberry.types import Info

from schema.compliance.check import check
from schema.compliance.issues import ComplianceIssue
from schema.document import RopaDocument

CONTEXT_KEY = "compliance_documents"


@strawberry.enum(name="ComplianceSeverity", description="How serious a compliance gap is")
class ComplianceSeverity(StrEnum):
    # Mirrors schema.compliance.issues.Severity, which stays free of strawberry.
    ERROR = "error"
    WARNING = "warning"


@strawberry.enum(
    name="ComplianceEntityKind",
    description="The kind of register entity a compliance issue concerns",
)
class ComplianceEntityKind(StrEnum):
    # Mirrors schema.compliance.issues.EntityKind.
    ORGANISATION = "organisation"
    ACTIVITY = "activity"
    FLOW = "flow"
    ENGAGEMENT = "engagement"


class ComplianceDocuments(Protocol):
    """Reads a controller's record as recorded at a moment (now when None)."""

    async def controller_document(
        self,
        controller: str | None,
        recorded_at: dt.datetime | None,
        scope: frozenset[str] | None = None,
    ) -> RopaDocument:
        """The record, of the registers in `scope` (None: all); NotFound for an unknown
        controller, or one with no register in scope."""
        ...


@strawberry.type(name="ComplianceIssue", description="A gap in the record, found by a rule")
class ComplianceIssueType:
    rule_id: str = strawberry.field(
        description="Stable id of the rule, e.g. dpia-required-not-done"
    )
    severity: ComplianceSeverity = strawberry.field(
        description="ERROR fails `ropa check`; WARNING not"
    )
    entity_kind: ComplianceEntityKind = strawberry.field(
        description="What kind of entity it concerns"
    )
    entity_id: str = strawberry.field(description="The id of that entity")
    message: str = strawberry.field(description="What is wrong, in words a DPO understands")
    reference: str = strawberry.field(description="The Article or guidance the rule rests on")

    @classmethod
    def from_issue(cls, issue: ComplianceIssue) -> ComplianceIssueType:
        """The GraphQL value of an issue."""
        return cls(
            rule_id=issue.rule_id,
            severity=ComplianceSeverity(issue.severity.value),
            entity_kind=ComplianceEntityKind(issue.entity_kind.value),
            entity_id=issue.entity_id,
            message=issue.message,
            reference=issue.reference,
        )


def _documents(context: Any) -> ComplianceDocuments:
    found = (
        context.get(CONTEXT_KEY)
        if isinstance(context, Mapping)
        else getattr(context, CONTEXT_KEY, None)
    )
    if found is None:
        raise LookupError(f"the request context has no {CONTEXT_KEY} loader")
    documents: ComplianceDocuments = found
    return documents


async def compliance_issues(
    info: Info[Any, Any],
    controller: str | None = None,
    as_of: dt.date | None = None,
    recorded_at: dt.datetime | None = None,
) -> list[ComplianceIssueType]:
    """Every gap on `as_of` (default: the context's today) in the controller's record as
    recorded at `recorded_at` (default: now), from its registers in the context's read scope
    (all, for a context without one)."""
    context = info.context
    today = getattr(context, "today", None) or dt.date.today()
    read_scope = getattr(context, "scope", None)
    scope: frozenset[str] | None = getattr(read_scope, "registers", None)
    doc = await _documents(context).controller_document(controller, recorded_at, scope)
    return [ComplianceIssueType.from_issue(issue) for issue in check(doc, as_of or today)]
