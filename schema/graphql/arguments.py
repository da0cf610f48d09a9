"""Optional GraphQL arguments: strawberry's UNSET (not given) and null both mean "not given"."""

from __future__ import annotations

from typing import TypeVar

import strawberry

T = TypeVar("T")


def given(value: T | None) -> T | None:
    """The argument's value, or None when it was left out or null."""
    return None if value is None or value is strawberry.UNSET else value
