"""The root mutation: engagements of sub-processors, and webhook endpoints. Each needs a bearer
token with the `dpo` role (UNAUTHENTICATED without one, FORBIDDEN with another role); the token's
name is the actor every change event records.

Expected failures (an unknown processor or category, an end before the start, an engagement
already ended, a refused URL) come back in the payload's `errors`, with nothing written.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, Any

import strawberry

from schema.access.policy import require_change, require_writer
from schema.access.principal import Principal
from schema.change_requests import (
    EngagementUpdate,
    EngageRequest,
    FieldProblem,
    InvalidInput,
    UnknownChangeEvent,
)
from schema.errors import ErrorCode, NotFound, RopaError
from schema.graphql.access import Info, resolver
from schema.graphql.activity import Engagement, Objection
from schema.graphql.arguments import given as _given
from schema.graphql.changes import Webhook, history, processor_id, writer
from schema.graphql.enums import EngagementStatus
from schema.graphql.watched import ListChange
from schema.subscriptions import InvalidEmail

UNSET: Any = strawberry.UNSET


@strawberry.type(description="Why an input was refused: the input field (if one), and why")
class InputError:
    field: str | None
    message: str

    @classmethod
    def from_problem(cls, problem: FieldProblem) -> InputError:
        """The GraphQL view of a domain problem."""
        return cls(field=problem.field, message=problem.message)


@strawberry.input(description="A sub-processor to engage; organisations by id or name")
class EngageSubProcessorInput:
    processor: str
    sub_processor: str = strawberry.field(
        description="Created, with this name, if no organisation has this id or name"
    )
    sub_processor_country: str | None = strawberry.field(
        default=UNSET, description="The new sub-processor's country (used only to create it)"
    )
    purpose: str
    categories: list[str] = strawberry.field(description="Data categories, by id or name")
    location: str | None = strawberry.field(default=UNSET, description="Where the data is held")
    since: dt.date = strawberry.field(
        description="The effective date (effectiveFrom); may lie in the future"
    )
    announced_on: dt.date | None = strawberry.field(
        default=UNSET,
        description="When controllers were told (the notice date); none: today, when recorded",
    )
    status: EngagementStatus | None = strawberry.field(
        default=UNSET,
        description="None: PROPOSED if `since` is after today (it becomes ACTIVE on that day), "
        "else ACTIVE",
    )


@strawberry.input(description="New values; a field left out (or null) stays as it is")
class UpdateEngagementInput:
    purpose: str | None = UNSET
    categories: list[str] | None = UNSET
    location: str | None = UNSET
    since: dt.date | None = UNSET
    status: EngagementStatus | None = UNSET


@strawberry.input(description="A webhook endpoint to register")
class WebhookInput:
    url: str = strawberry.field(description="http or https; public addresses only by default")
    processor: str | None = strawberry.field(
        default=UNSET, description="Only this processor's changes (id or name); none: every one"
    )


@strawberry.type(description="The engagement as it is after the mutation, or why it was refused")
class EngagementPayload:
    engagement: Engagement | None
    errors: list[InputError]


@strawberry.enum(description="What a subscription request did")
class SubscriptionStatus(enum.Enum):
    CONFIRMATION_SENT = "CONFIRMATION_SENT"
    ALREADY_PENDING = "ALREADY_PENDING"
    ALREADY_SUBSCRIBED = "ALREADY_SUBSCRIBED"


@strawberry.type(description="What a subscription request did, or why it was refused")
class EmailSubscriptionPayload:
    status: SubscriptionStatus | None
    message: str | None = strawberry.field(description="What to tell the person who asked")
    errors: list[InputError]


@strawberry.type(description="The change as decided, or why nothing was")
class ListChangePayload:
    change: ListChange | None
    errors: list[InputError]


async def _decide(info: Info, change_id: str, status: str) -> ListChangePayload:
    principal = _dpo(info)
    pending = await writer(info).list_change(change_id)
    if pending is not None:
        # The list is public, but the decision is the register's: only a DPO of a register
        # that declares the watched organisation may take it for everyone.
        owner = await info.context.loaders.organisations.load(pending.organisation)
        require_change(
            principal,
            owner.registers if owner is not None else (),
            f"the published list of '{pending.organisation}'",
        )
    try:
        found = await writer(info).decide_list_change(change_id, status, principal)
    except InvalidInput as refused:
        return ListChangePayload(change=None, errors=_errors(refused.problems))
    return ListChangePayload(change=ListChange.from_record(found), errors=[])


@strawberry.type(description="The objection recorded, or why the request was refused")
class ObjectionPayload:
    objection: Objection | None
    errors: list[InputError]


@strawberry.type(description="A webhook endpoint, or why the request was refused")
class WebhookPayload:
    webhook: Webhook | None
    secret: str | None = strawberry.field(
        description="The signing secret (whsec_...): given by registerWebhook only, this once"
    )
    errors: list[InputError]


@strawberry.type(description="The endpoint as it was when removed, or why nothing was removed")
class RemoveWebhookPayload:
    webhook: Webhook | None
    errors: list[InputError]


def _dpo(info: Info) -> Principal:
    return require_writer(info.context.principal)


def _errors(problems: list[FieldProblem]) -> list[InputError]:
    return [InputError.from_problem(p) for p in problems]


def _refused(field: str, error: RopaError) -> list[InputError]:
    return [InputError(field=field, message=str(error))]


async def _engagement_payload(coroutine: Any) -> EngagementPayload:
    try:
        record = await coroutine
    except InvalidInput as refused:
        return EngagementPayload(engagement=None, errors=_errors(refused.problems))
    return EngagementPayload(engagement=Engagement.from_record(record), errors=[])


async def _webhook_ref(info: Info, ref: str | None) -> tuple[str | None, list[InputError]]:
    try:
        return await processor_id(info, ref), []
    except RopaError as error:
        if error.code not in (ErrorCode.NOT_FOUND, ErrorCode.BAD_USER_INPUT):
            raise
        return None, _refused("processor", error)


@strawberry.type
class Mutation:
    @resolver(
        description="Engage a sub-processor for a processor (dpo role). The engagement is added "
        "to every register that declares the processor"
    )
    async def engage_sub_processor(
        self, info: Info, input: EngageSubProcessorInput
    ) -> EngagementPayload:
        actor = _dpo(info)
        request = EngageRequest(
            processor=input.processor,
            sub_processor=input.sub_processor,
            purpose=input.purpose,
            categories=tuple(input.categories),
            since=input.since,
            sub_processor_country=_given(input.sub_processor_country),
            location=_given(input.location),
            status=_given(input.status)
            or (
                EngagementStatus.PROPOSED
                if input.since > info.context.today
                else EngagementStatus.ACTIVE
            ),
            announced_on=_given(input.announced_on) or info.context.today,
        )
        return await _engagement_payload(writer(info).engage(request, actor))

    @resolver(
        description="Subscribe an e-mail address to a processor's sub-processor changes (no "
        "token needed). Double opt-in: a confirmation message is sent, and nothing else until "
        "its link is followed. Rate-limited per address and per client (code RATE_LIMITED)"
    )
    async def subscribe_by_email(
        self, info: Info, processor: str, email: str, digest: bool | None = False
    ) -> EmailSubscriptionPayload:
        try:
            result = await writer(info).subscribe_by_email(processor, email, bool(digest))
        except InvalidEmail as invalid:
            return EmailSubscriptionPayload(
                status=None, message=None, errors=_refused("email", invalid)
            )
        except NotFound as missing:
            return EmailSubscriptionPayload(
                status=None, message=None, errors=_refused("processor", missing)
            )
        return EmailSubscriptionPayload(
            status=SubscriptionStatus(result.outcome.value), message=result.message, errors=[]
        )

    @resolver(
        description="Confirm a difference found in a published sub-processor list (dpo role), "
        "and do what it says in the same transaction: a name added is engaged as a "
        "sub-processor of the organisation (unless engaged already), a name gone ends its "
        "engagement (last day: the day before the difference was found). Confirming again "
        "does nothing more"
    )
    async def confirm_list_change(self, info: Info, id: strawberry.ID) -> ListChangePayload:
        return await _decide(info, str(id), "confirmed")

    @resolver(
        description="Dismiss a difference found in a published sub-processor list (dpo); no "
        "engagement changes"
    )
    async def dismiss_list_change(self, info: Info, id: strawberry.ID) -> ListChangePayload:
        return await _decide(info, str(id), "dismissed")

    @resolver(
        description="Object to an announced engagement, before its objectionDeadline (dpo role, "
        "of a register whose contract with the processor covers it). Recorded as a change and "
        "sent to the processor's DPO by e-mail and webhook; objecting again returns the first "
        "objection. After the deadline: an error with code OBJECTION_WINDOW_CLOSED"
    )
    async def object_to_engagement(
        self, info: Info, id: strawberry.ID, reason: str
    ) -> ObjectionPayload:
        principal = _dpo(info)
        try:
            found = await writer(info).object_to_engagement(
                str(id), reason, principal, info.context.today
            )
        except InvalidInput as refused:
            return ObjectionPayload(objection=None, errors=_errors(refused.problems))
        return ObjectionPayload(objection=Objection.from_record(found), errors=[])

    @resolver(description="Change some fields of an engagement (dpo role)")
    async def update_engagement(
        self, info: Info, id: strawberry.ID, input: UpdateEngagementInput
    ) -> EngagementPayload:
        actor = _dpo(info)
        categories = _given(input.categories)
        update = EngagementUpdate(
            purpose=_given(input.purpose),
            categories=None if categories is None else tuple(categories),
            location=_given(input.location),
            since=_given(input.since),
            status=_given(input.status),
        )
        return await _engagement_payload(writer(info).update_engagement(str(id), update, actor))

    @resolver(
        description="End an engagement: `until` is its last day (dpo role). Refused for an "
        "engagement that already ended or was withdrawn, or for `until` before its `since`"
    )
    async def end_engagement(
        self, info: Info, id: strawberry.ID, until: dt.date
    ) -> EngagementPayload:
        actor = _dpo(info)
        return await _engagement_payload(writer(info).end_engagement(str(id), until, actor))

    @resolver(
        description="Register a webhook endpoint (dpo role); the answer carries its signing "
        "secret, which is never shown again. It receives the changes recorded after this"
    )
    async def register_webhook(self, info: Info, input: WebhookInput) -> WebhookPayload:
        actor = _dpo(info)
        processor, errors = await _webhook_ref(info, input.processor)
        if errors:
            return WebhookPayload(webhook=None, secret=None, errors=errors)
        try:
            created = await writer(info).register_webhook(input.url, processor, actor)
        except InvalidInput as refused:
            return WebhookPayload(webhook=None, secret=None, errors=_errors(refused.problems))
        return WebhookPayload(
            webhook=Webhook.from_record(created.webhook), secret=created.secret, errors=[]
        )

    @resolver(description="Remove a webhook endpoint (dpo role)")
    async def remove_webhook(self, info: Info, id: strawberry.ID) -> RemoveWebhookPayload:
        actor = _dpo(info)
        try:
            removed = await writer(info).remove_webhook(str(id), actor)
        except InvalidInput as refused:
            return RemoveWebhookPayload(webhook=None, errors=_errors(refused.problems))
        return RemoveWebhookPayload(webhook=Webhook.from_record(removed), errors=[])

    @resolver(
        description="Deliver again to a webhook endpoint, re-activating it if it was disabled "
        "or failed (dpo role): every change after the change `after` (an id), or after the "
        "sequence `afterSequence` (0: every change recorded); with neither, from where its "
        "deliveries stopped"
    )
    async def redeliver(
        self,
        info: Info,
        webhook: strawberry.ID,
        after: strawberry.ID | None = UNSET,
        after_sequence: Annotated[
            int | None, strawberry.argument(description="A change sequence, instead of `after`")
        ] = UNSET,
    ) -> WebhookPayload:
        actor = _dpo(info)
        event, sequence = _given(after), _given(after_sequence)
        if event is not None and sequence is not None:
            message = "give `after` or `afterSequence`, not both"
            return WebhookPayload(
                webhook=None, secret=None, errors=[InputError(field=None, message=message)]
            )
        if event is not None:
            sequence = await history(info).sequence_of(str(event))
            if sequence is None:
                error = UnknownChangeEvent("after", str(event))
                return WebhookPayload(webhook=None, secret=None, errors=_refused("after", error))
        try:
            found = await writer(info).redeliver(str(webhook), sequence, actor)
        except InvalidInput as refused:
            return WebhookPayload(webhook=None, secret=None, errors=_errors(refused.problems))
        return WebhookPayload(webhook=Webhook.from_record(found), secret=None, errors=[])
