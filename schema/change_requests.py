"""What a DPO asks to change about engagements, and why such a request can be refused (pure).

The GraphQL mutations build these; `graph.engagement_writes` carries them out. Organisations
and categories are named as the client typed them (an id or a name, any case): they are
resolved inside the write transaction, so that what is checked is what is written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from schema.document import EngagementStatus
from schema.errors import ErrorCode, RopaError


@dataclass(frozen=True)
class EngageRequest:
    """Engage a sub-processor: a new engagement (and, if needed, a new organisation)."""

    processor: str
    sub_processor: str
    purpose: str
    categories: tuple[str, ...]
    since: dt.date
    sub_processor_country: str | None = None
    location: str | None = None
    status: EngagementStatus = EngagementStatus.ACTIVE
    # The notice date; None: not announced.
    announced_on: dt.date | None = None


@dataclass(frozen=True)
class EngagementUpdate:
    """New values for some fields of an engagement; None leaves a field as it is."""

    purpose: str | None = None
    categories: tuple[str, ...] | None = None
    location: str | None = None
    since: dt.date | None = None
    status: EngagementStatus | None = None


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong with a request: the input field (None: the request as a whole), why."""

    field: str | None
    message: str


class InvalidInput(RopaError):
    """A request that cannot be carried out as asked; nothing was written."""

    code = ErrorCode.BAD_USER_INPUT

    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(p.message for p in problems) or "invalid input")


class UnknownChangeEvent(RopaError):
    """A change event id (a cursor such as `after`) that names no recorded change."""

    code = ErrorCode.BAD_USER_INPUT

    def __init__(self, field: str, event_id: str) -> None:
        self.field = field
        self.event_id = event_id
        super().__init__(f"{field}: no change event with id '{event_id}'")
