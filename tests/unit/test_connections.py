"""Every list of records in the served schema has its `...Connection` twin."""

from __future__ import annotations

from graphql import (
    GraphQLField,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    get_named_type,
)

from schema.graphql.connection_fields import NOT_PAGED, NOT_PAGED_ITEMS
from schema.graphql.schema import build_schema


def _list_item(type_: GraphQLOutputType) -> GraphQLNamedType | None:
    """The named item type of a list type; None if it is not a list."""
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if not isinstance(type_, GraphQLList):
        return None
    return get_named_type(type_)


def _is_page(type_: GraphQLObjectType) -> bool:
    return {"edges", "pageInfo"} <= set(type_.fields) or {"cursor", "node"} == set(type_.fields)


def _twin_is_a_page_of(twin: GraphQLField, field: GraphQLField) -> bool:
    connection = twin.type.of_type if isinstance(twin.type, GraphQLNonNull) else twin.type
    if not isinstance(connection, GraphQLObjectType):
        return False
    nodes = _list_item(connection.fields["nodes"].type)
    return (
        {"totalCount", "edges", "nodes", "pageInfo"} <= set(connection.fields)
        and nodes == _list_item(field.type)
        and list(twin.args) == [*field.args, "first", "after"]
    )


def test_every_list_of_records_has_a_connection_twin() -> None:
    schema = build_schema()._schema
    skipped_items = {cls.__name__ for cls in NOT_PAGED_ITEMS}
    missing, wrong, lists = [], [], 0
    for type_ in schema.type_map.values():
        if type_.name.startswith("__") or not isinstance(type_, GraphQLObjectType):
            continue
        if _is_page(type_) or type_ is schema.subscription_type:
            continue
        for name, field in type_.fields.items():
            item = _list_item(field.type)
            coordinate = f"{type_.name}.{name}"
            if not isinstance(item, GraphQLObjectType) or coordinate in NOT_PAGED:
                continue
            if item.name in skipped_items:
                continue
            lists += 1
            twin = type_.fields.get(f"{name}Connection")
            if twin is None:
                missing.append(coordinate)
            elif not _twin_is_a_page_of(twin, field):
                wrong.append(coordinate)
    assert not missing, f"list fields without a ...Connection twin: {missing}"
    assert not wrong, f"twins that are not pages of their list: {wrong}"
    # The walk saw the nested lists too, not only the root ones.
    assert lists > 30


def test_the_twins_are_made_once_however_often_the_schema_is_built() -> None:
    first = build_schema()._schema.query_type
    again = build_schema()._schema.query_type
    assert first is not None
    assert again is not None
    assert list(first.fields) == list(again.fields)
    twin = again.fields["activitiesConnection"]
    assert list(twin.args) == [
        "controller",
        "category",
        "legalBasis",
        "asOf",
        "recordedAt",
        "first",
        "after",
    ]
