"""How resolvers reach the request's loaders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import strawberry

from schema.graphql.context import Loader, Loaders, RegistryContext

V = TypeVar("V")

Info = strawberry.Info[RegistryContext, None]


class DanglingReference(LookupError):
    """A record names another that is not in the graph: a bug, never the client's fault."""


def _root(info: Info) -> str:
    path = info.path
    while path.prev is not None:
        path = path.prev
    return str(path.key)


def loaders(info: Info) -> Loaders:
    """The request's loaders of the record this field's root field reads (the current
    record's, or a past record's: see `reads_record`)."""
    return info.context.loaders_for(_root(info))


def reads_record(info: Info, recorded_at: dt.datetime | None) -> dt.datetime | None:
    """Declare that this root field reads the record as recorded at `recorded_at` (None: the
    current record), so that the fields below it load from that record; returns the moment."""
    if recorded_at is not None:
        info.context.root_records[_root(info)] = recorded_at
    return recorded_at


async def one(loader: Loader[str, V | None], key: str, what: str) -> V:
    """The record `key` refers to, which must exist."""
    value = await loader.load(key)
    if value is None:
        raise DanglingReference(f"{what} '{key}' is referenced but missing")
    return value


async def maybe(loader: Loader[str, V | None], key: str | None) -> V | None:
    """The record `key` refers to, or None when there is no reference."""
    if key is None:
        return None
    return await loader.load(key)


async def many(loader: Loader[str, V | None], keys: Iterable[str]) -> list[V]:
    """The records `keys` refer to, in order, skipping any that are missing."""
    values = await loader.load_many(list(keys))
    return [v for v in values if v is not None]


F = TypeVar("F", bound=Callable[..., Any])


def resolver(*, description: str | None = None, name: str | None = None) -> Callable[[F], F]:
    """`strawberry.field(...)` for a resolver method, typed so that mypy keeps its signature."""
    decorator: Callable[[F], F] = strawberry.field(description=description, name=name)
    return decorator
