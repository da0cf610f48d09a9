"""Error codes for every GraphQL error, and masking of the unexpected ones.

Modelled on strawberry's MaskErrors: expected failures (a bad query, an unknown name, the
database being down) keep their message and get an `extensions.code`; anything else is a bug,
logged in full and shown to clients only as "Unexpected error." unless details are asked for
(development).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.error import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext
from strawberry.types.execution import ExecutionResult, PreExecutionError

from schema.errors import DatabaseUnavailable, ErrorCode, RopaError

log = logging.getLogger(__name__)

PARSE_FAILED = ErrorCode.GRAPHQL_PARSE_FAILED
VALIDATION_FAILED = ErrorCode.GRAPHQL_VALIDATION_FAILED
BAD_USER_INPUT = ErrorCode.BAD_USER_INPUT
INTERNAL = ErrorCode.INTERNAL_SERVER_ERROR
UNEXPECTED_MESSAGE = "Unexpected error."
# The driver's own words name hosts and ports; clients only need to know to retry.
UNAVAILABLE_MESSAGE = "The register's database is unavailable right now; retry shortly."
# graphql-core's "Did you mean 'x'?" hints, which spell out the schema to whoever guesses at it.
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def is_unexpected(error: GraphQLError) -> bool:
    """A failure inside a resolver that is not a domain error: a bug."""
    original = error.original_error
    if original is None or isinstance(original, RopaError | GraphQLError):
        return False
    # Errors without a path come from parsing, validation or variable coercion: the client's.
    return error.path is not None


class ErrorCodes(SchemaExtension):
    """Adds `extensions.code` to every error; masks unexpected ones unless `show_unexpected`;
    drops field and value suggestions unless `show_suggestions`."""

    def __init__(
        self,
        *,
        show_unexpected: bool = False,
        show_suggestions: bool = True,
        execution_context: ExecutionContext | None = None,
    ) -> None:
        self.show_unexpected = show_unexpected
        self.show_suggestions = show_suggestions
        self._parse_failed = False
        self._invalid: list[GraphQLError] = []
        self._streamed = False
        if execution_context is not None:
            self.execution_context = execution_context

    def on_parse(self) -> Iterator[None]:
        yield
        self._parse_failed = self.execution_context.graphql_document is None

    def on_validate(self) -> Iterator[None]:
        yield
        self._invalid = list(self.execution_context.pre_execution_errors or [])

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if self._streamed:
            return  # each result was coded as it was sent
        if isinstance(result, GraphQLExecutionResult | ExecutionResult) and result.errors:
            result.errors = [self._coded(error) for error in result.errors]

    def on_stream_result(self, result: Any) -> Iterator[None]:
        """Streamed results (subscriptions, anything over WebSocket) leave one by one, before
        `on_operation` ends: code each one's errors as it goes."""
        self._streamed = True
        if isinstance(result, GraphQLExecutionResult | ExecutionResult) and result.errors:
            # An exception out of a subscription's source stream comes without a path.
            mid_stream = not isinstance(result, PreExecutionError)
            result.errors = [self._coded(error, mid_stream) for error in result.errors]
        yield

    def _code(self, error: GraphQLError, mid_stream: bool = False) -> str:
        original = error.original_error
        if isinstance(original, RopaError):
            return original.code
        if mid_stream and original is not None and not isinstance(original, GraphQLError):
            return INTERNAL
        if self._parse_failed or isinstance(error, GraphQLSyntaxError):
            return PARSE_FAILED
        if any(error is invalid for invalid in self._invalid):
            return VALIDATION_FAILED
        if error.path is None:
            return BAD_USER_INPUT
        return INTERNAL

    def _coded(self, error: GraphQLError, mid_stream: bool = False) -> GraphQLError:
        code = self._code(error, mid_stream)
        extensions: dict[str, Any] = {**(error.extensions or {}), "code": code}
        message = error.message if self.show_suggestions else _SUGGESTION.sub("", error.message)
        if is_unexpected(error) or code == INTERNAL:
            if self.show_unexpected:
                extensions["exception"] = type(error.original_error).__name__
            else:
                message = UNEXPECTED_MESSAGE
        elif isinstance(error.original_error, DatabaseUnavailable) and not self.show_unexpected:
            message = UNAVAILABLE_MESSAGE
        return GraphQLError(
            message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=error.original_error if self.show_unexpected else None,
            extensions=extensions,
        )


def log_errors(errors: list[GraphQLError]) -> None:
    """Log bugs in full; expected failures in one line."""
    for error in errors:
        if is_unexpected(error) or (error.original_error is None and error.path is not None):
            log.error("unexpected error in %s", error.path, exc_info=error.original_error)
        elif isinstance(error.original_error, DatabaseUnavailable):
            log.warning("%s", error.original_error)
        else:
            log.info("client error: %s", error.message)
