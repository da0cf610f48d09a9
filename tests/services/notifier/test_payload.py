"""The body of a delivery (pure; no I/O)."""

from __future__ import annotations

import datetime as dt
import json

from graph.subprocessor_changes import SubProcessorChange
from services.notifier.payload import body

CHANGE = SubProcessorChange(
    id="5b0c3a4e-0000-4000-8000-000000000001",
    sequence=42,
    type="REMOVED",
    occurred_at=dt.datetime(2024, 3, 1, 9, 30, tzinfo=dt.UTC),
    effective_from=dt.date(2024, 2, 29),
    processor="school-transition-ltd",
    sub_processor="hôte-cloud",
    before={"id": "e1", "purpose": "Hosting"},
    after=None,
    actor="dpo@allestree",
)


def test_the_body_follows_the_standard_webhooks_shape() -> None:
    message = json.loads(body(CHANGE, None))
    assert message == {
        "type": "subprocessor.removed",
        "timestamp": "2024-03-01T09:30:00+00:00",
        "data": {
            "id": CHANGE.id,
            "sequence": 42,
            "type": "REMOVED",
            "occurredAt": "2024-03-01T09:30:00+00:00",
            "effectiveFrom": "2024-02-29",
            "processor": "school-transition-ltd",
            "subProcessor": "hôte-cloud",
            "before": {"id": "e1", "purpose": "Hosting"},
            "after": None,
            "actor": "dpo@allestree",
        },
    }


def test_the_body_is_compact_utf8_and_the_same_bytes_every_time() -> None:
    raw = body(CHANGE, None)
    assert raw == body(CHANGE, None)
    assert "hôte-cloud".encode() in raw
    assert b": " not in raw


def test_an_endpoint_outside_the_changes_registers_is_not_told_who_made_it() -> None:
    """A processor's change sent to its controller's endpoint: no person of the processor."""
    theirs = SubProcessorChange(**{**CHANGE.__dict__, "registers": ("school-transition-ltd",)})
    assert json.loads(body(theirs, frozenset({"allestree"})))["data"]["actor"] is None
    own = json.loads(body(theirs, frozenset({"school-transition-ltd"})))
    assert own["data"]["actor"] == "dpo@allestree"
    assert json.loads(body(theirs, None))["data"]["actor"] == "dpo@allestree"
