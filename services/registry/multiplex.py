"""Subscriptions multiplexed: subscribers asking the same thing share one execution.

A change reaches every live subscriber, and most of them ask the same document (a portal's
live view). Executing the selection once per subscriber costs a graphql-core execution and a
JSON encoding each; here, subscribers of the same (document, variables, operation name,
principal's scope) form a group with one execution, one follower subscriber, and one encoded
payload per event, framed with each subscriber's own operation id and queued for it.

Only live subscriptions group: one with `after` replays recorded changes from where that
client stopped, which is its own (it runs as strawberry runs any operation). A subscriber that
joins a running group receives what the group receives from then on, as if it had subscribed
alone at that moment. A subscriber whose queue is full (a client not reading) is closed with
SUBSCRIBER_TOO_SLOW and resumes with `after`, as the follower treats a slow subscriber; the
group carries on for the others. The group ends with its last subscriber.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse
from graphql.language import FieldNode
from strawberry.schema import BaseSchema
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.types.execution import ExecutionResult, PreExecutionError

from schema.graphql.subscription import SubscriberFellBehind

log = logging.getLogger(__name__)

GroupKey = tuple[str, str, str | None, Hashable]


@dataclass(frozen=True)
class _Frame:
    """A `next` message, framed for one subscriber, and the id of the change it carries."""

    text: str
    event_id: str | None


@dataclass(frozen=True)
class _End:
    """The group's stream ended: before executing, with these errors; or after its last."""

    errors: list[dict[str, Any]] | None = None


@dataclass(eq=False)
class _Member:
    operation: Operation[Any, Any]
    queue: asyncio.Queue[_Frame | _End]
    last_id: str | None = None

    def offer(self, item: _Frame | _End) -> bool:
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            return False
        return True


def _scope(context: Any) -> Hashable:
    # What the answer may depend on about who asks: the role and the registers it may read.
    principal = getattr(context, "principal", None)
    if principal is None:
        return None
    return (str(getattr(principal, "role", "")), getattr(principal, "registers", None))


def group_key(operation: Operation[Any, Any], context: Any) -> GroupKey | None:
    """The key of the group this operation can join; None when it must run alone (not a
    subscription, one that replays from `after`, or a document that does not parse)."""
    try:
        document = parse(operation.query)
    except GraphQLError:
        return None
    definitions = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation.operation_name is not None:
        definitions = [
            d
            for d in definitions
            if d.name is not None and d.name.value == operation.operation_name
        ]
    if len(definitions) != 1 or definitions[0].operation is not OperationType.SUBSCRIPTION:
        return None
    for selection in definitions[0].selection_set.selections:
        if not isinstance(selection, FieldNode):
            return None  # fragments at the root: not worth the analysis
        if any(argument.name.value == "after" for argument in selection.arguments or ()):
            return None
    variables = json.dumps(operation.variables or {}, sort_keys=True, default=str)
    return (operation.query, variables, operation.operation_name, _scope(context))


def _event_id(data: Any) -> str | None:
    # The id of the change a payload carries, when the selection asks for it.
    if isinstance(data, dict) and len(data) == 1:
        value = next(iter(data.values()))
        if isinstance(value, dict) and isinstance(value.get("id"), str):
            return str(value["id"])
    return None


