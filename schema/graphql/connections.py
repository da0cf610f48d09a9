"""Relay-style connections: `totalCount`, `edges { cursor node }`, `nodes` and `pageInfo`.

Every root list field `xs` has a twin `xsConnection` that takes the same arguments plus `first`
and `after` (docs/api-connections.md). The list is computed as for `xs` (so both answer from the
same rules and the same scope) and then sliced; a cursor is the opaque position of an item in
that order, valid for the same arguments.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Annotated, Generic, TypeVar

import strawberry

from schema.errors import ErrorCode, RopaError
from schema.graphql.access import resolver
from schema.graphql.arguments import given

T = TypeVar("T")

MAX_FIRST = 500
_PREFIX = "ropa:"
# The metadata key of a `...Connection` twin naming the list field (of the same type) it pages:
# what the operation cost model sizes the page by (schema.graphql.limits.cost).
PAGES_LIST = "ropa.pages-list"


class InvalidPage(RopaError):
    """`first` out of range, or an `after` cursor this field did not hand out."""

    code = ErrorCode.BAD_USER_INPUT


@strawberry.type(description="Where a page of a connection sits in the whole list")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type(description="One item of a connection, with the cursor to page on after it")
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(description="A page of a list, with the size of the whole list")
class Connection(Generic[T]):
    total_count: int = strawberry.field(description="How many items the whole list has")
    edges: list[Edge[T]]
    page_info: PageInfo

    @resolver(description="The page's items, without their cursors")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


First = Annotated[
    int | None,
    strawberry.argument(description=f"At most this many items (1 to {MAX_FIRST}); none: all"),
]
After = Annotated[
    str | None,
    strawberry.argument(description="The cursor of the last item seen; none: from the start"),
]


def cursor(position: int) -> str:
    """The opaque cursor of the item at `position` (0-based)."""
    return base64.urlsafe_b64encode(f"{_PREFIX}{position}".encode()).decode()


def position(value: str) -> int:
    """The position a cursor stands for; InvalidPage when it is not one of ours."""
    try:
        text = base64.urlsafe_b64decode(value.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    number = text.removeprefix(_PREFIX)
    if not text.startswith(_PREFIX) or not number.isdigit():
        raise InvalidPage(f"after: {value!r} is not a cursor this list gave")
    return int(number)


def paginate(
    items: Sequence[T], first: int | None = None, after: str | None = None
) -> Connection[T]:
    """The page of `items` after the cursor `after`, at most `first` long."""
    given_first = given(first)
    given_after = given(after)
    if given_first is not None and not 1 <= given_first <= MAX_FIRST:
        raise InvalidPage(f"first: must be between 1 and {MAX_FIRST}, not {given_first}")
    start = 0 if given_after is None else position(given_after) + 1
    end = len(items) if given_first is None else min(len(items), start + given_first)
    edges = [Edge(cursor=cursor(i), node=items[i]) for i in range(start, end)]
    return Connection(
        total_count=len(items),
        edges=edges,
        page_info=PageInfo(
            has_next_page=end < len(items),
            has_previous_page=start > 0,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )
