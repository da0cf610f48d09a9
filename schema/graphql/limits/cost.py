"""How big an operation is, measured on its document before it runs.

One walk of the operation, fragments expanded, gives its depth, its aliases, its directives,
its duplicated fields (a response name selected again in the same selection set: `{ __typename
__typename ... }` costs the server work for nothing) and its cost: the number of values its
result is expected to hold, in the spirit of GitHub's node limit. A field is one value; a list
field multiplies what it selects by the size it is expected to have (`EXPECTED_SIZES`, else
`DEFAULT_LIST_SIZE`), or by its slicing argument (`first`). A `...Connection` twin
(schema.graphql.connection_fields) multiplies its `edges` and `nodes` by its `first`, or by the
size of the list it pages when `first` is not given: the twin says which list that is. A
connection of its own (`auditLog`) is sized by its `first`, or by that argument's default. So
`dataCategories { parent { children { parent { children { name } } } } }` costs some 50 x 10 x
10 values, and 300 aliases of `recipients` cost 300 times its paths.

A fragment is measured once per type it is spread on and reused, so fragments that spread one
another many times over cost the walk no more than their text. Introspection fields are left
to graphql-core's MaxIntrospectionDepthRule (and are off in production).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql.type.definition import GraphQLField, GraphQLOutputType

from schema.graphql.connections import MAX_FIRST, PAGES_LIST

DEFAULT_LIST_SIZE = 10

# Type.field -> the size its list is expected to have, from registers like the shipped example
# (a local authority's graph holds many schools: lists of the whole graph are longer).
EXPECTED_SIZES: Mapping[str, int] = {
    "Query.organisations": 100,
    "Query.activities": 50,
    "Query.dataCategories": 50,
    "Query.dataSubjects": 20,
    "Query.legalBases": 40,
    "Query.systems": 20,
    "Query.complianceIssues": 50,
    "Query.subProcessors": 10,
    "Query.webhooks": 10,
    # `recipients` is weighed by its paths: recipients x paths x hops (at most 6 hops).
    "Query.recipients": 20,
    "Recipient.paths": 3,
    "LineagePath.hops": 4,
    "Hop.categories": 3,
    "Hop.legalBases": 3,
    "Hop.citations": 3,
    "Disclosure.categories": 5,
    "Disclosure.legalBases": 3,
    "Disclosure.citations": 3,
    "Engagement.categories": 5,
    "EngagementSnapshot.categories": 5,
    "EngagementSnapshot.categoryIds": 5,
    "ProcessingActivity.categories": 10,
    "ProcessingActivity.legalBases": 4,
    "ProcessingActivity.citations": 4,
    "Citation.restsOn": 2,
    "ProcessingActivity.disclosures": 5,
    "ProcessingActivity.recipients": 5,
    "ProcessingActivity.processors": 3,
    "ProcessingActivity.jointControllers": 2,
    "ProcessingActivity.systems": 3,
    "ProcessingActivity.thirdCountryTransfers": 2,
    "LegalBasis.restsOn": 2,
    "LegalBasis.legislation": 2,
    "DataCategory.children": 10,
    "DataSubjectCategory.children": 5,
}
# Type.field -> the argument that says how many it returns, its default and its maximum. A
# variable counts as the maximum: the measure is of the document alone, so that a document
# found within its limits stays so whatever variables come with it (and can be kept as valid).
SLICING_ARGUMENTS: Mapping[str, tuple[str, int, int]] = {"Query.changes": ("first", 50, 500)}
# strawberry's key, on a graphql-core field, of the strawberry field it was made from.
_DEFINITION = "strawberry-definition"


@dataclass(frozen=True)
class Measure:
    """What a selection (or a whole operation) amounts to."""

    depth: int = 0
    aliases: int = 0
    directives: int = 0
    duplicates: int = 0
    cost: int = 0

    def beside(self, other: Measure) -> Measure:
        """Two selections side by side."""
        return Measure(
            max(self.depth, other.depth),
            self.aliases + other.aliases,
            self.directives + other.directives,
            self.duplicates + other.duplicates,
            self.cost + other.cost,
        )


_NOTHING = Measure()


def _named(type_: GraphQLOutputType) -> tuple[GraphQLNamedType, bool]:
    """The named type under the wrappers, and whether there is a list among them."""
    is_list = False
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        is_list = is_list or isinstance(type_, GraphQLList)
        type_ = type_.of_type
    return type_, is_list


class OperationMeter:
    """Measures the operations of one document against one schema."""

    def __init__(
        self, schema: GraphQLSchema, fragments: Mapping[str, FragmentDefinitionNode]
    ) -> None:
        self._schema = schema
        self._fragments = fragments
        self._memo: dict[tuple[str, str, int | None], Measure] = {}
        self._open: set[str] = set()

    def operation(self, operation: OperationDefinitionNode) -> Measure:
        """The measure of one operation."""
        root = self._schema.get_root_type(operation.operation)
        if root is None:
            return _NOTHING
        own = Measure(directives=len(operation.directives or ()))
        return own.beside(self._selections(operation.selection_set, root))

    def _selections(
        self, selections: SelectionSetNode, parent: GraphQLNamedType, page: int | None = None
    ) -> Measure:
        # `page`: the size of the lists of a connection's own selection (its edges and nodes).
        total = _NOTHING
        names: set[str] = set()
        for selection in selections.selections:
            directives = len(selection.directives or ())
            if isinstance(selection, FieldNode):
                name = (selection.alias or selection.name).value
                if name in names:
                    total = total.beside(Measure(duplicates=1))
                names.add(name)
                measure = self._field(selection, parent, page)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                on = self._schema.get_type(condition.name.value) if condition else parent
                measure = self._selections(selection.selection_set, on or parent, page)
            elif isinstance(selection, FragmentSpreadNode):
                measure = self._spread(selection.name.value, page)
            else:  # pragma: no cover - graphql-core has no other selection
                continue
            total = total.beside(Measure(directives=directives)).beside(measure)
        return total

    def _spread(self, name: str, page: int | None) -> Measure:
        fragment = self._fragments.get(name)
        if fragment is None or name in self._open:
            return _NOTHING  # unknown or cyclic: validation reports it
        on = self._schema.get_type(fragment.type_condition.name.value)
        if on is None:
            return _NOTHING
        key = (name, on.name, page)
        if key not in self._memo:
            self._open.add(name)
            try:
                own = Measure(directives=len(fragment.directives or ()))
                self._memo[key] = own.beside(self._selections(fragment.selection_set, on, page))
            finally:
                self._open.discard(name)
        return self._memo[key]

    def _field(self, node: FieldNode, parent: GraphQLNamedType, page: int | None) -> Measure:
        name = node.name.value
        alias = 1 if node.alias else 0
        if name.startswith("__") or not isinstance(
            parent, GraphQLObjectType | GraphQLInterfaceType
        ):
            return Measure(depth=1, aliases=alias, cost=1)
        definition = parent.fields.get(name)
        if definition is None:
            return Measure(depth=1, aliases=alias, cost=1)  # validation reports it
        named, is_list = _named(definition.type)
        size = 1
        if is_list:
            size = page if page is not None else self._size(f"{parent.name}.{name}", node)
        if node.selection_set is None:
            return Measure(depth=1, aliases=alias, cost=1 + (size if is_list else 0))
        paged = _paged_list(definition)
        first = None if is_list else definition.args.get("first")
        if paged is not None:  # a connection twin: its page is as long as `first` says
            listed = EXPECTED_SIZES.get(f"{parent.name}.{paged}", DEFAULT_LIST_SIZE)
            inner = self._selections(
                node.selection_set, named, _sliced(node, "first", listed, MAX_FIRST)
            )
        elif first is not None:  # a connection of its own (auditLog): `first`, or its default
            default = first.default_value if isinstance(first.default_value, int) else None
            inner = self._selections(
                node.selection_set,
                named,
                _sliced(node, "first", default or DEFAULT_LIST_SIZE, MAX_FIRST),
            )
        else:
            inner = self._selections(node.selection_set, named)
        return Measure(
            depth=1 + inner.depth,
            aliases=alias + inner.aliases,
            directives=inner.directives,
            duplicates=inner.duplicates,
            cost=1 + size * inner.cost,
        )

    def _size(self, coordinate: str, node: FieldNode) -> int:
        slicing = SLICING_ARGUMENTS.get(coordinate)
        if slicing is not None:
            return _sliced(node, *slicing)
        return EXPECTED_SIZES.get(coordinate, DEFAULT_LIST_SIZE)


def _sliced(node: FieldNode, argument: str, default: int, maximum: int) -> int:
    """The size `argument` gives (a variable counts as `maximum`), or `default` without it."""
    for given in node.arguments or ():
        if given.name.value == argument:
            value = given.value
            if isinstance(value, IntValueNode):
                return min(max(int(value.value), 0), maximum)
            return maximum
    return default


def _paged_list(field: GraphQLField) -> str | None:
    """The list field a connection twin pages (its name on the same type); None if not one."""
    made_from = (field.extensions or {}).get(_DEFINITION)
    metadata = getattr(made_from, "metadata", None) or {}
    paged = metadata.get(PAGES_LIST)
    return paged if isinstance(paged, str) else None
