"""The operation cost model sizes every `...Connection` twin's page, and the audit log's, by
its `first`."""

from __future__ import annotations

from graphql import GraphQLNonNull, GraphQLObjectType, parse
from graphql.language import FragmentDefinitionNode, OperationDefinitionNode

from schema.graphql.connections import MAX_FIRST
from schema.graphql.limits.cost import DEFAULT_LIST_SIZE, EXPECTED_SIZES, OperationMeter
from schema.graphql.schema import build_schema

SCHEMA = build_schema()._schema


def _cost(document: str) -> int:
    parsed = parse(document)
    operation = parsed.definitions[0]
    if not isinstance(operation, OperationDefinitionNode):
        raise TypeError("the document's first definition is not an operation")
    fragments = {
        d.name.value: d for d in parsed.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return OperationMeter(SCHEMA, fragments).operation(operation).cost


def test_a_root_connection_costs_its_first_items() -> None:
    # 1 (the connection) + 1 (edges) + first x (1 node + its id and name)
    assert (
        _cost("{ activitiesConnection(first: 2) { edges { node { id name } } } }") == 1 + 1 + 2 * 3
    )
    assert _cost("{ activitiesConnection(first: 400) { nodes { id } } }") == 1 + 1 + 400 * 1


def test_without_first_a_connection_costs_as_its_list() -> None:
    listed = EXPECTED_SIZES["Query.activities"]
    assert _cost("{ activitiesConnection { nodes { id } } }") == 2 + listed
    assert _cost("{ activities { id } }") == 1 + listed


def test_a_variable_first_counts_as_the_maximum() -> None:
    document = "query ($n: Int) { organisationsConnection(first: $n) { nodes { id } } }"
    assert _cost(document) == 2 + MAX_FIRST


def test_a_nested_connection_and_a_fragment_are_sized_by_their_first() -> None:
    document = """
    { recipients(category: "x") { pathsConnection(first: 7) { ...page } } }
    fragment page on LineagePathConnection { totalCount nodes { __typename } }
    """
    assert _cost(document) == 1 + EXPECTED_SIZES["Query.recipients"] * (1 + (1 + 1 + 7))


def test_every_connection_twin_is_sized_by_its_first() -> None:
    twins = [
        (type_name, name, field)
        for type_name, type_ in SCHEMA.type_map.items()
        if isinstance(type_, GraphQLObjectType) and not type_name.startswith("__")
        for name, field in type_.fields.items()
        if name.endswith("Connection") and "first" in field.args
    ]
    assert len(twins) > 20
    for type_name, name, field in twins:
        connection = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
        assert isinstance(connection, GraphQLObjectType)
        # The twin's selection measured on its own type, as it is wherever the type is reached.
        meter = OperationMeter(SCHEMA, {})
        costs = []
        for first in (3, 30):
            selection = parse(f"{{ {name}(first: {first}) {{ nodes {{ __typename }} }} }}")
            operation = selection.definitions[0]
            assert isinstance(operation, OperationDefinitionNode)
            costs.append(
                meter._selections(operation.selection_set, SCHEMA.type_map[type_name]).cost
            )
        assert costs == [1 + 1 + 3, 1 + 1 + 30], f"{type_name}.{name}"
        assert DEFAULT_LIST_SIZE not in (3, 30)


def test_the_audit_log_is_sized_by_its_first_or_its_default() -> None:
    # 1 (the connection) + 1 (edges) + first x (1 node + its sequence and entity type)
    page = "{ edges { node { sequence entityType } } }"
    assert _cost(f'{{ auditLog(register: "r", first: 3) {page} }}') == 1 + 1 + 3 * 3
    assert _cost(f'{{ auditLog(register: "r", first: 400) {page} }}') == 1 + 1 + 400 * 3
    default = SCHEMA.query_type.fields["auditLog"].args["first"].default_value  # type: ignore[union-attr]
    assert default == 50
    assert _cost(f'{{ auditLog(register: "r") {page} }}') == 1 + 1 + default * 3
    variable = f'query ($n: Int) {{ auditLog(register: "r", first: $n) {page} }}'
    assert _cost(variable) == 1 + 1 + MAX_FIRST * 3
