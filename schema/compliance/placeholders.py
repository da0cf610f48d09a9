"""The placeholders a record holds: values marked as standing in for ones not yet known."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from schema.compliance.issues import EntityKind
from schema.document import (
    Contact,
    Engagement,
    Flow,
    Organisation,
    ProcessingActivity,
    ProcessorAppointment,
    RopaDocument,
)

Marked = Organisation | ProcessingActivity | ProcessorAppointment | Flow | Engagement


@dataclass(frozen=True)
class Placeholder:
    """One marked field: where it is, which field, and the texts it would print."""

    entity_kind: EntityKind
    entity_id: str
    field: str
    texts: tuple[str, ...]

    @property
    def where(self) -> str:
        """'organisation allestree-woodlands: dpo'."""
        return f"{self.entity_kind.value} {self.entity_id}: {self.field}"


def _texts(value: object) -> tuple[str, ...]:
    # A contact prints its name and ways to reach it; its role ("Data Protection Officer") is
    # the heading it goes under, not the placeholder.
    if isinstance(value, Contact):
        found = (value.name, value.email, value.phone, value.address)
        return tuple(t for t in found if t)
    if isinstance(value, list):
        return tuple(str(v) for v in value if v)
    return (str(value),) if value not in (None, "") else ()


def _of(
    kind: EntityKind, entity_id: str, entity: Marked, prefix: str = ""
) -> Iterator[Placeholder]:
    for name in entity.placeholders:
        yield Placeholder(kind, entity_id, prefix + name, _texts(getattr(entity, name)))


def placeholders(doc: RopaDocument) -> list[Placeholder]:
    """Every placeholder in `doc`, in document order."""
    out: list[Placeholder] = []
    for org in doc.organisations:
        out.extend(_of(EntityKind.ORGANISATION, org.id, org))
    for activity in doc.activities:
        out.extend(_of(EntityKind.ACTIVITY, activity.id, activity))
        for appointment in activity.processors:
            prefix = f"processors[{appointment.organisation}]."
            out.extend(_of(EntityKind.ACTIVITY, activity.id, appointment, prefix))
    for flow in doc.flows:
        out.extend(_of(EntityKind.FLOW, flow.id, flow))
    for engagement in doc.engagements:
        out.extend(_of(EntityKind.ENGAGEMENT, engagement.id, engagement))
    return out


def printed(doc: RopaDocument, text: str) -> list[Placeholder]:
    """The placeholders of `doc` whose values appear in `text` (a rendered notice)."""
    return [p for p in placeholders(doc) if any(t in text for t in p.texts)]
