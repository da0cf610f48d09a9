"""The ROPA document: a whole register as YAML, modelled with pydantic v2.

Field names are snake_case in YAML. Every entity has a short stable `id` (a slug) that other
entities refer to. Cross-references are checked by `schema.validation`, not here, so that one
pass can report every broken reference with its path.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from schema.node_properties import Stored
from schema.recurrence import check_recurrence, describe

# ropa/v2 cites the law behind each use of a basis (`Citation`); ropa/v1 listed statutes beside
# the bases and let a basis rest on statutes for every use. `schema.document_upgrade` reads v1.
DOCUMENT_VERSION = "ropa/v2"
LEGACY_VERSION = "ropa/v1"

Slug = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", min_length=1, max_length=80),
    Field(description="A short stable id: lower-case letters, digits and hyphens"),
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Url = Annotated[str, StringConstraints(pattern=r"^(https?://|mailto:|urn:|file:|/)\S+$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)

    # The fields that name other entities: links in the graph, not node properties
    # (schema.node_properties); every other field is stored on the entity's node.
    LINKS: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _assumptions_are_about_fields(self) -> _Model:
        for item in getattr(self, "assumptions", ()):
            if item.about is not None and item.about not in assumable(type(self)):
                known = ", ".join(assumable(type(self)))
                entity = type(self).__name__ + (f" {self.id!r}" if hasattr(self, "id") else "")
                raise ValueError(
                    f"assumptions: {entity} has no field {item.about!r} for an "
                    f"assumption to be about (one of: {known}; or leave `about` out for an "
                    "assumption about the whole entity)"
                )
        return self


# Fields a placeholder can never be: what identifies an entity, and the lists about it.
_NOT_PLACEHOLDERS = frozenset({"id", "placeholders", "assumptions"})


def assumable(model: type[BaseModel]) -> list[str]:
    """The fields of `model` an assumption held on it may be about, by their document names."""
    return [name for name in model.model_fields if name not in _NOT_PLACEHOLDERS]


class Assumption(_Model):
    """Something the record assumes where its sources do not say, held on the entity it is
    about: about one of its fields (`about`), or about the whole entity."""

    text: Text = Field(description="What is assumed, and why")
    about: str | None = Field(
        default=None,
        description="The entity's field the assumption concerns, by its document name (e.g. "
        "legal_bases, retention, location); none: the whole entity",
    )


def _assumption_shorthand(value: object) -> object:
    return {"text": value} if isinstance(value, str) else value


# A plain string is an assumption about the whole entity (the form before `about`); it is
# stored as one (schema.node_properties: Stored(columns=True)), so such entities are unchanged.
AssumptionItem = Annotated[
    Assumption,
    BeforeValidator(_assumption_shorthand, json_schema_input_type=Text | Assumption),
]
Assumptions = Annotated[list[AssumptionItem], Stored(columns=True)]


def _assumptions() -> Any:
    return Field(
        default_factory=list,
        description="What the record assumes about this entity: a text (about the whole "
        "entity), or {about: FIELD, text} for an assumption about one of its fields",
    )


class _Marked(_Model):
    """Something whose fields may hold placeholders: values that stand in for unknown ones.

    A placeholder is printed nowhere as if it were true: `ropa check` names each one
    (`placeholder-in-record`), and `ropa notice` writes only a draft while one would be printed.
    """

    placeholders: list[str] = Field(
        default_factory=list,
        description="Names of this entity's fields whose values are placeholders, to be "
        "replaced (e.g. [dpo] for a DPO not yet named, [contract] for a contract not yet found)",
    )

    @model_validator(mode="after")
    def _placeholders_are_set_fields(self) -> _Marked:
        fields = type(self).model_fields
        for name in self.placeholders:
            if name not in fields or name in _NOT_PLACEHOLDERS:
                known = ", ".join(sorted(set(fields) - _NOT_PLACEHOLDERS))
                raise ValueError(f"placeholders: {name!r} is not a field here (one of: {known})")
            if getattr(self, name) in (None, "", []):
                raise ValueError(f"placeholders: {name!r} has no value to be a placeholder")
        return self


class Recurrence(_Model):
    """Processing that repeats: an occurrence starts every `every` from the first day (an
    activity's or flow's `valid_from`, an engagement's `since`) and applies for `lasts`; the
    series ends with `valid_until` (or `until`), if given."""

    every: str = Field(
        description="ISO 8601 period between the starts of occurrences, e.g. P1Y (every year)"
    )
    lasts: str = Field(
        description="ISO 8601 period each occurrence applies for, at most `every`, e.g. P1Y"
    )
    note: Text | None = Field(
        default=None,
        description="What happens to each occurrence's data, e.g. each cohort's data is deleted "
        "once its transition completes",
    )

    @model_validator(mode="after")
    def _periods(self) -> Recurrence:
        check_recurrence(self.every, self.lasts)
        return self

    def series(self, first: str, last: str | None = None) -> str:
        """In words, with the series' first (and last) day as the caller writes dates."""
        until = f" until {last}" if last else ""
        note = f" {self.note.rstrip('.')}." if self.note else ""
        return describe(self.every, self.lasts, f" from {first}{until}") + "." + note


def _check_series(
    recurs: Recurrence | None, first: dt.date | None, start_name: str, end_name: str
) -> None:
    if recurs is not None and first is None:
        raise ValueError(
            f"recurs needs {start_name}: the first day of the first occurrence (the series "
            f"ends on {end_name}, if given)"
        )


class _Dated(_Marked):
    """Something valid over an interval of dates; `valid_until` is the last day it applies."""

    valid_from: dt.date | None = Field(default=None, description="First day it applies")
    valid_until: dt.date | None = Field(default=None, description="Last day it applies")
    recurs: Annotated[Recurrence | None, Stored(prefix="recur")] = Field(
        default=None,
        description="Applies in occurrences repeating from valid_from (until valid_until)",
    )

    @model_validator(mode="after")
    def _interval(self) -> _Dated:
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValueError(
                f"valid_until {self.valid_until} is before valid_from {self.valid_from}"
            )
        _check_series(self.recurs, self.valid_from, "valid_from", "valid_until")
        return self


class OrganisationKind(StrEnum):
    SCHOOL = "school"
    LOCAL_AUTHORITY = "local-authority"
    GOVERNMENT = "government"
    POLICE = "police"
    HEALTH = "health"
    SOCIAL_CARE = "social-care"
    EDUCATION_PROVIDER = "education-provider"
    COMPANY = "company"
    CHARITY = "charity"
    OTHER = "other"


class Contact(_Model):
    name: Text | None = None
    role: Text | None = None
    email: Text | None = None
    phone: Text | None = None
    address: Text | None = None


class Organisation(_Marked):
    id: Slug
    name: Text
    kind: OrganisationKind = OrganisationKind.OTHER
    description: Text | None = None
    address: Text | None = None
    country: Text | None = Field(default=None, description="ISO 3166 alpha-2 code or name")
    registration: Text | None = Field(default=None, description="Company or charity number")
    ico_registration: Text | None = None
    website: Url | None = None
    sub_processor_list: Url | None = Field(
        default=None,
        description="Where this organisation publishes the list of its own sub-processors "
        "(JSON, Atom or RSS); the notifier watches it and records each difference for a DPO",
    )
    keeps_register: Slug | None = Field(
        default=None,
        description="The id of the register this organisation keeps itself (a processor's "
        "Article 30(2) record), which declares its own sub-processors: a controller's register "
        "names it instead of copying them",
    )
    contact: Contact | None = None
    dpo: Contact | None = Field(default=None, description="Data Protection Officer")
    representative: Contact | None = Field(default=None, description="UK/EU representative")
    group: bool = Field(
        default=False,
        description="Stands for a class of recipients (e.g. 'approved third parties')",
    )
    appropriate_policy_document: Url | None = Field(
        default=None,
        description="The controller's appropriate policy document (DPA 2018 Schedule 1 Part 4), "
        "which most Schedule 1 conditions need",
    )
    assumptions: Assumptions = _assumptions()


class DataSubjectCategory(_Model):
    LINKS = frozenset({"parent"})

    id: Slug
    name: Text
    description: Text | None = None
    parent: Slug | None = None
    assumptions: Assumptions = _assumptions()


class DataCategory(_Model):
    LINKS = frozenset({"parent"})

    id: Slug
    name: Text
    description: Text | None = None
    examples: list[Text] = Field(default_factory=list)
    parent: Slug | None = Field(default=None, description="The broader category (PART_OF)")
    special: bool = Field(default=False, description="Special category data (Article 9)")
    criminal_offence: bool = Field(default=False, description="Criminal offence data (Article 10)")
    assumptions: Assumptions = _assumptions()


class LegalBasisKind(StrEnum):
    ARTICLE_6 = "article-6"
    ARTICLE_9 = "article-9"
    ARTICLE_10 = "article-10"
    DPA_SCHEDULE_1 = "dpa-2018-schedule-1"
    DPA_SCHEDULE_2 = "dpa-2018-schedule-2"
    STATUTE = "statute"
    GUIDANCE = "guidance"


class LegalBasis(_Model):
    """An Article 6 basis, an Article 9 condition, a DPA 2018 Schedule 1 condition or a statute."""

    LINKS = frozenset({"rests_on"})

    id: Slug
    kind: LegalBasisKind
    title: Text
    article: Text | None = Field(
        default=None, description="e.g. 6(1)(e), 9(2)(g), Sch 1 Pt 2 para 18"
    )
    description: Text | None = None
    rests_on: list[Slug] = Field(
        default_factory=list,
        description="For a statute or guidance: the statutes it is made or issued under. An "
        "Article basis rests on law per use (`Citation.rests_on`), not here",
    )
    url: Url | None = None
    needs_policy_document: bool | None = Field(
        default=None,
        description="Whether relying on this DPA 2018 Schedule 1 condition needs an appropriate "
        "policy document; by default, paragraph 1 and every Part 2 condition do (Sch 1 paras "
        "1(1)(b) and 5(1))",
    )
    assumptions: Assumptions = _assumptions()


# Kinds of legal basis that are law a basis rests on, rather than a basis themselves.
LAW_KINDS = frozenset(
    {
        LegalBasisKind.STATUTE,
        LegalBasisKind.GUIDANCE,
        LegalBasisKind.DPA_SCHEDULE_1,
        LegalBasisKind.DPA_SCHEDULE_2,
    }
)


class LawRef(_Model):
    """A statute, regulation, statutory guidance or DPA 2018 condition that one use rests on."""

    law: Slug = Field(description="Id of the statute, guidance or Schedule condition")
    provision: Text | None = Field(
        default=None, description="The section, regulation or paragraph for this use: s537A"
    )


def _law_shorthand(value: object) -> object:
    return {"law": value} if isinstance(value, str) else value


class Citation(_Model):
    """An Article basis as one activity or flow relies on it, with the law it rests on there."""

    basis: Slug = Field(description="Id of the Article 6 basis or Article 9/10 condition")
    rests_on: list[
        Annotated[LawRef, BeforeValidator(_law_shorthand, json_schema_input_type=Slug | LawRef)]
    ] = Field(
        default_factory=list,
        description="The statutes, regulations, guidance or DPA 2018 Schedule 1 conditions "
        "this use of the basis rests on (an id, or {law, provision})",
    )

    def ids(self) -> list[str]:
        """The basis, then each law it rests on."""
        return [self.basis, *(ref.law for ref in self.rests_on)]


def _citation_shorthand(value: object) -> object:
    return {"basis": value} if isinstance(value, str) else value


CitationItem = Annotated[
    Citation, BeforeValidator(_citation_shorthand, json_schema_input_type=Slug | Citation)
]


def basis_ids(citations: list[Citation]) -> list[str]:
    """The bases cited, each once, in order."""
    return list(dict.fromkeys(c.basis for c in citations))


def cited_ids(citations: list[Citation]) -> list[str]:
    """Every basis and law the citations name, each once, in order."""
    return list(dict.fromkeys(i for c in citations for i in c.ids()))


class System(_Model):
    LINKS = frozenset({"operator"})

    id: Slug
    name: Text
    description: Text | None = None
    operator: Slug | None = Field(default=None, description="Organisation that runs it")
    location: Text | None = Field(default=None, description="Where the data is hosted")
    assumptions: Assumptions = _assumptions()


class ThirdCountryTransfer(_Model):
    country: Text
    recipient: Slug | None = None
    safeguard: Text | None = Field(
        default=None, description="Adequacy regulations, IDTA, Addendum to EU SCCs, ..."
    )
    documentation: Url | None = None


class DpiaStatus(StrEnum):
    NOT_REQUIRED = "not-required"
    REQUIRED = "required"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"


class Dpia(_Model):
    status: DpiaStatus = DpiaStatus.NOT_REQUIRED
    link: Url | None = None
    completed_on: dt.date | None = None
    notes: Text | None = None


class ProcessorAppointment(_Marked):
    """A processor acting for the controller in this activity (Article 28 contract)."""

    organisation: Slug
    contract: Url | None = Field(default=None, description="Link to the processor contract")
    notice_period_days: int | None = Field(
        default=None, ge=0, description="Advance notice of sub-processor changes the contract gives"
    )
    objection_window_days: int | None = Field(default=None, ge=0)


class ProcessingActivity(_Dated):
    LINKS = frozenset(
        {
            "controller",
            "joint_controllers",
            "processors",
            "data_subjects",
            "data_categories",
            "legal_bases",
            "systems",
        }
    )

    id: Slug
    name: Text
    description: Text | None = None
    controller: Slug
    joint_controllers: list[Slug] = Field(default_factory=list)
    processors: list[ProcessorAppointment] = Field(default_factory=list)
    purposes: list[Text] = Field(default_factory=list)
    data_subjects: list[Slug] = Field(default_factory=list)
    data_categories: list[Slug] = Field(default_factory=list)
    recipient_categories: list[Text] = Field(
        default_factory=list, description="Article 30(1)(d) categories of recipients, in words"
    )
    legal_bases: list[CitationItem] = Field(
        default_factory=list,
        description="Article 6 bases and Article 9/10 conditions, each with the law it rests "
        "on for this activity (an id alone for a basis that needs none, such as consent)",
    )
    legitimate_interests: Text | None = None
    legitimate_interests_assessment: Url | None = None
    consent_record: Text | None = Field(default=None, description="Where consent is recorded")
    consent_withdrawal: Text | None = Field(
        default=None, description="How a person withdraws consent (UK GDPR Article 7(3))"
    )
    rights: Text | None = Field(
        default=None, description="Rights available to individuals, and how they are met"
    )
    automated_decision_making: Text | None = Field(
        default=None, description="Whether decisions are automated, including profiling"
    )
    source: Text | None = Field(default=None, description="Where the personal data comes from")
    location: Text | None = Field(default=None, description="Where the data is held")
    systems: list[Slug] = Field(default_factory=list)
    retention: Text | None = None
    retention_schedule: Url | None = None
    security_measures: list[Text] = Field(default_factory=list)
    third_country_transfers: list[ThirdCountryTransfer] = Field(default_factory=list)
    dpia: Dpia | None = None
    assumptions: Assumptions = _assumptions()


class FlowKind(StrEnum):
    DISCLOSURE = "disclosure"
    ONWARD_DISCLOSURE = "onward-disclosure"


class RecipientRole(StrEnum):
    CONTROLLER = "controller"
    JOINT_CONTROLLER = "joint-controller"
    PROCESSOR = "processor"


class Flow(_Dated):
    """A disclosure of data from one organisation to another, within an activity."""

    LINKS = frozenset(
        {"activity", "source", "recipient", "data_categories", "legal_bases", "system"}
    )

    id: Slug
    activity: Slug
    source: Slug = Field(alias="from", description="The organisation that discloses")
    recipient: Slug = Field(alias="to", description="The organisation that receives")
    kind: FlowKind = FlowKind.DISCLOSURE
    recipient_role: RecipientRole = RecipientRole.CONTROLLER
    data_categories: list[Slug] = Field(min_length=1)
    legal_bases: list[CitationItem] = Field(
        default_factory=list,
        description="The bases of this disclosure, each with the law it rests on here",
    )
    purpose: Text | None = None
    condition: Text | None = Field(default=None, description="e.g. once enrolment is confirmed")
    system: Slug | None = Field(default=None, description="The system the data moves through")
    method: Text | None = Field(default=None, description="How it is transferred")
    frequency: Text | None = None
    contract: Url | None = Field(
        default=None, description="Processor contract or sharing agreement"
    )
    retention: Text | None = Field(default=None, description="How long the recipient keeps it")
    assumptions: Assumptions = _assumptions()

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class EngagementStatus(StrEnum):
    PROPOSED = "proposed"
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


class Engagement(_Marked):
    """A processor's engagement of a sub-processor."""

    LINKS = frozenset({"processor", "sub_processor", "data_categories", "activity"})

    id: Slug
    processor: Slug
    sub_processor: Slug
    purpose: Text | None = None
    data_categories: list[Slug] = Field(default_factory=list)
    location: Text | None = None
    since: dt.date | None = Field(default=None, description="Effective date")
    until: dt.date | None = Field(default=None, description="Last day of the engagement")
    status: EngagementStatus = EngagementStatus.ACTIVE
    recurs: Annotated[Recurrence | None, Stored(prefix="recur")] = Field(
        default=None, description="In force in occurrences repeating from since (until until)"
    )
    notice_date: dt.date | None = Field(default=None, description="When controllers were told")
    activity: Slug | None = None
    contract: Url | None = Field(default=None, description="The sub-processing contract")
    assumptions: Assumptions = _assumptions()

    @model_validator(mode="after")
    def _interval(self) -> Engagement:
        if self.since and self.until and self.until < self.since:
            raise ValueError(f"until {self.until} is before since {self.since}")
        _check_series(self.recurs, self.since, "since", "until")
        return self


class RegisterInfo(_Model):
    LINKS = frozenset({"owner"})

    id: Slug
    name: Text
    owner: Slug = Field(description="The organisation that keeps this register")
    description: Text | None = None


class RopaDocument(_Model):
    """A whole register: what `ropa apply` makes the graph match."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    version: Annotated[
        str,
        StringConstraints(pattern=r"^ropa/v[12]$"),
        Field(description="ropa/v2; a ropa/v1 document is read through `ropa document upgrade`"),
    ] = DOCUMENT_VERSION
    register_info: RegisterInfo = Field(alias="register")
    organisations: list[Organisation] = Field(default_factory=list)
    data_subjects: list[DataSubjectCategory] = Field(default_factory=list)
    data_categories: list[DataCategory] = Field(default_factory=list)
    legal_bases: list[LegalBasis] = Field(default_factory=list)
    systems: list[System] = Field(default_factory=list)
    activities: list[ProcessingActivity] = Field(default_factory=list)
    flows: list[Flow] = Field(default_factory=list)
    engagements: list[Engagement] = Field(default_factory=list)
