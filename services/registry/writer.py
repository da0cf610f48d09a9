"""The registry's writes and its change history, as the GraphQL layer asks for them.

`GraphWriter` carries out mutations and webhook administration, each in one write transaction,
and turns their expected failures into `InvalidInput`; `GraphHistory` reads the recorded
changes. One of each is built per request (`services.registry.loaders.build_context`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
from collections.abc import Iterable

from strawberry.dataloader import DataLoader

from graph import engagement_writes, webhooks
from graph import subprocessor_changes as spc
from graph.database import Database
from graph.read import changes as read_changes
from graph.webhooks import WebhookEndpoint
from schema.change_requests import EngagementUpdate, EngageRequest, FieldProblem, InvalidInput
from schema.errors import NotFound
from schema.graphql.records import EngagementRecord, OrganisationRecord
from schema.graphql.writes import NewWebhook
from schema.webhook_url import AsyncResolver, InvalidWebhookUrl, TargetPolicy, resolve_webhook_url


async def system_resolve(host: str, port: int) -> Iterable[str]:
    """The addresses `host` resolves to, by the system resolver, without blocking the loop."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _refused(field: str, error: Exception) -> InvalidInput:
    return InvalidInput([FieldProblem(field, str(error))])


class GraphWriter:
    """Mutations and webhook administration on the graph."""

    def __init__(
        self, db: Database, policy: TargetPolicy, resolve: AsyncResolver = system_resolve
    ) -> None:
        self._db = db
        self._policy = policy
        self._resolve = resolve

    async def engage(self, request: EngageRequest, actor: str) -> EngagementRecord:
        return (await engagement_writes.engage(self._db, request, actor)).engagement

    async def update_engagement(
        self, engagement_id: str, update: EngagementUpdate, actor: str
    ) -> EngagementRecord:
        return (await engagement_writes.update(self._db, engagement_id, update, actor)).engagement

    async def end_engagement(
        self, engagement_id: str, until: dt.date, actor: str
    ) -> EngagementRecord:
        return (await engagement_writes.end(self._db, engagement_id, until, actor)).engagement

    async def register_webhook(self, url: str, processor_id: str | None, actor: str) -> NewWebhook:
        """Check the URL, resolving its host (every address must be allowed), then register."""
        try:
            await resolve_webhook_url(url, self._policy, self._resolve)
            created = await webhooks.register(self._db, url, processor_id, actor, self._policy)
        except InvalidWebhookUrl as refused:
            raise _refused("url", refused) from refused
        except NotFound as missing:
            raise _refused("processor", missing) from missing
        return NewWebhook(created.endpoint, created.secret.get_secret_value())

    async def webhooks(self, processor_id: str | None) -> list[WebhookEndpoint]:
        return await webhooks.list_endpoints(self._db, processor_id)

    async def remove_webhook(self, webhook_id: str) -> WebhookEndpoint:
        try:
            endpoint = await webhooks.get(self._db, webhook_id)
        except NotFound as missing:
            raise _refused("id", missing) from missing
        await webhooks.remove(self._db, webhook_id)
        return endpoint

    async def redeliver(self, webhook_id: str, after: int | None) -> WebhookEndpoint:
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
        self, processor_id: str | None, after: str | None, first: int
    ) -> list[spc.SubProcessorChange]:
        return await read_changes.history(self._db, processor_id, after, first)

    async def sequence_of(self, event_id: str) -> int | None:
        return await self._db.read(read_changes.sequence_of, event_id)

    async def organisation(self, organisation_id: str) -> OrganisationRecord | None:
        return await self._organisations.load(organisation_id)
