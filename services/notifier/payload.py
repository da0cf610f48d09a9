"""The JSON body of a webhook delivery (documented in docs/webhooks.md)."""

from __future__ import annotations

import json

from graph.subprocessor_changes import ADDED, CHANGED, REMOVED, SubProcessorChange

EVENT_TYPES = {
    ADDED: "subprocessor.added",
    CHANGED: "subprocessor.changed",
    REMOVED: "subprocessor.removed",
}


def body(change: SubProcessorChange) -> bytes:
    """`{"type", "timestamp", "data"}` as Standard Webhooks suggests; the same bytes every time."""
    message = {
        "type": EVENT_TYPES[change.type],
        "timestamp": change.occurred_at.isoformat(),
        "data": change.as_json(),
    }
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
