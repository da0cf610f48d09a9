"""What the change API needs from the service: writes, webhook administration, the history.

The service puts an implementation of each in the request context (`writer`, `history`). Their
expected failures are domain errors: `InvalidInput` (its problems go to a payload's `errors`),
`UnknownChangeEvent`, `NotFound`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from schema.access.principal import Principal
from schema.change_requests import EngagementUpdate, EngageRequest
from schema.graphql.records import EngagementRecord, ObjectionRecord, OrganisationRecord
from schema.subscriptions import SubscribeResult


class ChangeRecord(Protocol):
    """One sub-processor change (graph.subprocessor_changes.SubProcessorChange fits)."""

    @property
    def id(self) -> str: ...
    @property
    def sequence(self) -> int: ...
    @property
    def type(self) -> str: ...
    @property
    def occurred_at(self) -> dt.datetime: ...
    @property
    def effective_from(self) -> dt.date: ...
    @property
    def processor(self) -> str: ...
    @property
    def sub_processor(self) -> str: ...
    @property
    def before(self) -> dict[str, Any] | None: ...
    @property
    def after(self) -> dict[str, Any] | None: ...
    @property
    def actor(self) -> str: ...
    @property
    def registers(self) -> tuple[str, ...]: ...
    @property
    def activity_registers(self) -> tuple[str, ...]: ...


class WebhookData(Protocol):
    """A webhook endpoint and its delivery state, never its secret (graph.webhooks fits)."""

    @property
    def id(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def processor(self) -> str | None: ...
    @property
    def status(self) -> str: ...
    @property
    def cursor(self) -> int: ...
    @property
    def created_at(self) -> dt.datetime: ...
    @property
    def created_by(self) -> str: ...
    @property
    def attempts(self) -> int: ...
    @property
    def failing_since(self) -> dt.datetime | None: ...
    @property
    def next_attempt_at(self) -> dt.datetime | None: ...
    @property
    def last_error(self) -> str | None: ...
    @property
    def last_delivered_at(self) -> dt.datetime | None: ...
    @property
    def registers(self) -> frozenset[str] | None: ...


@dataclass(frozen=True)
class NewWebhook:
    """A registered endpoint, with its signing secret: the only time the secret is shown."""

    webhook: WebhookData
    secret: str


class ListChangeData(Protocol):
    """A proposed change (graph.watched_lists.ListChange fits)."""

    @property
    def id(self) -> str: ...
    @property
    def organisation(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def detected_at(self) -> dt.datetime: ...
    @property
    def decided_by(self) -> str | None: ...
    @property
    def decided_at(self) -> dt.datetime | None: ...
    @property
    def engagement(self) -> str | None: ...


class Writer(Protocol):
    """Changes to the register and to webhook endpoints, each in one write transaction."""

    async def engage(self, request: EngageRequest, principal: Principal) -> EngagementRecord:
        """Engage a sub-processor; InvalidInput when refused (nothing written)."""
        ...

    async def update_engagement(
        self, engagement_id: str, update: EngagementUpdate, principal: Principal
    ) -> EngagementRecord:
        """Change some fields of an engagement; InvalidInput when refused."""
        ...

    async def end_engagement(
        self, engagement_id: str, until: dt.date, principal: Principal
    ) -> EngagementRecord:
        """Set an engagement's last day; InvalidInput when refused."""
        ...

    async def object_to_engagement(
        self, engagement_id: str, reason: str, principal: Principal, today: dt.date
    ) -> ObjectionRecord:
        """Record an objection; InvalidInput, Forbidden or ObjectionWindowClosed when refused."""
        ...

    async def list_changes(
        self, organisation: str | None, status: str | None
    ) -> Sequence[ListChangeData]:
        """Proposed changes found in published lists (graph.watched_lists.ListChange)."""
        ...

    async def list_change(self, change_id: str) -> ListChangeData | None:
        """One proposed change by its id; None when there is none."""
        ...

    async def decide_list_change(
        self, change_id: str, status: str, principal: Principal
    ) -> ListChangeData:
        """Confirm (engaging or ending the sub-processor it names, in one transaction) or
        dismiss a proposed change; InvalidInput when there is none, or when the engagement
        cannot be made; Forbidden when the principal may not change it."""
        ...

    async def subscribe_by_email(self, processor: str, email: str, digest: bool) -> SubscribeResult:
        """Start an e-mail subscription (double opt-in); InvalidEmail, NotFound, RateLimited."""
        ...

    async def register_webhook(
        self, url: str, processor_id: str | None, principal: Principal
    ) -> NewWebhook:
        """Register an endpoint with the principal's scope; InvalidInput for a URL the policy
        refuses."""
        ...

    async def webhooks(
        self, processor_id: str | None, principal: Principal
    ) -> Sequence[WebhookData]:
        """Every endpoint the principal administers (or those of one processor), oldest first."""
        ...

    async def remove_webhook(self, webhook_id: str, principal: Principal) -> WebhookData:
        """Remove an endpoint; its last state. InvalidInput when there is none, Forbidden when
        the principal does not administer it."""
        ...

    async def redeliver(
        self, webhook_id: str, after: int | None, principal: Principal
    ) -> WebhookData:
        """Re-activate an endpoint and send again every change after sequence `after`
        (None: from its cursor); InvalidInput when there is no such endpoint or sequence."""
        ...


class AuditRecord(Protocol):
    """One change event of the audit log (graph.changes.ChangeEvent fits)."""

    @property
    def id(self) -> str: ...
    @property
    def sequence(self) -> int: ...
    @property
    def occurred_at(self) -> dt.datetime: ...
    @property
    def register(self) -> str | None: ...
    @property
    def registers(self) -> tuple[str, ...]: ...
    @property
    def entity_type(self) -> str: ...
    @property
    def entity_id(self) -> str: ...
    @property
    def op(self) -> str: ...
    @property
    def before(self) -> dict[str, Any] | None: ...
    @property
    def after(self) -> dict[str, Any] | None: ...
    @property
    def actor(self) -> str: ...
    @property
    def actor_via(self) -> str | None: ...
    @property
    def actor_subject(self) -> str | None: ...
    @property
    def actor_display_name(self) -> str | None: ...
    @property
    def hash(self) -> str | None: ...
    @property
    def prev_hash(self) -> str | None: ...


class AuditPage(Protocol):
    """A page of a register's audit log, and the size of the whole log (graph.audit.LogPage)."""

    @property
    def events(self) -> Sequence[AuditRecord]: ...
    @property
    def total(self) -> int: ...
    @property
    def has_next(self) -> bool: ...


class History(Protocol):
    """The recorded sub-processor changes, and each register's whole audit log."""

    async def audit_log(self, register: str, after: int, first: int) -> AuditPage | None:
        """Up to `first` events of the register after sequence `after`, oldest first; None
        when there is no such register."""
        ...

    async def changes(
        self,
        processor_id: str | None,
        after: str | None,
        first: int,
        since: dt.date | None = None,
        registers: frozenset[str] | None = None,
    ) -> Sequence[ChangeRecord]:
        """Up to `first` changes (belonging to one of `registers`, if given) after the event
        `after` (none: from the first recorded on or after the day `since`), oldest first;
        UnknownChangeEvent."""
        ...

    async def sequence_of(self, event_id: str) -> int | None:
        """The sequence of a change event; None when no event has that id."""
        ...

    def organisation(self, organisation_id: str) -> Awaitable[OrganisationRecord | None]:
        """An organisation as it is, or as last recorded if since removed (batched per tick)."""
        ...
