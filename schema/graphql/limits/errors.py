"""The one error every limit refuses with."""

from __future__ import annotations

from graphql import GraphQLError
from graphql.language import Node

from schema.errors import ErrorCode, RopaError

TOO_COMPLEX = ErrorCode.OPERATION_TOO_COMPLEX


class OperationTooComplex(RopaError):
    """An operation over one of its limits; the message names the limit and the value."""

    code = TOO_COMPLEX

    def __init__(self, limit: str, value: int | str, maximum: int) -> None:
        self.limit = limit
        self.value = value
        self.maximum = maximum
        super().__init__(f"operation too complex: {limit} {value} (limit {maximum})")


def too_complex(
    limit: str, value: int | str, maximum: int, nodes: Node | list[Node] | None = None
) -> GraphQLError:
    """A GraphQL error for `OperationTooComplex`, coded by schema.graphql.errors."""
    error = OperationTooComplex(limit, value, maximum)
    return GraphQLError(str(error), nodes=nodes, original_error=error)
