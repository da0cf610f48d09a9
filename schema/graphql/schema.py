"""The registry's GraphQL schema object, and its SDL as exported to schema/registry.graphql."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from functools import partial

import strawberry
from graphql.error import GraphQLError
from strawberry.extensions import DisableIntrospection, SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext
from strawberry.types.base import get_object_definition

from schema.graphql.audit import AuditQuery
from schema.graphql.changes import ChangesQuery
from schema.graphql.connection_fields import add_connection_twins
from schema.graphql.document_cache import DocumentCache
from schema.graphql.errors import ErrorCodes, log_errors
from schema.graphql.executor import PlainFieldsExecutor
from schema.graphql.limits import OperationLimits, limit_extensions
from schema.graphql.mutation import Mutation
from schema.graphql.query import Query
from schema.graphql.scalars import DATE, MOMENT
from schema.graphql.subscription import Subscription
from schema.graphql.summary import SummaryQuery
from schema.graphql.watched import WatchedQuery

# The root query: the register's questions, their connections, the dashboard's aggregates,
# and the change history (schema.graphql.changes).
RootQuery = merge_types("Query", (Query, SummaryQuery, ChangesQuery, AuditQuery, WatchedQuery))
# Every list of records, at the root or nested, gets its `...Connection` twin.
add_connection_twins(RootQuery, Mutation, Subscription)


class RegistrySchema(strawberry.Schema):
    """A strawberry schema that logs only what needs a developer's attention."""

    # The documents it has parsed and validated (schema.graphql.document_cache).
    documents: DocumentCache

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log each error once, before ErrorCodes rewrites it for the client."""
        log_errors(errors)


def build_schema(
    *,
    show_unexpected_errors: bool = False,
    observers: Sequence[type[SchemaExtension]] = (),
    introspection: bool = True,
    suggestions: bool = True,
    limits: OperationLimits | None = None,
    cache: Callable[[], SchemaExtension] | None = None,
) -> RegistrySchema:
    """The schema; unexpected errors are masked unless `show_unexpected_errors`; introspection
    and "did you mean" suggestions as asked; every operation held to `limits`. `observers` are
    the service's extensions that watch operations (metrics, traces) without changing them;
    `cache` the one that may answer a query without executing it (its key is read after the
    limits' checks of the document, which come before execution)."""
    documents = DocumentCache()
    schema = RegistrySchema(
        query=RootQuery,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(scalar_map={dt.date: DATE, dt.datetime: MOMENT}),
        # Plain fields (a record's attributes) completed without a resolver call each.
        execution_context_class=PlainFieldsExecutor,
        extensions=[
            *observers,
            documents.extension(),
            *([] if introspection else [DisableIntrospection]),
            # The cache before the limits: extensions leave execution in reverse order, so the
            # result size is checked before an answer is kept (kept as JSON, it is not walked).
            *([] if cache is None else [cache]),
            *limit_extensions(limits or OperationLimits()),
            partial(
                ErrorCodes, show_unexpected=show_unexpected_errors, show_suggestions=suggestions
            ),
        ],
    )
    schema.documents = documents
    return schema


def register_questions() -> frozenset[str]:
    """The root query fields answered from the register alone (every change to which the
    change log records), the caller's scope and the day: what a response cache may keep.
    Not the change feed's and audit log's fields (nor `webhooks`, whose delivery state changes
    outside the log)."""
    names = StrawberryConfig().name_converter  # build_schema's, which names fields the same
    own = {
        names.get_graphql_name(f)
        for t in (Query, SummaryQuery)
        for f in get_object_definition(t, strict=True).fields
    }
    root = {names.get_graphql_name(f) for f in get_object_definition(RootQuery, strict=True).fields}
    # Their connection twins too (schema.graphql.connection_fields): the same lists, paged.
    return frozenset(own | ({f"{name}Connection" for name in own} & root))


def sdl() -> str:
    """The schema in GraphQL SDL, as written to schema/registry.graphql."""
    return build_schema().as_str() + "\n"
