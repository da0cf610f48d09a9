"""The strawberry extensions that hold every operation to its `OperationLimits`.

- Tokens: strawberry's MaxTokensLimiter hands graphql-core's parser `max_tokens`, so a long
  document is cut off while it is read; the parser's error is recoded OPERATION_TOO_COMPLEX.
- Parsing and validation of a long document run in a worker thread: graphql-core's lexer reads a
  megabyte of comment or string in about a second, which would hold up every other client.
- Depth, aliases, directives, duplicated fields and estimated cost: checked on the parsed
  document before validation (schema.graphql.limits.check).
- Result size: counted after execution; a result over the limit is replaced by the error.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Iterator
from functools import partial
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError, parse, validate
from graphql.language import DocumentNode
from strawberry.extensions import MaxTokensLimiter, SchemaExtension

from schema.graphql.limits.check import over_limits
from schema.graphql.limits.config import OperationLimits
from schema.graphql.limits.errors import too_complex

_TOKENS = re.compile(r"Document contains more than (\d+) tokens")
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")


def limit_extensions(limits: OperationLimits) -> list[Callable[[], SchemaExtension]]:
    """The extensions (as factories: one of each per operation), in order, to give the schema
    after any that supplies a parsed document and before the one that codes errors."""
    return [
        lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
        lambda: LimitedOperation(limits),
        lambda: ResultSizeLimit(limits),
    ]


def _placeholder(operation_name: str | None) -> DocumentNode:
    # Stands for a document that failed to parse, so that strawberry, finding a document and
    # errors already there, reports the errors rather than parsing the text again.
    name = operation_name if operation_name and _NAME.fullmatch(operation_name) else ""
    return parse(f"query {name} {{ __typename }}")


def _recoded(error: GraphQLError, limits: OperationLimits) -> GraphQLError:
    found = _TOKENS.search(error.message)
    if found is None:
        return error
    return too_complex("tokens", f"more than {found.group(1)}", limits.max_tokens)


class LimitedOperation(SchemaExtension):
    """Parses the document itself (off the event loop when it is long; a syntax error is
    reported as strawberry would report it), refuses it if over its limits, and validates a
    long one off the event loop too."""

    def __init__(self, limits: OperationLimits) -> None:
        super().__init__()
        self._limits = limits

    def _long(self) -> bool:
        query = self.execution_context.query
        return query is not None and len(query) > self._limits.offload_length

    async def on_parse(self) -> AsyncIterator[None]:
        """Parse in a thread if the document is long; recode a token-limit error."""
        context = self.execution_context
        query = context.query
        if context.graphql_document is None and query:
            parsing = partial(parse, query, **context.parse_options)
            try:
                document = await asyncio.to_thread(parsing) if self._long() else parsing()
            except GraphQLError as error:
                context.graphql_document = _placeholder(context.operation_name)
                context.pre_execution_errors = [_recoded(error, self._limits)]
            else:
                context.graphql_document = document
        yield

    async def on_validate(self) -> AsyncIterator[None]:
        """Check the limits; then validate a long document in a thread (a short one is
        validated as usual, by strawberry)."""
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.pre_execution_errors is None:
            schema = context.schema._schema
            refused = over_limits(schema, document, self._limits)
            if refused:
                context.pre_execution_errors = refused
            elif self._long() and context.validation_rules:
                rules = list(context.validation_rules)
                context.pre_execution_errors = await asyncio.to_thread(
                    validate, schema, document, rules
                )
        yield


# Values that hold no others: skipped without an isinstance check (most values are these).
_LEAVES = frozenset({str, int, float, bool, type(None)})


def count_values(data: Any) -> int:
    """The values in a result: each field's, and each list item's."""
    if not isinstance(data, dict | list):
        return 1
    # Each map or list adds its length, and only those are walked into: the leaves (most of
    # the 265,000 values of every controller's recipients over 1,000 schools) are not popped
    # one by one, which halves the walk.
    total = 1
    pending: list[Any] = [data]
    push = pending.append
    while pending:
        value = pending.pop()
        items = value.values() if isinstance(value, dict) else value
        total += len(items)
        for item in items:
            kind = item.__class__
            if (
                kind is dict
                or kind is list
                or (kind not in _LEAVES and isinstance(item, dict | list))
            ):
                push(item)
    return total


class ResultSizeLimit(SchemaExtension):
    """Replaces a result holding more values than `max_result_values` by the error saying so."""

    def __init__(self, limits: OperationLimits) -> None:
        super().__init__()
        self._limit = limits.max_result_values

    def on_execute(self) -> Iterator[None]:
        """After execution: count, and refuse what is over."""
        yield
        result = self.execution_context.result
        if isinstance(result, GraphQLExecutionResult) and result.data is not None:
            size = count_values(result.data) - 1  # the data object itself is no value
            if size > self._limit:
                result.data = None
                result.errors = [too_complex("result size (values)", size, self._limit)]
