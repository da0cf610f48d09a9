"""Error codes and masking (ErrorCodes), and the Date scalar, on a schema of their own."""

from __future__ import annotations

import datetime as dt
import logging
from functools import partial

import pytest
import strawberry
from strawberry.schema.config import StrawberryConfig

from schema.errors import DatabaseUnavailable, NotFound
from schema.graphql.errors import UNEXPECTED_MESSAGE, ErrorCodes
from schema.graphql.scalars import DATE, parse_date
from schema.graphql.schema import RegistrySchema


@strawberry.type
class Query:
    @strawberry.field
    def bug(self) -> str:
        raise KeyError("internal detail")

    @strawberry.field
    def missing(self) -> str:
        raise NotFound("organisation", "Hogwarts")

    @strawberry.field
    def down(self) -> str:
        raise DatabaseUnavailable("Neo4j is unavailable: couldn't connect to 10.0.0.7:7687")

    @strawberry.field
    def day(self, on: dt.date) -> dt.date:
        return on + dt.timedelta(days=1)


def _schema(show: bool) -> RegistrySchema:
    return RegistrySchema(
        query=Query,
        config=StrawberryConfig(scalar_map={dt.date: DATE}),
        extensions=[partial(ErrorCodes, show_unexpected=show)],
    )


async def test_unexpected_errors_are_masked_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="schema.graphql.errors"):
        result = await _schema(show=False).execute("{ bug }")
    [error] = result.errors or []
    assert error.message == UNEXPECTED_MESSAGE
    assert error.extensions == {"code": "INTERNAL_SERVER_ERROR"}
    assert error.path == ["bug"]
    assert "internal detail" not in str(error.formatted)
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.exc_info is not None
    assert "internal detail" in str(record.exc_info[1])


async def test_development_shows_unexpected_errors() -> None:
    result = await _schema(show=True).execute("{ bug }")
    [error] = result.errors or []
    assert "internal detail" in error.message
    assert error.extensions == {"code": "INTERNAL_SERVER_ERROR", "exception": "KeyError"}


@pytest.mark.parametrize("show", [False, True])
async def test_domain_errors_keep_their_message_and_code(show: bool) -> None:
    result = await _schema(show=show).execute("{ missing }")
    [error] = result.errors or []
    assert error.message == "no organisation with id or name 'Hogwarts'"
    assert error.extensions == {"code": "NOT_FOUND"}


async def test_database_unavailable_does_not_leak_addresses() -> None:
    result = await _schema(show=False).execute("{ down }")
    [error] = result.errors or []
    assert error.extensions == {"code": "DATABASE_UNAVAILABLE"}
    assert "10.0.0.7" not in error.message
    assert "unavailable" in error.message


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        ("{ missing", None, "GRAPHQL_PARSE_FAILED"),
        ("{ nothing }", None, "GRAPHQL_VALIDATION_FAILED"),
        ('{ day(on: "2022-02-30") }', None, "GRAPHQL_VALIDATION_FAILED"),
        ("query ($d: Date!) { day(on: $d) }", {"d": "tomorrow"}, "BAD_USER_INPUT"),
    ],
)
async def test_client_mistakes_have_codes_and_locations(
    query: str, variables: dict[str, str] | None, code: str
) -> None:
    result = await _schema(show=False).execute(query, variable_values=variables)
    [error] = result.errors or []
    assert error.extensions == {"code": code}
    assert error.locations
    assert error.message != UNEXPECTED_MESSAGE


async def test_dates_round_trip_as_iso_calendar_dates() -> None:
    result = await _schema(show=False).execute('{ day(on: "2024-02-28") }')
    assert result.data == {"day": "2024-02-29"}


@pytest.mark.parametrize("text", ["2022-02-14", "2024-02-29"])
def test_parse_date_accepts_calendar_dates(text: str) -> None:
    assert parse_date(text).isoformat() == text


@pytest.mark.parametrize(
    "value", ["2022-2-14", "20220214", "2022-W07-1", "2022-02-14T00:00", "2023-02-29", 20220214]
)
def test_parse_date_rejects_anything_else(value: object) -> None:
    with pytest.raises(ValueError, match=r"."):
        parse_date(value)


def test_every_error_code_is_one_of_the_enum() -> None:
    # A new code is added to schema.errors.ErrorCode, never written as a string in a class.
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    literal = re.compile(r'^\s+code(?::\s*str)?\s*=\s*"', re.M)
    written = [
        str(path.relative_to(root))
        for package in ("schema", "graph", "services")
        for path in (root / package).rglob("*.py")
        if "node_modules" not in path.parts and literal.search(path.read_text())
    ]
    assert written == []
