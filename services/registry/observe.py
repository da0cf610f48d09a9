"""The registry's GraphQL operations as operators see them: each one's name bound to its log
lines, counted and timed by name, type and outcome (services.observability.metrics)."""

from __future__ import annotations

import time
from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

from services.observability import logs
from services.observability.metrics import GRAPHQL_OPERATIONS, GRAPHQL_SECONDS, operation_label


class OperationMetrics(SchemaExtension):
    """Binds `operation` for the logs; counts and times the operation."""

    def on_operation(self) -> Iterator[None]:
        """Around the whole operation, parsing and validation included."""
        context = self.execution_context
        logs.bind(operation=context.operation_name or None)
        started = time.perf_counter()
        yield
        # Now parsed: an anonymous request's document may name its operation.
        logs.bind(operation=context.operation_name or None)
        name = operation_label(context.operation_name)
        try:
            kind = context.operation_type.value
        except Exception:  # a document that did not parse, or names no such operation
            kind = "unknown"
        result = context.result
        failed = result is None or bool(getattr(result, "errors", None))
        GRAPHQL_OPERATIONS.labels(name, kind, "error" if failed else "ok").inc()
        GRAPHQL_SECONDS.labels(name, kind).observe(time.perf_counter() - started)
