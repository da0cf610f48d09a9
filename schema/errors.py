"""Domain errors: they know nothing of HTTP, GraphQL or the command line."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ErrorCode(StrEnum):
    """Every `extensions.code` (and HTTP error `code`) a client can get, in one place; each is
    its own name as a string, so it compares and serialises as the string."""

    BAD_REQUEST = "BAD_REQUEST"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    CONTROLLER_AMBIGUOUS = "CONTROLLER_AMBIGUOUS"
    DATABASE_UNAVAILABLE = "DATABASE_UNAVAILABLE"
    DOCUMENT_INVALID = "DOCUMENT_INVALID"
    FORBIDDEN = "FORBIDDEN"
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
    INVALID_LINK = "INVALID_LINK"
    LINK_EXPIRED = "LINK_EXPIRED"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    NOTICE_HAS_PLACEHOLDERS = "NOTICE_HAS_PLACEHOLDERS"
    NOT_FOUND = "NOT_FOUND"
    OBJECTION_WINDOW_CLOSED = "OBJECTION_WINDOW_CLOSED"
    OPERATION_TOO_COMPLEX = "OPERATION_TOO_COMPLEX"
    RATE_LIMITED = "RATE_LIMITED"
    REDELIVERY_OUT_OF_RANGE = "REDELIVERY_OUT_OF_RANGE"
    REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"
    ROPA_ERROR = "ROPA_ERROR"
    SECRET_KEY_INVALID = "SECRET_KEY_INVALID"
    SECRET_UNREADABLE = "SECRET_UNREADABLE"
    SIGN_IN_CONFIG_INVALID = "SIGN_IN_CONFIG_INVALID"
    SUBSCRIBER_TOO_SLOW = "SUBSCRIBER_TOO_SLOW"
    SUBSCRIPTIONS_UNAVAILABLE = "SUBSCRIPTIONS_UNAVAILABLE"
    TOKEN_CONFIG_INVALID = "TOKEN_CONFIG_INVALID"
    TOO_MANY_PATHS = "TOO_MANY_PATHS"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    WEBHOOK_URL_INVALID = "WEBHOOK_URL_INVALID"


class RopaError(Exception):
    """Base of every expected failure in the registry."""

    code: str = ErrorCode.ROPA_ERROR


@dataclass(frozen=True)
class DocumentProblem:
    """One thing wrong with a ROPA document, at a path such as `activities[2].controller`."""

    path: str
    reason: str
    line: int | None = None

    def render(self, source: str) -> str:
        """`FILE:LINE: path: reason`, the form editors and CI logs link to."""
        where = f"{source}:{self.line}" if self.line is not None else source
        return f"{where}: {self.path}: {self.reason}"


class DocumentInvalid(RopaError):
    """A document that cannot be applied; carries every problem found, not just the first."""

    code = ErrorCode.DOCUMENT_INVALID

    def __init__(self, source: str, problems: list[DocumentProblem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: {len(problems)} problem(s)")

    def render(self) -> list[str]:
        """One line per problem."""
        return [problem.render(self.source) for problem in self.problems]


class NotFound(RopaError):
    """A reference (by id or name) that names nothing in the register."""

    code = ErrorCode.NOT_FOUND

    def __init__(self, kind: str, ref: str) -> None:
        self.kind = kind
        self.ref = ref
        super().__init__(f"no {kind} with id or name '{ref}'")


class DatabaseUnavailable(RopaError):
    """Neo4j cannot be reached right now."""

    code = ErrorCode.DATABASE_UNAVAILABLE


class DatabaseAuthFailed(DatabaseUnavailable):
    """Neo4j refused the configured user name or password (to API clients: unavailable)."""
