"""What the loaders hand to the GraphQL types: plain values, with references as ids.

An entity's record has a field for each of its model's node properties (schema.node_properties):
those declared here are the typed view the code reads; `with_properties_of` adds the others,
so that a field added to the document model reaches its record with no change here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from schema import document as d
from schema.access.policy import ReadScope
from schema.document import (
    DpiaStatus,
    EngagementStatus,
    FlowKind,
    LegalBasisKind,
    OrganisationKind,
    RecipientRole,
)
from schema.graphql.record_init import quick_init
from schema.node_properties import with_properties_of


class RefKind(StrEnum):
    """The kinds of thing a query argument can name by id or name."""

    ORGANISATION = "organisation"
    ACTIVITY = "activity"
    DATA_CATEGORY = "data category"
    LEGAL_BASIS = "legal basis"


class HopKind(StrEnum):
    """How data moves along one hop of a lineage path."""

    DISCLOSURE = "disclosure"
    SUB_PROCESSING = "sub-processing"
    ONWARD_DISCLOSURE = "onward-disclosure"


@quick_init
@dataclass(frozen=True)
class AssumptionRecord:
    """What the record assumes, about one field of its entity (`about`) or the whole of it."""

    text: str
    about: str | None = None


@quick_init
@dataclass(frozen=True)
class ContactRecord:
    name: str | None = None
    role: str | None = None
    email: str | None = None
    phone: str | None = None
    address: str | None = None


@quick_init
@dataclass(frozen=True)
@with_properties_of(d.Organisation)
class OrganisationRecord:
    id: str
    name: str
    kind: OrganisationKind
    description: str | None = None
    address: str | None = None
    country: str | None = None
    registration: str | None = None
    ico_registration: str | None = None
    website: str | None = None
    sub_processor_list: str | None = None
    contact: ContactRecord | None = None
    dpo: ContactRecord | None = None
    representative: ContactRecord | None = None
    group: bool = False
    assumptions: tuple[AssumptionRecord, ...] = ()
    # The registers that declare it: who may read it (schema.access.policy).
    registers: tuple[str, ...] = ()


@quick_init
@dataclass(frozen=True)
@with_properties_of(d.DataCategory)
class CategoryRecord:
    id: str
    name: str
    description: str | None = None
    examples: tuple[str, ...] = ()
    special: bool = False
    criminal_offence: bool = False
    assumptions: tuple[AssumptionRecord, ...] = ()
    parent_id: str | None = None
    children_ids: tuple[str, ...] = ()


@quick_init
@dataclass(frozen=True)
@with_properties_of(d.DataSubjectCategory)
class SubjectRecord:
    id: str
    name: str
    description: str | None = None
    assumptions: tuple[AssumptionRecord, ...] = ()
    parent_id: str | None = None
    children_ids: tuple[str, ...] = ()


@quick_init
@dataclass(frozen=True)
class LawRefRecord:
    """A law one use of a basis rests on, with the provision for that use."""

    law_id: str
    provision: str | None = None


@quick_init
@dataclass(frozen=True)
class CitationRecord:
    """A basis as one activity or disclosure cites it, with the law it rests on there."""

    basis_id: str
    laws: tuple[LawRefRecord, ...] = ()


@quick_init
@dataclass(frozen=True)
@with_properties_of(d.LegalBasis)
class LegalBasisRecord:
    id: str
    kind: LegalBasisKind
    title: str
    article: str | None = None
    description: str | None = None
    url: str | None = None
    rests_on_ids: tuple[str, ...] = ()
    legislation: tuple[str, ...] = ()


@quick_init
@dataclass(frozen=True)
@with_properties_of(d.System)
class SystemRecord:
    id: str
    name: str
    description: str | None = None
    location: str | None = None
    operator_id: str | None = None
    # The registers that declare it: who may read it (schema.access.policy).
    registers: tuple[str, ...] = ()


@quick_init
@dataclass(frozen=True)
class ProcessorAppointmentRecord:
    organisation_id: str
    contract: str | None = None
    notice_period_days: int | None = None
    objection_window_days: int | None = None


@quick_init
@dataclass(frozen=True)
class TransferRecord:
    country: str
    recipient_id: str | None = None
    safeguard: str | None = None
    documentation: str | None = None


@quick_init
@dataclass(frozen=True)
class DpiaRecord:
    status: DpiaStatus
    link: str | None = None
    completed_on: dt.date | None = None


@quick_init
@dataclass(frozen=True)
class RecurrenceRecord:
    every: str
    lasts: str
    note: str | None = None


@quick_init
@dataclass(frozen=True)
@with_properties_of(d.ProcessingActivity)
class ActivityRecord:
    id: str
    name: str
    controller_id: str
    description: str | None = None
    joint_controller_ids: tuple[str, ...] = ()
    processors: tuple[ProcessorAppointmentRecord, ...] = ()
    purposes: tuple[str, ...] = ()
    subject_ids: tuple[str, ...] = ()
    category_ids: tuple[str, ...] = ()
    recipient_categories: tuple[str, ...] = ()
    legal_basis_ids: tuple[str, ...] = ()
    citations: tuple[CitationRecord, ...] = ()
    legitimate_interests: str | None = None
    legitimate_interests_assessment: str | None = None
    consent_record: str | None = None
    rights: str | None = None
    automated_decision_making: str | None = None
    source: str | None = None
    location: str | None = None
    system_ids: tuple[str, ...] = ()
    retention: str | None = None
    retention_schedule: str | None = None
    security_measures: tuple[str, ...] = ()
    third_country_transfers: tuple[TransferRecord, ...] = ()
    dpia: DpiaRecord | None = None
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    recurs: RecurrenceRecord | None = None
    assumptions: tuple[AssumptionRecord, ...] = ()
    # The registers that declare it: who may read it (schema.access.policy).
    registers: tuple[str, ...] = ()


@quick_init
@dataclass(frozen=True)
@with_properties_of(d.Flow)
class DisclosureRecord:
    id: str
    kind: FlowKind
    recipient_role: RecipientRole
    activity_id: str
    from_id: str
    to_id: str
    category_ids: tuple[str, ...] = ()
    legal_basis_ids: tuple[str, ...] = ()
    citations: tuple[CitationRecord, ...] = ()
    purpose: str | None = None
    condition: str | None = None
    system_id: str | None = None
    method: str | None = None
    frequency: str | None = None
    contract: str | None = None
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    recurs: RecurrenceRecord | None = None
    assumptions: tuple[AssumptionRecord, ...] = ()
    # The registers that declare it: who may read it (schema.access.policy).
    registers: tuple[str, ...] = ()


@quick_init
@dataclass(frozen=True)
@with_properties_of(d.Engagement)
class EngagementRecord:
    id: str
    processor_id: str
    sub_processor_id: str
    status: EngagementStatus
    purpose: str | None = None
    category_ids: tuple[str, ...] = ()
    location: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    notice_date: dt.date | None = None
    activity_id: str | None = None
    recurs: RecurrenceRecord | None = None
    assumptions: tuple[AssumptionRecord, ...] = ()
    # The registers that declare it: who may read it (schema.access.policy).
    registers: tuple[str, ...] = ()
    # The registers that declare the activity it serves (its controller's): they read it too.
    activity_registers: tuple[str, ...] = ()


@quick_init
@dataclass(frozen=True)
class ObjectionRecord:
    """A controller's objection to an announced engagement, made through its register."""

    id: str
    engagement_id: str
    register_id: str
    reason: str
    objected_at: dt.datetime
    actor: str
    # The registers it belongs to: who may read it (schema.access.policy.objection_registers).
    registers: tuple[str, ...] = ()


