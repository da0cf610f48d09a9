"""Run every gap rule over a document as of a day: the one entry point CLI and API share."""

from __future__ import annotations

import datetime as dt

from schema.compliance import (
    rules_lawfulness,
    rules_placeholders,
    rules_processors,
    rules_record,
    rules_time,
    rules_transfers,
)
from schema.compliance.index import DocumentIndex
from schema.compliance.issues import ComplianceIssue, Severity
from schema.compliance.rule import Context, Rule
from schema.compliance.validity import not_ended
from schema.document import RopaDocument

RULES: tuple[Rule, ...] = (
    *rules_lawfulness.RULES,
    *rules_record.RULES,
    *rules_processors.RULES,
    *rules_transfers.RULES,
    *rules_placeholders.RULES,
    *rules_time.RULES,
)

_SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1}


def rule(rule_id: str) -> Rule:
    """The rule with this id; KeyError if there is none."""
    for candidate in RULES:
        if candidate.id == rule_id:
            return candidate
    raise KeyError(rule_id)


def check(doc: RopaDocument, as_of: dt.date) -> list[ComplianceIssue]:
    """Every gap in `doc` on `as_of`, errors first, then by rule and entity."""
    context = Context(doc=not_ended(doc, as_of), full=doc, as_of=as_of, index=DocumentIndex(doc))
    issues = {
        ComplianceIssue(
            rule_id=r.id,
            severity=r.severity,
            entity_kind=finding.entity_kind,
            entity_id=finding.entity_id,
            message=finding.message,
            reference=finding.reference or r.reference,
        )
        for r in RULES
        for finding in r.check(context)
    }
    return sorted(
        issues,
        key=lambda i: (
            _SEVERITY_ORDER[i.severity],
            i.rule_id,
            i.entity_kind,
            i.entity_id,
            i.message,
        ),
    )
