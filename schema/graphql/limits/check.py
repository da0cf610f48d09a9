"""The check that refuses an operation over its depth, alias, directive, duplicate or cost
limit, before validation.

Before validation rather than as a validation rule (as strawberry's QueryDepthLimiter and
MaxAliasesLimiter are): graphql-core's OverlappingFieldsCanBeMergedRule compares every pair of
fields of a name, so a thousand `__typename`s cost it a second; refused first, they cost one
linear walk. One walk (schema.graphql.limits.cost) measures every limit, and each error names
its limit and the value, with `extensions.code` OPERATION_TOO_COMPLEX. The check needs only the
document, so a document found within its limits and valid is kept as such
(schema.graphql.document_cache) and not measured again.
"""

from __future__ import annotations

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
)

from schema.graphql.limits.config import OperationLimits
from schema.graphql.limits.cost import OperationMeter
from schema.graphql.limits.errors import too_complex


def over_limits(
    schema: GraphQLSchema, document: DocumentNode, limits: OperationLimits
) -> list[GraphQLError]:
    """An error for each limit an operation of `document` is over; none if within them all."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    meter = OperationMeter(schema, fragments)
    errors: list[GraphQLError] = []
    for operation in document.definitions:
        if not isinstance(operation, OperationDefinitionNode):
            continue
        measure = meter.operation(operation)
        for limit, value, maximum in (
            ("depth", measure.depth, limits.max_depth),
            ("aliases", measure.aliases, limits.max_aliases),
            ("directives", measure.directives, limits.max_directives),
            ("duplicated fields", measure.duplicates, limits.max_duplicates),
            ("estimated result size (values)", measure.cost, limits.max_cost),
        ):
            if value > maximum:
                errors.append(too_complex(limit, value, maximum, operation))
    return errors
