"""The registry's writes and its change history, as the GraphQL layer asks for them.

`GraphWriter` carries out mutations and webhook administration, each in one write transaction,
and turns their expected failures into `InvalidInput`; `GraphHistory` reads the recorded
changes. One of each is built per request (`services.registry.loaders.build_context`).
"""

from __future__ import annotations

import datetime as dt

from strawberry.dataloader import DataLoader

from graph import audit, engagement_writes, objections, watched_lists, webhooks
from graph import subprocessor_changes as spc
from graph.database import Database
from graph.read import changes as read_changes
from graph.secret_box import SecretBox
from graph.webhook_targets import system_resolve
from graph.webhooks import WebhookEndpoint
from schema.access.policy import Forbidden, may_administer_webhook
from schema.access.principal import Principal
from schema.change_requests import EngagementUpdate, EngageRequest, FieldProblem, InvalidInput
from schema.errors import NotFound
from schema.graphql.records import EngagementRecord, ObjectionRecord, OrganisationRecord
from schema.graphql.writes import NewWebhook
from schema.subscriptions import SubscribeResult, SubscriptionsUnavailable
from schema.webhook_url import AsyncResolver, InvalidWebhookUrl, TargetPolicy, resolve_webhook_url
from services.registry.portal.subscribe import Subscriptions


def _refused(field: str, error: Exception) -> InvalidInput:
    return InvalidInput([FieldProblem(field, str(error))])


class GraphWriter:
    """Mutations and webhook administration on the graph."""

    def __init__(
        self,
        db: Database,
        policy: TargetPolicy,
        box: SecretBox,
        resolve: AsyncResolver = system_resolve,
        subscriptions: Subscriptions | None = None,
        client: str | None = None,
    ) -> None:
        self._db = db
        self._policy = policy
        self._box = box
        self._resolve = resolve
        self._subscriptions = subscriptions
        self._client = client

    async def list_changes(
        self, organisation: str | None, status: str | None
    ) -> list[watched_lists.ListChange]:
        return await self._db.read(watched_lists.changes_in, organisation, status)

    async def list_change(self, change_id: str) -> watched_lists.ListChange | None:
        return await self._db.read(watched_lists.change_in, change_id)

    async def decide_list_change(
        self, change_id: str, status: str, principal: Principal
    ) -> watched_lists.ListChange:
        now = dt.datetime.now(dt.UTC)
        try:
            if status == watched_lists.CONFIRMED:
                return await self._db.write(watched_lists.confirm_in, change_id, principal, now)
            return await self._db.write(
                watched_lists.decide_in, change_id, status, principal.name, now
            )
        except NotFound as missing:
            raise _refused("id", missing) from missing

    async def subscribe_by_email(self, processor: str, email: str, digest: bool) -> SubscribeResult:
        if self._subscriptions is None:
            raise SubscriptionsUnavailable("e-mail subscriptions are not available here")
        return await self._subscriptions.subscribe(processor, email, digest, self._client)

    async def engage(self, request: EngageRequest, principal: Principal) -> EngagementRecord:
        return (await engagement_writes.engage(self._db, request, principal)).engagement

    async def update_engagement(
        self, engagement_id: str, update: EngagementUpdate, principal: Principal
    ) -> EngagementRecord:
        written = await engagement_writes.update(self._db, engagement_id, update, principal)
        return written.engagement

    async def end_engagement(
        self, engagement_id: str, until: dt.date, principal: Principal
    ) -> EngagementRecord:
        return (await engagement_writes.end(self._db, engagement_id, until, principal)).engagement

    async def object_to_engagement(
        self, engagement_id: str, reason: str, principal: Principal, today: dt.date
    ) -> ObjectionRecord:
        return await objections.object_to(self._db, engagement_id, reason, principal, today)

    async def register_webhook(
        self, url: str, processor_id: str | None, principal: Principal
    ) -> NewWebhook:
        """Check the URL, resolving its host (every address must be allowed), then register
        with the principal's scope: it is sent only the changes of those registers."""
        try:
            await resolve_webhook_url(url, self._policy, self._resolve)
            created = await webhooks.register(
                self._db,
                url,
                processor_id,
                principal.name,
                self._policy,
                principal.registers,
                box=self._box,
            )
        except InvalidWebhookUrl as refused:
            raise _refused("url", refused) from refused
        except NotFound as missing:
            raise _refused("processor", missing) from missing
        return NewWebhook(created.endpoint, created.secret.get_secret_value())

    async def webhooks(
        self, processor_id: str | None, principal: Principal
    ) -> list[WebhookEndpoint]:
        found = await webhooks.list_endpoints(self._db, processor_id)
        return [w for w in found if may_administer_webhook(principal, w.registers)]

    async def _administered(
        self, webhook_id: str, principal: Principal, field: str
    ) -> WebhookEndpoint:
        try:
            endpoint = await webhooks.get(self._db, webhook_id)
        except NotFound as missing:
            raise _refused(field, missing) from missing
        if not may_administer_webhook(principal, endpoint.registers):
            raise Forbidden(
                f"'{principal.name}' may not administer the webhook '{webhook_id}': "
                "it was registered for registers outside its scope"
            )
        return endpoint

    async def remove_webhook(self, webhook_id: str, principal: Principal) -> WebhookEndpoint:
        endpoint = await self._administered(webhook_id, principal, "id")
        await webhooks.remove(self._db, webhook_id)
        return endpoint

    async def redeliver(
        self, webhook_id: str, after: int | None, principal: Principal
    ) -> WebhookEndpoint:
        await self._administered(webhook_id, principal, "webhook")
        try:
            return await webhooks.redeliver(self._db, webhook_id, after)
        except NotFound as missing:
            raise _refused("webhook", missing) from missing
        except webhooks.RedeliveryOutOfRange as out_of_range:
            raise _refused("afterSequence", out_of_range) from out_of_range


class GraphHistory:
    """The recorded sub-processor changes, and the organisations they name."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._organisations: DataLoader[str, OrganisationRecord | None] = DataLoader(
            load_fn=self._load_organisations
        )

    async def _load_organisations(self, ids: list[str]) -> list[OrganisationRecord | None]:
        found = await read_changes.recorded_organisations(self._db, ids)
        return [found.get(i) for i in ids]

    async def changes(
        self,
        processor_id: str | None,
        after: str | None,
        first: int,
        since: dt.date | None = None,
        registers: frozenset[str] | None = None,
    ) -> list[spc.SubProcessorChange]:
        return await read_changes.history(self._db, processor_id, after, first, since, registers)

    async def sequence_of(self, event_id: str) -> int | None:
        return await self._db.read(read_changes.sequence_of, event_id)

    async def audit_log(self, register: str, after: int, first: int) -> audit.LogPage | None:
        return await self._db.read(audit.audit_log_in, register, after, first)

    async def organisation(self, organisation_id: str) -> OrganisationRecord | None:
        return await self._organisations.load(organisation_id)
