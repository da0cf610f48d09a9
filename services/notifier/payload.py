"""The JSON body of a webhook delivery (documented in docs/webhooks.md)."""

from __future__ import annotations

import json

from graph.objections import ObjectionNotice
from graph.subprocessor_changes import ADDED, CHANGED, REMOVED, SubProcessorChange

EVENT_TYPES = {
    ADDED: "subprocessor.added",
    CHANGED: "subprocessor.changed",
    REMOVED: "subprocessor.removed",
}
OBJECTION_CREATED = "objection.created"


def body(change: SubProcessorChange | ObjectionNotice) -> bytes:
    """`{"type", "timestamp", "data"}` as Standard Webhooks suggests; the same bytes every time."""
    kind = OBJECTION_CREATED if isinstance(change, ObjectionNotice) else EVENT_TYPES[change.type]
    message = {
        "type": kind,
        "timestamp": change.occurred_at.isoformat(),
        "data": change.as_json(),
    }
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
