"""The root subscription: sub-processor changes as they are committed, resumable by event id.

`subProcessorChanges` without `after` delivers every change committed after it starts. With
`after` (the id of the last change a client received) it first replays the recorded changes
after that one, then goes live, with no gap and no duplicate at the seam:

1. register with the process's follower first, so that live changes are buffered from then on;
   the follower says how far it had read (`position`) when the subscriber registered;
2. replay from the database, page by page, until a page runs out or it has reached `position`
   (everything up to `position` is committed, so the replay sees all of it);
3. deliver the buffered live changes, skipping any the replay already delivered (by sequence).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from typing import Annotated, Any, TypeVar

import strawberry

from schema.change_requests import UnknownChangeEvent
from schema.errors import ErrorCode, RopaError
from schema.graphql.access import Info
from schema.graphql.arguments import given as _given
from schema.graphql.changes import SubProcessorChange
from schema.graphql.context import ChangeStream
from schema.graphql.records import RefKind
from schema.graphql.writes import ChangeRecord

log = logging.getLogger(__name__)

# Recorded changes read per round trip while replaying.
REPLAY_PAGE = 200


class SubscriberFellBehind(RopaError):
    """A subscriber read too slowly and was dropped; it resumes from its last change."""

    code = ErrorCode.SUBSCRIBER_TOO_SLOW

    def __init__(self, last_event_id: str | None) -> None:
        self.last_event_id = last_event_id
        resume = (
            f'subscribe again with after: "{last_event_id}"'
            if last_event_id is not None
            else "subscribe again with `after` set to the id of the last change you received"
        )
        super().__init__(
            f"this subscription fell too far behind the changes and was closed; {resume} "
            "to receive every change since, with none missed"
        )


async def follow(
    stream: ChangeStream,
    processor_id: str | None,
    after: int | None,
    page_size: int = REPLAY_PAGE,
    after_id: str | None = None,
) -> AsyncGenerator[ChangeRecord, None]:
    """The changes after sequence `after` (the event `after_id`), or from now when None, then
    live, in order."""
    async with stream.live(processor_id) as live:
        through = live.position
        last_id = after_id
        if after is not None:
            through = after
            while True:
                page = await stream.replay(through, processor_id, page_size)
                for change in page.changes:
                    last_id = change.id
                    yield change
                if page.scanned_through is not None:
                    through = max(through, page.scanned_through)
                if len(page.changes) < page_size or through >= live.position:
                    break
        while True:
            arrived = await live.next()
            if arrived is None:
                raise SubscriberFellBehind(last_id)
            if arrived.sequence <= through:
                continue
            through = arrived.sequence
            last_id = arrived.id
            yield arrived


OptionalRef = Annotated[
    str | None,
    strawberry.argument(description="Only this processor's changes: its id or name, any case"),
]
After = Annotated[
    strawberry.ID | None,
    strawberry.argument(
        description="The id of the last change received: replay every later one, then go live"
    ),
]


def _stream(info: Info) -> ChangeStream:
    stream = info.context.changes
    if stream is None:
        raise RuntimeError("the context has no change stream: subscriptions are not served")
    return stream


F = TypeVar("F", bound=Callable[..., Any])


def subscription(*, description: str) -> Callable[[F], F]:
    """`strawberry.subscription(...)`, typed so that mypy keeps the resolver's signature."""
    decorator: Callable[[F], F] = strawberry.subscription(description=description)
    return decorator


@strawberry.type
class Subscription:
    @subscription(
        description="Changes to sub-processors as they are committed, oldest first; with "
        "`after`, every change since that one first, so a client that reconnects with the id "
        "of the last change it received misses nothing"
    )
    async def sub_processor_changes(
        self, info: Info, processor: OptionalRef = strawberry.UNSET, after: After = strawberry.UNSET
    ) -> AsyncGenerator[SubProcessorChange, None]:
        stream = _stream(info)
        ref = _given(processor)
        processor_id = (
            None if ref is None else await info.context.reader.resolve(RefKind.ORGANISATION, ref)
        )
        event_id = _given(after)
        start: int | None = None
        if event_id is not None:
            start = await stream.sequence_of(event_id)
            if start is None:
                raise UnknownChangeEvent("after", event_id)
        try:
            async with aclosing(follow(stream, processor_id, start, after_id=event_id)) as changes:
                async for change in changes:
                    # The principal was settled at connection_init; it holds for the socket.
                    scope = info.context.scope
                    if scope.reads_engagement(change.registers, change.activity_registers):
                        yield SubProcessorChange.from_record(change, scope)
        except RopaError:
            raise
        except Exception:
            log.exception("the subProcessorChanges subscription failed")
            raise