@quick_init
@dataclass(frozen=True)
class HopRecord:
    """One step of a lineage path; `category_ids` are the hop's categories the question is about."""

    kind: HopKind
    from_id: str
    to_id: str
    activity_id: str | None
    category_ids: tuple[str, ...]
    legal_basis_ids: tuple[str, ...]
    condition: str | None = None
    disclosure_id: str | None = None
    engagement_id: str | None = None
    # The disclosure's or engagement's own assumptions.
    assumptions: tuple[AssumptionRecord, ...] = ()
    citations: tuple[CitationRecord, ...] = ()
    # Whose lawful bases these are: the activity's controller, or the other controller that
    # discloses under its own (the DfE sharing from the NPD); None on an engagement.
    basis_of_id: str | None = None


@quick_init
@dataclass(frozen=True)
class RecipientRecord:
    """An organisation that receives the data, with every distinct path that reaches it."""

    organisation_id: str
    paths: tuple[tuple[HopRecord, ...], ...]


@quick_init
@dataclass(frozen=True)
class LineageAnswer:
    """A lineage answer for the views: the recipients, and (when asked for with it) the
    activities and engagements on the paths that the asker may read, by id; None: not read."""

    recipients: list[RecipientRecord]
    activities: Mapping[str, ActivityRecord] | None = None
    engagements: Mapping[str, EngagementRecord] | None = None


class OrganisationRole(StrEnum):
    """A role an organisation plays somewhere in the register (roles live on relationships)."""

    CONTROLLER = "controller"
    JOINT_CONTROLLER = "joint-controller"
    PROCESSOR = "processor"
    SUB_PROCESSOR = "sub-processor"
    RECIPIENT = "recipient"


@quick_init
@dataclass(frozen=True)
class ChangeEntryRecord:
    """One recorded change to the register, as the dashboard lists it."""

    sequence: int
    occurred_at: str
    actor: str | None
    op: str
    entity_type: str
    entity_id: str


@quick_init
@dataclass(frozen=True)
class DisclosureFilter:
    """The `disclosures` question, with every reference already resolved to an id."""

    as_of: dt.date
    from_id: str | None = None
    to_id: str | None = None
    category_id: str | None = None
    # The record to read: as recorded at this moment; None: the current one.
    recorded_at: dt.datetime | None = None


@quick_init
@dataclass(frozen=True)
class ActivityFilter:
    """The `activities` question, with every reference already resolved to an id."""

    as_of: dt.date
    controller_id: str | None = None
    category_id: str | None = None
    legal_basis_id: str | None = None
    # The record to read: as recorded at this moment; None: the current one.
    recorded_at: dt.datetime | None = None


@quick_init
@dataclass(frozen=True)
class RecipientsQuestion:
    """The `recipients` question, with every reference resolved to an id (or, asked of the
    reader `named`, as the client gave it)."""

    category_id: str
    as_of: dt.date
    controller_id: str | None = None
    transitive: bool = True
    # The record to read: as recorded at this moment; None: the current one.
    recorded_at: dt.datetime | None = None
    # What the asker may read; None: everything.
    scope: ReadScope | None = None