class _Group:
    """One execution of a subscription, fanned out to every member."""

    def __init__(self, groups: SubscriptionGroups, key: GroupKey, schema: BaseSchema) -> None:
        self._groups = groups
        self.key = key
        self._schema = schema
        self.members: set[_Member] = set()
        self.task: asyncio.Task[None] | None = None
        self.root_field = "subscription"

    def start(self, operation: Operation[Any, Any], context: Any, root_value: Any) -> None:
        self.task = asyncio.create_task(
            self._run(operation, context, root_value), name="subscription-group"
        )

    async def _run(self, operation: Operation[Any, Any], context: Any, root_value: Any) -> None:
        end = _End()
        try:
            source = await self._schema.stream(
                operation.query,
                variable_values=operation.variables,
                context_value=context,
                root_value=root_value,
                operation_name=operation.operation_name,
            )
            async with contextlib.aclosing(source):
                async for result in source:
                    if isinstance(result, PreExecutionError):
                        end = _End([dict(e.formatted) for e in result.errors or []])
                        break
                    if not isinstance(result, ExecutionResult):
                        end = _End([{"message": "incremental delivery is not supported"}])
                        break
                    self._dispatch(result)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("a multiplexed subscription failed")
            end = _End([{"message": "Unexpected error."}])
        self._groups.forget(self)
        for member in list(self.members):
            if not member.offer(end):
                member.queue = _ending(end)

    def _dispatch(self, result: ExecutionResult) -> None:
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [e.formatted for e in result.errors]
        if result.extensions:
            payload["extensions"] = result.extensions
        if isinstance(result.data, dict) and len(result.data) == 1:
            self.root_field = next(iter(result.data))
        encoded = json.dumps(payload)
        event_id = _event_id(result.data)
        for member in list(self.members):
            operation_id = json.dumps(member.operation.id)
            frame = _Frame(f'{{"id":{operation_id},"type":"next","payload":{encoded}}}', event_id)
            if not member.offer(frame):
                self._drop(member)

    def _drop(self, member: _Member) -> None:
        log.warning(
            "dropped a subscriber %d changes behind; it resumes from its last one",
            member.queue.qsize(),
        )
        self.members.discard(member)
        self._groups.dropped += 1
        # What is queued is forgotten (it can be replayed): the reason is all that is left.
        error = {
            "message": str(SubscriberFellBehind(member.last_id)),
            "path": [self.root_field],
            "extensions": {"code": SubscriberFellBehind.code},
        }
        frame = json.dumps(
            {
                "id": member.operation.id,
                "type": "next",
                "payload": {"data": None, "errors": [error]},
            }
        )
        member.queue = _ending(_End(), _Frame(frame, None))


def _ending(end: _End, *before: _Frame) -> asyncio.Queue[_Frame | _End]:
    queue: asyncio.Queue[_Frame | _End] = asyncio.Queue()
    for frame in before:
        queue.put_nowait(frame)
    queue.put_nowait(end)
    return queue


class SubscriptionGroups:
    """The process's groups of subscribers, by what they ask."""

    def __init__(self, queue_size: int = 1000) -> None:
        self._groups: dict[GroupKey, _Group] = {}
        self._queue_size = queue_size
        self.dropped = 0

    @property
    def groups(self) -> int:
        """How many distinct subscriptions are being executed."""
        return len(self._groups)

    def forget(self, group: _Group) -> None:
        """`group` has ended: new subscribers start another."""
        if self._groups.get(group.key) is group:
            del self._groups[group.key]

    async def serve(
        self,
        handler: BaseGraphQLTransportWSHandler[Any, Any],
        operation: Operation[Any, Any],
        key: GroupKey,
    ) -> None:
        """Deliver the group's frames to `operation` until it or the group ends."""
        member = _Member(operation, asyncio.Queue(self._queue_size))
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = _Group(self, key, handler.schema)
            group.members.add(member)
            group.start(operation, handler.context, handler.root_value)
        else:
            group.members.add(member)
        send = handler.websocket.ws.send_text  # type: ignore[attr-defined]
        try:
            while True:
                item = await member.queue.get()
                if operation.completed:
                    return
                if isinstance(item, _Frame):
                    await send(item.text)
                    member.last_id = item.event_id or member.last_id
                    continue
                if item.errors:
                    message = {"id": operation.id, "type": "error", "payload": item.errors}
                else:
                    message = {"id": operation.id, "type": "complete"}
                await operation.send_operation_message(message)  # type: ignore[arg-type]
                return
        finally:
            group.members.discard(member)
            if not group.members and group.task is not None and not group.task.done():
                self.forget(group)
                group.task.cancel()


class MultiplexedTransportWSHandler(BaseGraphQLTransportWSHandler[Any, Any]):
    """graphql-transport-ws, with live subscriptions run through the view's groups."""

    async def run_operation(self, operation: Operation[Any, Any]) -> None:
        """Join a group when the operation can; else run it as strawberry does."""
        groups: SubscriptionGroups | None = getattr(self.view, "subscription_groups", None)
        key = group_key(operation, self.context) if groups is not None else None
        if groups is None or key is None:
            await super().run_operation(operation)
            return
        await groups.serve(self, operation, key)
