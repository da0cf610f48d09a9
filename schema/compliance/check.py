"""Run every gap rule over a document as of a day: the one entry point CLI and API share.

A register whose owner controls none of its activities and is appointed processor in them is
that processor's own record (Article 30(2), School Transition Limited's): it is checked for
the processor's duties only (the rules whose `duties` hold Duty.PROCESSOR), over the
processing it carries out (the activities it is appointed in and its own engagements). The
controller's duties (its lawful bases, DPIAs, its DPO, its disclosures) are the gaps of the
controller's register, which a check of that register reports.
"""

from __future__ import annotations

import datetime as dt

from schema.compliance import (
    rules_lawfulness,
    rules_placeholders,
    rules_processor_record,
    rules_processors,
    rules_record,
    rules_time,
    rules_transfers,
)
from schema.compliance.index import DocumentIndex
from schema.compliance.issues import ComplianceIssue, Severity
from schema.compliance.rule import Context, Duty, Rule
from schema.compliance.validity import not_ended
from schema.document import RopaDocument

RULES: tuple[Rule, ...] = (
    *rules_lawfulness.RULES,
    *rules_record.RULES,
    *rules_processors.RULES,
    *rules_processor_record.RULES,
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


def processor_of(doc: RopaDocument) -> str | None:
    """The processor whose own record (Article 30(2)) `doc` is: its register's owner, when that
    controls none of its activities and is appointed processor in one; else None."""
    owner = doc.register_info.owner
    if any(a.controller == owner or owner in a.joint_controllers for a in doc.activities):
        return None
    serves = any(p.organisation == owner for a in doc.activities for p in a.processors)
    return owner if serves else None


def _processing_of(doc: RopaDocument, processor: str) -> RopaDocument:
    """A processor's record cut to its processing: the activities it is appointed in and its
    own engagements (the controllers' disclosures are theirs)."""
    return doc.model_copy(
        update={
            "activities": [
                a for a in doc.activities if any(p.organisation == processor for p in a.processors)
            ],
            "flows": [],
            "engagements": [e for e in doc.engagements if e.processor == processor],
        }
    )


def check(doc: RopaDocument, as_of: dt.date) -> list[ComplianceIssue]:
    """Every gap in `doc` on `as_of`, errors first, then by rule and entity; in a processor's
    own record, the gaps of its duties only."""
    processor = processor_of(doc)
    duty = Duty.CONTROLLER if processor is None else Duty.PROCESSOR
    record = doc if processor is None else _processing_of(doc, processor)
    context = Context(
        doc=not_ended(record, as_of),
        full=record,
        as_of=as_of,
        index=DocumentIndex(record),
        processor=processor,
    )
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
        if duty in r.duties
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
