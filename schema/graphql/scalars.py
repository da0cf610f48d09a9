"""Scalars of the contract: `Date` is an ISO 8601 calendar date, YYYY-MM-DD."""

from __future__ import annotations

import datetime as dt
import re

import strawberry
from strawberry.types.scalar import ScalarDefinition

_CALENDAR_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_date(value: object) -> dt.date:
    """A calendar date from its ISO 8601 text; ValueError says what is wrong."""
    # ValueError, not GraphQLError: graphql-core then reports the argument's location.
    if not isinstance(value, str) or not _CALENDAR_DATE.fullmatch(value):
        raise ValueError(f"expected an ISO 8601 calendar date (YYYY-MM-DD), got {value!r}")
    return dt.date.fromisoformat(value)


def serialize_date(value: dt.date) -> str:
    """YYYY-MM-DD."""
    return value.isoformat()


DATE: ScalarDefinition = strawberry.scalar(
    name="Date",
    description="An ISO 8601 calendar date: YYYY-MM-DD",
    serialize=serialize_date,
    parse_value=parse_date,
)
