"""The names, arguments and types clients rely on (issue 3's contract) are all in the schema."""

from __future__ import annotations

import pytest
from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    value_from_ast,
)

from schema.graphql.schema import build_schema as build_registry_schema

CONTRACT = """
type Query {
  organisations: [Organisation!]!
  organisation(ref: String!): Organisation
  activities(controller: String, category: String, legalBasis: String, asOf: Date): [ProcessingActivity!]!
  activity(ref: String!): ProcessingActivity
  dataCategories(special: Boolean): [DataCategory!]!
  dataSubjects: [DataSubjectCategory!]!
  legalBases: [LegalBasis!]!
  recipients(category: String!, controller: String, asOf: Date, transitive: Boolean = true): [Recipient!]!
  subProcessors(processor: String!, asOf: Date): [Engagement!]!
}
type Recipient { organisation: Organisation!  paths: [LineagePath!]! }
type LineagePath { hops: [Hop!]! }
type Hop {
  from: Organisation!  to: Organisation!  kind: HopKind!
  activity: ProcessingActivity  categories: [DataCategory!]!  legalBases: [LegalBasis!]!
  condition: String  engagement: Engagement
}
enum HopKind { DISCLOSURE SUB_PROCESSING ONWARD_DISCLOSURE }
type Engagement {
  id: ID!  processor: Organisation!  subProcessor: Organisation!  purpose: String
  categories: [DataCategory!]!  location: String  since: Date  until: Date  status: EngagementStatus!
}
enum EngagementStatus { PROPOSED ACTIVE WITHDRAWN }
type LegalBasis { id: ID!  title: String!  article: String  legislation: [String!]! }
type DataCategory { id: ID!  name: String!  special: Boolean!  criminalOffence: Boolean!  parent: DataCategory  children: [DataCategory!]! }
scalar Date
type Organisation { id: ID! name: String! }
type DataSubjectCategory { id: ID! name: String! }
type ProcessingActivity {
  id: ID! name: String! controller: Organisation! purposes: [String!]!
  dataSubjects: [DataSubjectCategory!]! categories: [DataCategory!]! legalBases: [LegalBasis!]!
  recipients: [Organisation!]! retention: String securityMeasures: [String!]!
  validFrom: Date validUntil: Date
}
"""  # noqa: E501 - the contract as the issue states it


def _default(arg: GraphQLArgument) -> object:
    # Built from SDL, an argument keeps its default in the AST only.
    if arg.ast_node is not None and arg.ast_node.default_value is not None:
        return value_from_ast(arg.ast_node.default_value, arg.type)
    return arg.default_value


@pytest.fixture(scope="module")
def ours() -> GraphQLSchema:
    return build_registry_schema()._schema


@pytest.mark.parametrize(
    "name", sorted(n for n in build_schema(CONTRACT).type_map if not n.startswith("__"))
)
def test_contract_type_is_served_unchanged(ours: GraphQLSchema, name: str) -> None:
    contract = build_schema(CONTRACT).type_map[name]
    served = ours.type_map.get(name)
    assert served is not None, f"type {name} is missing"
    if isinstance(contract, GraphQLEnumType):
        assert isinstance(served, GraphQLEnumType)
        assert list(served.values) == list(contract.values)
    if not isinstance(contract, GraphQLObjectType):
        return
    assert isinstance(served, GraphQLObjectType)
    for field_name, field in contract.fields.items():
        mine = served.fields.get(field_name)
        assert mine is not None, f"{name}.{field_name} is missing"
        assert str(mine.type) == str(field.type), f"{name}.{field_name}"
        for arg_name, arg in field.args.items():
            served_arg = mine.args.get(arg_name)
            assert served_arg is not None, f"{name}.{field_name}({arg_name}) is missing"
            assert str(served_arg.type) == str(arg.type), f"{name}.{field_name}({arg_name})"
            assert _default(served_arg) == _default(arg), f"{name}.{field_name}({arg_name})"
        extra = {a for a, v in mine.args.items() if a not in field.args and str(v.type)[-1] == "!"}
        assert not extra, f"{name}.{field_name} requires arguments clients do not send: {extra}"
