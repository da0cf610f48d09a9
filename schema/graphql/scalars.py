"""Scalars of the contract: `Date` is an ISO 8601 calendar date, YYYY-MM-DD; `DateTime` an ISO
8601 moment, or (given as an argument) a calendar date naming a whole day."""

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


def parse_moment(value: object) -> dt.datetime | dt.date:
    """A moment from its ISO 8601 text, or a calendar date (a whole day: as `recordedAt`, its
    end, as schema.recorded_at.checked reads it, and as the CLI and HTTP routes read it)."""
    if isinstance(value, str) and _CALENDAR_DATE.fullmatch(value):
        return dt.date.fromisoformat(value)
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO 8601 date and time, got {value!r}")
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"expected an ISO 8601 date and time (such as 2022-06-01T12:00:00Z) or a date "
            f"(YYYY-MM-DD), got {value!r}"
        ) from None


def serialize_moment(value: dt.datetime) -> str:
    """ISO 8601, with the zone as stored."""
    return value.isoformat()


MOMENT: ScalarDefinition = strawberry.scalar(
    name="DateTime",
    description="An ISO 8601 date and time; as an argument, a date (YYYY-MM-DD) names that "
    "day (`recordedAt`: the record at its end)",
    serialize=serialize_moment,
    parse_value=parse_moment,
)
