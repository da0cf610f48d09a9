"""How resolvers reach the request's loaders."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import strawberry

from schema.graphql.context import Loader, Loaders, RegistryContext

V = TypeVar("V")

Info = strawberry.Info[RegistryContext, None]


class DanglingReference(LookupError):
    """A record names another that is not in the graph: a bug, never the client's fault."""


def loaders(info: Info) -> Loaders:
    """The loaders of the current request."""
    return info.context.loaders


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
