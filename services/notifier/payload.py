"""The JSON body of a webhook delivery (documented in docs/webhooks.md)."""

from __future__ import annotations

import json

from graph.objections import ObjectionNotice
from graph.subprocessor_changes import ADDED, CHANGED, REMOVED, SubProcessorChange
from schema.access.policy import ReadScope

EVENT_TYPES = {
    ADDED: "subprocessor.added",
    CHANGED: "subprocessor.changed",
    REMOVED: "subprocessor.removed",
}
OBJECTION_CREATED = "objection.created"


def body(change: SubProcessorChange | ObjectionNotice, registers: frozenset[str] | None) -> bytes:
    """`{"type", "timestamp", "data"}` as Standard Webhooks suggests, for an endpoint of
    `registers` (None: every one); the same bytes every time."""
    data = change.as_json()
    if isinstance(change, ObjectionNotice):
        kind = OBJECTION_CREATED
    else:
        kind = EVENT_TYPES[change.type]
        # A processor's change heard by its controller's endpoint names no one of the processor.
        if not ReadScope(registers, registers, lists=False).reads_people(change.registers):
            data["actor"] = None
    message = {"type": kind, "timestamp": change.occurred_at.isoformat(), "data": data}
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
