"""The `...Connection` twin of every list of records, made from the list field itself.

`add_connection_twins(Query, Mutation, Subscription)` walks every object type the roots reach
and gives each field that lists records (`activities`, `ProcessingActivity.disclosures`,
`Recipient.paths`, `LineagePath.hops`, ...) a twin `<field>Connection`: a copy of the field
(same arguments, same resolver, same description's subject) whose `PageOfList` extension
takes `first` and `after`, lets the field compute its list, and returns the page of it
(schema.graphql.connections.paginate). So a list and its twin cannot disagree on what is in
the list, its order or the caller's scope, and a new list field gets its twin without a line
written for it. docs/api-connections.md describes the result; tests/unit/test_connections.py
walks the schema for list fields without one.

Not paged: lists of plain values (a record's `purposes`: its own field, not a list of
records), a mutation's `errors` (all of them, at once), an entity's `assumptions`, and
`NOT_PAGED`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

from strawberry.annotation import StrawberryAnnotation
from strawberry.extensions.field_extension import (
    AsyncExtensionResolver,
    FieldExtension,
    SyncExtensionResolver,
)
from strawberry.types.arguments import StrawberryArgument
from strawberry.types.base import (
    StrawberryList,
    StrawberryObjectDefinition,
    StrawberryOptional,
    get_object_definition,
)
from strawberry.types.field import StrawberryField
from strawberry.types.lazy_type import LazyType
from strawberry.types.union import StrawberryUnion
from strawberry.utils.str_converters import to_camel_case

from schema.graphql.assumption import Assumption
from schema.graphql.connections import (
    MAX_FIRST,
    PAGES_LIST,
    Connection,
    Edge,
    PageInfo,
    paginate,
)
from schema.graphql.mutation import InputError

# `Type.field` -> why it has no twin.
NOT_PAGED: Mapping[str, str] = {
    "Query.changes": "pages by itself: `first`, and `after` the id of the last change seen",
}
# Item types whose lists are not paged, and why.
NOT_PAGED_ITEMS: Mapping[type, str] = {
    InputError: "a mutation's input errors: every one of them, at once",
    Assumption: "an entity's own few assumptions, part of its record like its purposes",
}
SUFFIX = "Connection"


class PageOfList(FieldExtension):
    """Makes a copy of a list field its twin: the list as the field resolves it, then a page."""

    def __init__(self, attribute: str | None) -> None:
        # A field without a resolver is read from its object, under the list field's name.
        self.attribute = attribute

    def resolve(
        self, next_: SyncExtensionResolver, source: Any, info: Any, **kwargs: Any
    ) -> Connection[Any] | None:
        """The page of the list the field gives (a field without a resolver is read)."""
        first, after = kwargs.pop("first", None), kwargs.pop("after", None)
        if self.attribute is not None:
            items = getattr(source, self.attribute)
        else:
            items = next_(source, info, **kwargs)
        return None if items is None else paginate(items, first, after)

    async def resolve_async(
        self, next_: AsyncExtensionResolver, source: Any, info: Any, **kwargs: Any
    ) -> Connection[Any] | None:
        """The page of the list the field's resolver gives."""
        first, after = kwargs.pop("first", None), kwargs.pop("after", None)
        items = await next_(source, info, **kwargs)
        return None if items is None else paginate(items, first, after)


def _arguments() -> list[StrawberryArgument]:
    return [
        StrawberryArgument(
            python_name="first",
            graphql_name=None,
            type_annotation=StrawberryAnnotation(int | None),
            description=f"At most this many items (1 to {MAX_FIRST}); none: all",
        ),
        StrawberryArgument(
            python_name="after",
            graphql_name=None,
            type_annotation=StrawberryAnnotation(str | None),
            description="The cursor of the last item seen; none: from the start",
        ),
    ]


def _listed(field_type: Any) -> tuple[Any, bool] | None:
    """The item type of a list field and whether the list may be null; None if not a list."""
    optional = isinstance(field_type, StrawberryOptional)
    inner = field_type.of_type if optional else field_type
    if not isinstance(inner, StrawberryList):
        return None
    item = inner.of_type
    if isinstance(item, LazyType):
        item = item.resolve_type()
    return item, optional


def _reached(field_type: Any) -> Iterator[StrawberryObjectDefinition]:
    """The object types a field's type names, under lists, nulls, unions and generics."""
    while isinstance(field_type, StrawberryOptional | StrawberryList):
        field_type = field_type.of_type
    if isinstance(field_type, LazyType):
        field_type = field_type.resolve_type()
    if isinstance(field_type, StrawberryUnion):
        for member in field_type.types:
            yield from _reached(member)
        return
    definition = get_object_definition(field_type)
    if definition is not None:
        yield definition
        for argument in definition.type_var_map.values():
            yield from _reached(argument)


def _is_page_type(definition: StrawberryObjectDefinition) -> bool:
    origin = (definition.concrete_of or definition).origin
    return origin in (Connection, Edge, PageInfo)


def _name(field: StrawberryField) -> str:
    return field.graphql_name or to_camel_case(field.python_name)


def twin(field: StrawberryField, item: Any, optional: bool) -> StrawberryField:
    """The `...Connection` twin of a list field."""
    made = copy.copy(field)
    made.python_name = f"{field.python_name}_connection"
    made.graphql_name = None if field.graphql_name is None else field.graphql_name + SUFFIX
    page = Connection[item]
    made.type_annotation = StrawberryAnnotation(page | None if optional else page)
    made.description = f"`{_name(field)}` as a connection"
    made.arguments = [*field.arguments, *_arguments()]
    # The cost model sizes the page by `first`, or as the list itself when it is not given.
    made.metadata = MappingProxyType({**(field.metadata or {}), PAGES_LIST: _name(field)})
    attribute = None if field.base_resolver is not None else field.python_name
    # First, so that it pages what the field's own extensions (if any) make of the list.
    made.extensions = [PageOfList(attribute), *field.extensions]
    return made


def add_connection_twins(*roots: type) -> None:
    """Give every list of records reachable from `roots` its twin (once; idempotent)."""
    seen: set[int] = set()
    waiting = [d for root in roots if (d := get_object_definition(root)) is not None]
    while waiting:
        definition = waiting.pop()
        if id(definition) in seen:
            continue
        seen.add(id(definition))
        names = {f.python_name for f in definition.fields}
        for field in list(definition.fields):
            waiting.extend(_reached(field.type))
            listed = _listed(field.type)
            if listed is None or _is_page_type(definition):
                continue
            item, optional = listed
            coordinate = f"{definition.name}.{_name(field)}"
            if (
                get_object_definition(item) is None
                or item in NOT_PAGED_ITEMS
                or coordinate in NOT_PAGED
                or f"{field.python_name}_connection" in names
            ):
                continue
            definition.fields.append(twin(field, item, optional))
