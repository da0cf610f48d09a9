"""The exported record: the controller's details, its activities, and its processors."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from schema.compliance.index import DocumentIndex
from schema.compliance.validity import in_force
from schema.document import Organisation, RopaDocument
from schema.errors import NotFound
from schema.ropa_export import values as v
from schema.ropa_export.columns import CONTROLLER_COLUMNS, PROCESSOR_COLUMNS
from schema.ropa_export.controller import activity_row
from schema.ropa_export.processor import own_record_rows, processes_for, processor_rows


@dataclass(frozen=True)
class RopaExport:
    """What every format writes: a title, the details block, and the two tables."""

    controller_id: str
    controller_name: str
    as_of: dt.date
    details: list[list[str]]
    controller_rows: list[list[str]]
    processor_rows: list[list[str]]
    controller_columns: tuple[str, ...] = CONTROLLER_COLUMNS
    processor_columns: tuple[str, ...] = PROCESSOR_COLUMNS
    # A processor's own record (Article 30(2)), from a register it keeps: no controller rows.
    as_processor: bool = False

    @property
    def title(self) -> str:
        """'Record of processing activities of X, as at 2022-03-01'."""
        what = (
            "as processor (UK GDPR Article 30(2))" if self.as_processor else "(UK GDPR Article 30)"
        )
        return (
            f"Record of processing activities {what} of {self.controller_name}, "
            f"as at {self.as_of.isoformat()}"
        )


def build_export(doc: RopaDocument, as_of: dt.date, controller: str | None = None) -> RopaExport:
    """The record of `controller` (default: the register's owner) as it applied on `as_of`.

    `doc` must already hold the values of that day (the graph's as-of read does that).
    """
    controller_id = controller or doc.register_info.owner
    index = DocumentIndex(in_force(doc, as_of))
    org = index.organisations.get(controller_id)
    if org is None:
        raise NotFound("controller", controller_id)
    activities = sorted(
        (
            a
            for a in index.doc.activities
            if a.controller == controller_id or controller_id in a.joint_controllers
        ),
        key=lambda a: a.name,
    )
    if not activities and processes_for(index, controller_id):
        return _processor_export(index, org, as_of)
    # Only the controller's own activities (and their flows and engagements) are its record.
    kept = {a.id for a in activities}
    index = DocumentIndex(
        index.doc.model_copy(
            update={
                "activities": activities,
                "flows": [f for f in index.doc.flows if f.activity in kept],
                "engagements": [
                    e for e in index.doc.engagements if e.activity is None or e.activity in kept
                ],
            }
        )
    )
    contact = org.contact
    name = org.name
    if contact is not None and contact.name:
        name += f" (contact: {v.joined([contact.name, contact.role]).replace(v.SEP, ', ')})"
    details = [
        v.details_row("Controller", name, contact, org.address),
        v.details_row("Data Protection Officer", v.contact_name(org.dpo), org.dpo, None),
        v.details_row(
            "Representative", v.contact_name(org.representative), org.representative, None
        ),
    ]
    return RopaExport(
        controller_id=controller_id,
        controller_name=org.name,
        as_of=as_of,
        details=details,
        controller_rows=[activity_row(index, a, controller_id) for a in activities],
        processor_rows=processor_rows(index, controller_id),
    )


def _processor_export(index: DocumentIndex, org: Organisation, as_of: dt.date) -> RopaExport:
    """The record of an organisation that only processes for others: Article 30(2) alone."""
    details = [
        v.details_row("Processor", org.name, org.contact, org.address),
        v.details_row("Data Protection Officer", v.contact_name(org.dpo), org.dpo, None),
        v.details_row(
            "Representative", v.contact_name(org.representative), org.representative, None
        ),
    ]
    return RopaExport(
        controller_id=org.id,
        controller_name=org.name,
        as_of=as_of,
        details=details,
        controller_rows=[],
        processor_rows=own_record_rows(index, org.id),
        as_processor=True,
    )
