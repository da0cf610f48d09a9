"""PlainFieldsExecutor answers exactly what graphql-core's own executor answers.

Each document runs on the same strawberry schema twice, once with strawberry's executor and
once with ours, and the answers must be equal: data, and every error's message, path and
locations, in order. The schema mixes plain fields (records' attributes) with resolvers, async
resolvers, a permission, a union and non-null fields that are null, so that null propagation,
located errors, aliases, fragments, `@skip`/`@include` and `__typename` are all exercised on the
fast path and across its edges with graphql-core's own.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import enum
from typing import Annotated, Any

import pytest
import strawberry
from strawberry.permission import BasePermission
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.graphql import executor
from schema.graphql.executor import PlainFieldsExecutor, StepKind


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Never(BasePermission):
    message = "not for you"

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return False


@strawberry.type
class Leaf:
    id: strawberry.ID
    name: str
    size: int
    ratio: float | None
    on: dt.date | None
    colour: Colour
    tags: list[str]
    maybe_tags: list[str | None] | None
    broken: str  # non-null, and None on some leaves
    count: int | None  # nullable: None, an Int, or (on leaf 7) no Int
    secret: str | None = strawberry.field(permission_classes=[Never], default="hidden")

    @strawberry.field
    def shout(self, loud: bool = True) -> str:
        return self.name.upper() if loud else self.name

    @strawberry.field
    async def later(self) -> str:
        await asyncio.sleep(0)
        return f"later {self.id}"

    @strawberry.field
    def fails(self) -> str | None:
        raise ValueError(f"fails on {self.id}")


@strawberry.type
class Other:
    code: int


LeafOrOther = Annotated[Leaf | Other, strawberry.union("LeafOrOther")]


@strawberry.type
class Branch:
    label: str
    leaves: list[Leaf]
    strict_leaves: list[Leaf] | None
    first: Leaf | None
    must: Leaf
    either: LeafOrOther | None
    many: list[LeafOrOther]


def _leaf(i: int, broken: str | None = "ok") -> Leaf:
    return Leaf(
        id=strawberry.ID(f"l{i}"),
        name=f"leaf {i}",
        size=i if i != 7 else 2**40,  # 2**40 is no Int: a coercion error
        ratio=None if i % 2 else i / 3,
        on=dt.date(2022, 3, i + 1) if i % 3 else None,
        colour=Colour.RED if i % 2 else Colour.BLUE,
        tags=[f"t{i}", "x"],
        maybe_tags=None if i == 2 else ["a", None],
        broken=broken,  # type: ignore[arg-type]
        count=None if i % 2 == 0 else (2**40 if i == 7 else i),
    )


def _branch(label: str, broken_at: int | None = None) -> Branch:
    leaves = [_leaf(i, None if i == broken_at else "ok") for i in range(4)]
    return Branch(
        label=label,
        leaves=leaves,
        strict_leaves=[*leaves, None] if label == "b" else leaves,  # type: ignore[list-item]
        first=leaves[0],
        must=None if label == "c" else leaves[1],  # type: ignore[arg-type]
        either=Other(code=3) if label == "a" else leaves[2],
        many=[leaves[3], Other(code=4), _leaf(7)],
    )


@strawberry.type
class Query:
    @strawberry.field
    def branches(self) -> list[Branch]:
        return [_branch("a"), _branch("b", broken_at=2), _branch("c")]

    @strawberry.field
    async def branch(self, label: str) -> Branch | None:
        return _branch(label, broken_at=1)

    @strawberry.field
    def plain_list(self) -> list[Leaf | None]:
        return [_leaf(1), None, _leaf(7), _leaf(3, broken=None)]

    # Resolvers' lists of objects, completed item by item by the executor's own loop.
    @strawberry.field
    def strict_list(self) -> list[Leaf] | None:
        return [_leaf(1), None, _leaf(2)]  # type: ignore[list-item]

    @strawberry.field
    def must_list(self) -> list[Leaf]:
        return [_leaf(1), None]  # type: ignore[list-item]

    @strawberry.field
    async def later_list(self) -> list[Leaf]:
        await asyncio.sleep(0)
        return [_leaf(i, broken=None if i == 2 else "ok") for i in range(4)]

    @strawberry.field
    def tuple_list(self) -> list[Branch]:
        return (_branch("a"), _branch("c"))  # type: ignore[return-value]

    @strawberry.field
    def grid(self) -> list[list[Leaf | None]]:
        return [[_leaf(1), None], [], [_leaf(3, broken=None)]]

    @strawberry.field
    def generated(self) -> list[Leaf]:
        return (_leaf(i) for i in range(3))  # type: ignore[return-value]

    @strawberry.field
    def mixed(self) -> list[LeafOrOther]:
        return [_leaf(1), Other(code=2)]

    @strawberry.field
    def repeated(self) -> list[Leaf]:
        # One object at several places, as an organisation is on many hops; leaf 7's `count`
        # is no Int (a nullable field's error) and its `size` neither (a non-null one's).
        shared, failing = _leaf(1), _leaf(7)
        return [shared, failing, shared, failing, shared]


DOCUMENTS = {
    "leaves": "{ branches { label leaves { id name size ratio on colour tags maybeTags } } }",
    "non-null null propagates to the list": "{ branches { label leaves { id broken } } }",
    "non-null list item null": "{ branches { label strictLeaves { id } } }",
    "non-null object null": "{ branches { label must { id } } }",
    "int coercion error": "{ plainList { id size } }",
    "nullable leaves: null, coerced and a coercion error": (
        "{ plainList { id count ratio on } branches { leaves { count colour } } }"
    ),
    "nullable items": "{ plainList { id name broken } }",
    "resolvers among plain fields": "{ branches { leaves { id shout later fails } } }",
    "arguments on a resolver": "{ branches { first { a: shout(loud: false) b: shout } } }",
    "a permission": "{ branches { first { id secret } } }",
    "aliases and typename": (
        "{ b: branches { __typename l: label first { __typename x: id y: id name } } }"
    ),
    "fragments and inline fragments": """
        query { branches { ...B first { ... on Leaf { id } ...L } } }
        fragment B on Branch { label leaves { ...L } }
        fragment L on Leaf { name colour tags }
    """,
    "merged selections of one name": (
        "{ branches { first { id } first { name tags } leaves { id } leaves { size } } }"
    ),
    "skip and include": """
        query ($yes: Boolean!, $no: Boolean!) {
          branches {
            label @skip(if: $yes)
            first { id @include(if: $yes) name @include(if: $no) }
            leaves @include(if: $no) { id }
            ... on Branch @skip(if: $no) { must { id } }
          }
        }
    """,
    "unions": """
        { branches { either { __typename ... on Leaf { id } ... on Other { code } }
                     many { __typename ... on Leaf { name size } ... on Other { code } } } }
    """,
    "an async root": '{ branch(label: "z") { label leaves { id broken } first { later } } }',
    "a resolver's list with a null item": "{ strictList { id name } plainList { id } }",
    "a resolver's non-null list with a null item": "{ mustList { id } }",
    "an async resolver's list": "{ laterList { id broken later fails } }",
    "a resolver's tuple and lists of lists": (
        "{ tupleList { label must { id } leaves { id broken } } grid { id broken } }"
    ),
    "a resolver's generator and union list": """
        { generated { id } mixed { __typename ... on Leaf { id } ... on Other { code } } }
    """,
    "a resolver's list with skip and fragments": """
        query ($yes: Boolean!) {
          laterList @include(if: $yes) { ...L id @skip(if: $yes) }
          strictList { ... on Leaf { name } }
        }
        fragment L on Leaf { name tags }
    """,
    "one object at several places": (
        "{ repeated { id name colour count } again: repeated { __typename id } }"
    ),
    "one object at several places, a non-null error": "{ repeated { id size } }",
}
VARIABLES = {
    "skip and include": {"yes": True, "no": False},
    "a resolver's list with skip and fragments": {"yes": True},
}


def _answer(result: Any) -> tuple[Any, list[tuple[str, Any, Any]]]:
    errors = [
        (e.message, e.path, [(loc.line, loc.column) for loc in e.locations or ()])
        for e in result.errors or ()
    ]
    return result.data, errors


def _schemas() -> tuple[strawberry.Schema, strawberry.Schema]:
    default = strawberry.Schema(
        query=Query, execution_context_class=StrawberryGraphQLCoreExecutionContext
    )
    fast = strawberry.Schema(query=Query, execution_context_class=PlainFieldsExecutor)
    return default, fast


@pytest.mark.parametrize("name", list(DOCUMENTS))
async def test_the_answer_is_graphql_cores(name: str) -> None:
    default, fast = _schemas()
    variables = VARIABLES.get(name)
    expected = await default.execute(DOCUMENTS[name], variable_values=variables)
    got = await fast.execute(DOCUMENTS[name], variable_values=variables)
    assert _answer(got) == _answer(expected)


async def test_the_documents_cover_errors_and_nulls() -> None:
    # The comparison is worth something only if the answers hold what it is meant to compare.
    default, _ = _schemas()
    messages = []
    paths = []
    for name, document in DOCUMENTS.items():
        result = await default.execute(document, variable_values=VARIABLES.get(name))
        messages += [e.message for e in result.errors or ()]
        paths += [e.path for e in result.errors or ()]
    text = "\n".join(messages)
    # A nullable leaf that cannot be coerced (completed without a Path until it fails).
    assert ["plainList", 2, "count"] in paths
    assert "Cannot return null for non-nullable field Leaf.broken" in text
    assert "Cannot return null for non-nullable field Branch.must" in text
    assert "Int cannot represent non 32-bit signed integer value" in text
    assert "fails on l0" in text
    assert "not for you" in text
    assert "Cannot return null for non-nullable field Query.strictList" in text
    assert "Cannot return null for non-nullable field Query.mustList" in text


async def test_plain_fields_take_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    planned: list[tuple[str, StepKind]] = []
    plan = executor.plan

    def spy(*args: Any) -> list[executor.Step]:
        steps = plan(*args)
        planned.extend((f"{s.parent_type.name}.{s.field_name}", s.kind) for s in steps)
        return steps

    monkeypatch.setattr(executor, "plan", spy)
    _, fast = _schemas()
    await fast.execute(DOCUMENTS["resolvers among plain fields"])
    await fast.execute(DOCUMENTS["a permission"])
    await fast.execute(DOCUMENTS["aliases and typename"])
    kinds = dict(planned)
    assert kinds["Leaf.id"] is StepKind.PLAIN
    assert kinds["Branch.leaves"] is StepKind.PLAIN
    assert kinds["Leaf.shout"] is StepKind.NORMAL  # a resolver
    assert kinds["Leaf.later"] is StepKind.NORMAL
    assert kinds["Leaf.secret"] is StepKind.NORMAL  # a permission is an extension
    assert kinds["Query.branches"] is StepKind.NORMAL
    assert kinds["Branch.__typename"] is StepKind.TYPENAME


async def test_the_registry_schema_uses_it() -> None:
    from schema.graphql.schema import build_schema

    assert build_schema().execution_context_class is PlainFieldsExecutor


async def test_a_resolvers_list_of_objects_takes_the_fast_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # graphql-core completes each item of a list through complete_list_item_value; ours does
    # not, for a resolver's list of objects as for a plain field's.
    items: list[Any] = []
    original = StrawberryGraphQLCoreExecutionContext.complete_list_item_value

    def counted(self: Any, item: Any, *args: Any) -> bool:
        items.append(item)
        return original(self, item, *args)

    monkeypatch.setattr(StrawberryGraphQLCoreExecutionContext, "complete_list_item_value", counted)
    default, fast = _schemas()
    document = "{ laterList { id } tupleList { label } strictList { id } }"
    await default.execute(document)
    assert len(items) == 4 + 2 + 2  # strictList stops at its null (non-null) item
    items.clear()
    await fast.execute(document)
    assert items == []
    await fast.execute(DOCUMENTS["a resolver's generator and union list"])
    assert len(items) == 3 + 2  # a generator and a union list are graphql-core's


async def test_an_object_at_several_places_is_completed_once_per_selection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reads: list[tuple[str, str]] = []
    plan = executor.plan

    def read(source: Any, attribute: str) -> Any:
        reads.append((str(getattr(source, "id", "?")), attribute))
        return getattr(source, attribute)

    def counted(*args: Any) -> list[executor.Step]:
        return [dataclasses.replace(step, read=read) for step in plan(*args)]

    monkeypatch.setattr(executor, "plan", counted)
    _, fast = _schemas()
    result = await fast.execute(DOCUMENTS["one object at several places"])
    assert result.data is not None
    assert result.data["repeated"][0] == result.data["repeated"][2] == result.data["repeated"][4]
    # Leaf 1's fields are read once for each selection that asks for them, not at each place;
    # leaf 7's completion failed (its count), so it is completed, and its error reported, at
    # each of its places.
    assert reads.count(("l1", "name")) == 1
    assert reads.count(("l1", "id")) == 2  # `repeated` and `again` are two selections
    assert reads.count(("l7", "count")) == 2
    assert [e.path for e in result.errors or ()] == [
        ["repeated", 1, "count"],
        ["repeated", 3, "count"],
    ]
