"""Subscriptions multiplexed: subscribers asking the same thing share one execution.

A change reaches every live subscriber, and most of them ask the same document (a portal's
live view). Executing the selection once per subscriber costs a graphql-core execution and a
JSON encoding each; here, subscribers of the same (document, variables, operation name,
principal's scope) form a group with one execution, one follower subscriber, and one encoded
payload per event, framed with each subscriber's own operation id and written to its socket
there and then (see `_Member`: no task or queue per subscriber and delivery). Subscribers
using the same operation id are sent the same bytes: the WebSocket frame is built once per
id and written straight to each connection (services/registry/frames.py) where it can be.

Only live subscriptions group: one with `after` replays recorded changes from where that
client stopped, which is its own (it runs as strawberry runs any operation). A subscriber that
joins a running group receives what the group receives from then on, as if it had subscribed
alone at that moment. A subscriber with too many frames waiting (a client not reading) is
closed with SUBSCRIBER_TOO_SLOW and resumes with `after`, as the follower treats a slow
subscriber; the group carries on for the others. The group ends with its last subscriber.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Callable, Coroutine, Generator, Hashable
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
from services.observability.metrics import SUBSCRIBERS_DROPPED, SUBSCRIPTION_FRAMES_DIRECT
from services.registry.frames import DirectSocket, direct_socket, text_frame

log = logging.getLogger(__name__)

GroupKey = tuple[str, str, str | None, Hashable]


@dataclass(frozen=True)
class _Frame:
    """A `next` message for one operation id, and the id of the change it carries; `wire`,
    its WebSocket frame, when it may be written straight to sockets."""

    text: str
    event_id: str | None
    wire: bytes | None = None


@dataclass(frozen=True)
class _End:
    """The member's stream ended: before executing, with these errors; after its last; or
    `quietly`, when its socket is gone and nothing more can be said."""

    errors: list[dict[str, Any]] | None = None
    quietly: bool = False


class _Rest:
    """The rest of a send that had to wait, awaitable in a task: the coroutine ran up to its
    first wait (`waiting`, the future it waits on), and resumes where it stopped."""

    def __init__(self, coroutine: Coroutine[Any, Any, None], waiting: Any) -> None:
        self._coroutine = coroutine
        self._waiting = waiting

    def __await__(self) -> Generator[Any, None, None]:
        try:
            yield self._waiting  # the task waits on it, as if the coroutine had yielded it
        except BaseException:
            self._coroutine.close()
            raise
        yield from self._coroutine.__await__()


class _Member:
    """One subscriber of a group: its frames are written to its socket as they come.

    A send is stepped synchronously: while the socket takes data (the usual case), writing a
    frame costs no task switch and no queue, which per delivery is most of what a task per
    subscriber would cost. Only a send that has to wait (the client is not reading and the
    transport's buffer is full) is finished in a task of its own, and frames coming
    meanwhile wait in `backlog`, up to `limit`.
    """

    def __init__(
        self,
        operation: Operation[Any, Any],
        send: Callable[[str], Coroutine[Any, Any, None]],
        limit: int,
        direct: DirectSocket | None = None,
    ) -> None:
        self.operation = operation
        self._send = send
        self._limit = limit
        self._direct = direct
        # The start of each `next` message for this subscriber, up to its payload.
        self.prefix = f'{{"id":{json.dumps(operation.id)},"type":"next","payload":'
        self.backlog: deque[_Frame] = deque()
        self.writing: asyncio.Task[None] | None = None
        self.done: asyncio.Future[_End] = asyncio.get_running_loop().create_future()
        self._ending: _End | None = None
        self._reason: Callable[[str | None], _Frame] | None = None
        self.last_id: str | None = None
        # Whether the last frame offered went straight to the socket (for the counter).
        self.direct = False

    def offer(self, frame: _Frame) -> bool:
        """Write `frame`, or keep it until the socket takes more; False when `limit` frames
        are waiting already (the group then drops this subscriber)."""
        self.direct = False
        if self.done.done() or self._ending is not None or self.operation.completed:
            return True
        if self.writing is not None:
            if len(self.backlog) >= self._limit:
                return False
            self.backlog.append(frame)
            return True
        if frame.wire is not None and self._direct is not None and self._direct.write(frame.wire):
            self.last_id = frame.event_id or self.last_id
            self.direct = True
            return True
        sending = self._send(frame.text)
        try:
            waiting = sending.send(None)
        except StopIteration:
            self.last_id = frame.event_id or self.last_id
            return True
        except Exception:
            self.end(_End(quietly=True))
            return True
        self.writing = asyncio.create_task(self._write(_Rest(sending, waiting), frame))
        return True

    async def _write(self, rest: _Rest, frame: _Frame) -> None:
        try:
            await rest
            self.last_id = frame.event_id or self.last_id
            while True:
                if self.backlog:
                    frame = self.backlog.popleft()
                elif self._reason is not None:
                    # Said after the frames on their way, with the last of them.
                    frame, self._reason = self._reason(self.last_id), None
                else:
                    break
                await self._send(frame.text)
                self.last_id = frame.event_id or self.last_id
        except Exception:
            self._ending = _End(quietly=True)
        finally:
            self.writing = None
        if self._ending is not None:
            self.end(self._ending)

    def end(self, end: _End) -> None:
        """The stream ends with `end`, after what is already waiting to be written."""
        if self.writing is not None and not end.quietly:
            self._ending = self._ending or end
        elif not self.done.done():
            self.done.set_result(end)

    def drop(self, reason: Callable[[str | None], _Frame]) -> None:
        """Forget what is waiting (it can be replayed): write why (`reason`, given the id of
        the last change written), then end."""
        self.backlog.clear()
        if self.writing is None:
            self.offer(reason(self.last_id))
            self.end(_End())
        else:
            self._reason = reason
            self._ending = _End()


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
            member.end(end)

    def _dispatch(self, result: ExecutionResult) -> None:
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [e.formatted for e in result.errors]
        if result.extensions:
            payload["extensions"] = result.extensions
        if isinstance(result.data, dict) and len(result.data) == 1:
            self.root_field = next(iter(result.data))
        # Encoded once for the group; each member's frame differs only by its operation id,
        # so it is framed once per id (most clients use the same one).
        ending = json.dumps(payload) + "}"
        event_id = _event_id(result.data)
        frames: dict[str, _Frame] = {}
        direct = 0
        for member in list(self.members):
            frame = frames.get(member.prefix)
            if frame is None:
                text = member.prefix + ending
                frame = frames[member.prefix] = _Frame(text, event_id, text_frame(text))
            if not member.offer(frame):
                self._drop(member)
            elif member.direct:
                direct += 1
        if direct:
            SUBSCRIPTION_FRAMES_DIRECT.inc(direct)

    def _drop(self, member: _Member) -> None:
        log.warning(
            "dropped a subscriber %d changes behind; it resumes from its last one",
            len(member.backlog),
        )
        self.members.discard(member)
        self._groups.dropped += 1
        SUBSCRIBERS_DROPPED.inc()
        root_field = self.root_field

        def reason(last_id: str | None) -> _Frame:
            error = {
                "message": str(SubscriberFellBehind(last_id)),
                "path": [root_field],
                "extensions": {"code": SubscriberFellBehind.code},
            }
            payload = json.dumps({"data": None, "errors": [error]})
            return _Frame(member.prefix + payload + "}", None)

        # What is waiting is forgotten (it can be replayed): the reason is all that is left.
        member.drop(reason)


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
        socket = handler.websocket.ws  # type: ignore[attr-defined]
        member = _Member(operation, socket.send_text, self._queue_size, direct_socket(socket.scope))
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = _Group(self, key, handler.schema)
            group.members.add(member)
            group.start(operation, handler.context, handler.root_value)
        else:
            group.members.add(member)
        try:
            end = await member.done
            if end.quietly or operation.completed:
                return
            if end.errors:
                message = {"id": operation.id, "type": "error", "payload": end.errors}
            else:
                message = {"id": operation.id, "type": "complete"}
            await operation.send_operation_message(message)  # type: ignore[arg-type]
        finally:
            group.members.discard(member)
            if member.writing is not None:
                member.writing.cancel()
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
