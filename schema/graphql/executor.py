"""An executor that completes plain fields in a tight loop, with graphql-core's semantics.

A `recipients` answer for every controller is some 12,000 fields, nearly all of them a record's
attribute (`id`, `kind`, `from { id }`): graphql-core gives each one a resolve info, a call of
strawberry's default resolver, a Path and four `complete_value` frames, which was most of the
request. Here a field is *plain* when strawberry made it without a resolver, extension or
permission (its GraphQL resolver is strawberry's default one), it takes no arguments and its
nodes carry no directives; such a field is read with the field's own default resolver (`getattr`)
and completed directly: leaves coerced by their scalar, lists item by item, objects by
collecting their sub-fields (graphql-core's memoized collection, so `@skip`/`@include`,
fragments and aliases are its) and executing them the same way. Everything else (`__typename`
aside, which is its parent type's name) goes through graphql-core's own `execute_field` and
`complete_value`: resolvers, arguments, abstract types, `is_type_of`, awaitables, `@defer`,
`@stream`, middleware. Errors are graphql-core's: located with their path, nulled at the
nearest nullable field, raised through non-null ones (`handle_field_error`).

An object whose selection is only leaves (`from { id }`, `categories { id name }`) and which
stands at several places of the answer (an organisation on many hops, a category on most) is
completed once per selection: the same map stands at each place, as the same value would be
completed there again (its fields are read with `getattr`, with nothing awaited). Only a
completion that raised no error is reused, so an error is reported at every path it has.

Access rules are not touched: scope is applied by the resolvers and loaders that produce the
records (schema.access.policy), and a field with a resolver or extension is never plain.
tests/unit/test_executor.py compares every answer with graphql-core's own executor.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLID,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path, Undefined, gather_with_cancel
from graphql.type.definition import GraphQLField
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField

# Scalars whose output coercion of a value of this exact class returns the value itself.
_IDENTITY: Mapping[object, type] = {
    GraphQLString: str,
    GraphQLID: str,
    GraphQLBoolean: bool,
}

# What a completed value that is already settled (no awaitable) is: a map, a list, a leaf.
_SETTLED: frozenset[type] = frozenset({dict, list, str, int, float, bool, type(None)})

# A completed object's map of fields or a completed list, with awaitables still in some slots.
_Slots = TypeVar("_Slots", dict[str, Any], list[Any])

# strawberry's key, on a graphql-core field, of the strawberry field it was made from.
_DEFINITION = "strawberry-definition"
Reader = Callable[[Any, str], Any]


class StepKind(enum.Enum):
    """How one response name of a selection set is answered."""

    PLAIN = "plain"  # read with the field's default resolver, completed here
    TYPENAME = "typename"  # the parent type's name
    NORMAL = "normal"  # graphql-core's execute_field


@dataclass(frozen=True)
class Step:
    """One response name of a selection set on one type, as planned once per execution."""

    response_name: str
    field_details: FieldDetailsList
    kind: StepKind
    parent_type: GraphQLObjectType
    field_name: str
    field_def: GraphQLField | None = None
    return_type: GraphQLOutputType = GraphQLString
    read: Reader = getattr
    attribute: str = ""
    # The class of value the field's scalar returns unchanged (a String, ID, Boolean).
    identity: type | None = None
    # Whether null is the field's answer for a null value, and its leaf type (scalar or enum,
    # for a leaf field): a null or a leaf is completed without a Path, which only errors need.
    nullable: bool = False
    leaf: GraphQLScalarType | GraphQLEnumType | None = None


def _plain(field: GraphQLField, details: FieldDetailsList) -> StrawberryField | None:
    """The strawberry field behind `field` if it is plain for these nodes, else None."""
    made_from = (field.extensions or {}).get(_DEFINITION)
    resolve = field.resolve
    if (
        not isinstance(made_from, StrawberryField)
        or resolve is None
        or not getattr(resolve, "_is_default", False)
        or not made_from.is_basic_field
        or field.args
    ):
        return None
    for detail in details:
        node = detail.node
        if node.arguments or node.directives or detail.fragment_variable_values is not None:
            return None
    return made_from


def _objects_list(return_type: GraphQLOutputType) -> bool:
    """Whether `return_type` is a list (nullable or not) of object types without `is_type_of`
    (their items, nullable or not, complete by executing their fields)."""
    if isinstance(return_type, GraphQLNonNull):
        return_type = return_type.of_type
    if not isinstance(return_type, GraphQLList):
        return False
    item = return_type.of_type
    if isinstance(item, GraphQLNonNull):
        item = item.of_type
    return isinstance(item, GraphQLObjectType) and item.is_type_of is None


def plan(
    schema: GraphQLSchema,
    parent_type: GraphQLObjectType,
    grouped_field_set: Mapping[str, FieldDetailsList],
) -> list[Step]:
    """How each response name of a collected selection set on `parent_type` is answered."""
    steps: list[Step] = []
    for response_name, details in grouped_field_set.items():
        field_name = details[0].node.name.value
        base = (response_name, details)
        if field_name == "__typename":
            steps.append(Step(*base, StepKind.TYPENAME, parent_type, field_name))
            continue
        field = schema.get_field(parent_type, field_name)
        made_from = None if field is None else _plain(field, details)
        if field is None or made_from is None:
            steps.append(Step(*base, StepKind.NORMAL, parent_type, field_name, field))
            continue
        return_type = field.type
        nullable = not isinstance(return_type, GraphQLNonNull)
        named = return_type if nullable else return_type.of_type  # type: ignore[union-attr]
        leaf = named if isinstance(named, GraphQLScalarType | GraphQLEnumType) else None
        steps.append(
            Step(
                *base,
                StepKind.PLAIN,
                parent_type,
                field_name,
                field,
                return_type,
                made_from.default_resolver,
                made_from.python_name,
                _IDENTITY.get(named),
                nullable,
                leaf,
            )
        )
    return steps


def _leaf_step(step: Step) -> bool:
    """Whether `step` answers with its parent type's name or a plain scalar or enum field."""
    return step.kind is StepKind.TYPENAME or (step.kind is StepKind.PLAIN and step.leaf is not None)


class PlainFieldsExecutor(StrawberryGraphQLCoreExecutionContext):
    """strawberry's executor, with plain fields completed without graphql-core's per-field
    machinery (see the module's docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # id(grouped field set) -> (the set, kept alive so that its id stays its own; its
        # steps; whether they are all leaves, so that a completion may be reused)
        self._plans: dict[int, tuple[object, list[Step], bool]] = {}
        # (id(grouped field set), id(object)) -> (the object, kept alive likewise; its map)
        self._completed: dict[tuple[int, int], tuple[object, dict[str, Any]]] = {}

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Mapping[str, FieldDetailsList],
        position_context: Any,
    ) -> Any:
        """graphql-core's `execute_fields`, with plain fields read and completed here."""
        middleware = self.middleware_manager
        # strawberry always passes a manager; one holding middleware wraps every resolver.
        if position_context is not None or (middleware is not None and middleware.middlewares):
            return super().execute_fields(
                parent_type,
                source_value,
                path,
                grouped_field_set,  # type: ignore[arg-type]
                position_context,
            )
        planned = self._plans.get(id(grouped_field_set))
        if planned is None:
            steps = plan(self.schema, parent_type, grouped_field_set)
            planned = (grouped_field_set, steps, all(map(_leaf_step, steps)))
            self._plans[id(grouped_field_set)] = planned
        _, steps, leaves_only = planned
        if leaves_only:
            memo = (id(grouped_field_set), id(source_value))
            done = self._completed.get(memo)
            if done is not None and done[0] is source_value:
                return done[1]
        failed = False
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for step in steps:
                name = step.response_name
                if step.kind is StepKind.NORMAL:
                    result = self.execute_field(
                        parent_type,
                        source_value,
                        step.field_details,
                        Path(path, name, parent_type.name),
                        position_context,
                    )
                    if result is Undefined:
                        continue
                    results[name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(name)
                    continue
                if step.kind is StepKind.TYPENAME:
                    results[name] = parent_type.name
                    continue
                try:
                    value = step.read(source_value, step.attribute)
                    identity = step.identity
                    if identity is not None and value.__class__ is identity:
                        results[name] = value
                        continue
                    if value is None:
                        if step.nullable:
                            results[name] = None
                            continue
                    elif (
                        step.leaf is not None
                        and value is not Undefined
                        and not isinstance(value, Exception)
                        and not is_awaitable(value)
                    ):
                        # What `_complete` does for a leaf's value (its errors are caught below).
                        results[name] = self.complete_leaf_value(step.leaf, value)
                        continue
                    field_path = Path(path, name, parent_type.name)
                    completed = self._complete(
                        step, step.return_type, field_path, field_path, value
                    )
                except Exception as raw_error:
                    failed = True
                    self.handle_field_error(
                        raw_error,
                        step.return_type,
                        step.field_details,
                        Path(path, name, parent_type.name),
                    )
                    completed = None
                if completed.__class__ not in _SETTLED and is_awaitable(completed):
                    completed = self._guarded(
                        step, step.return_type, Path(path, name, parent_type.name), completed
                    )
                    awaitable_fields.append(name)
                results[name] = completed
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            if leaves_only and not failed:
                self._completed[memo] = (source_value, results)
            return results
        return self._gathered(results, awaitable_fields)

    def complete_value(
        self,
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        """graphql-core's `complete_value`, with a resolver's list of objects completed here
        item by item as a plain field's list is (a root list of hundreds of records)."""
        if (
            position_context is None
            and isinstance(result, list | tuple)
            and _objects_list(return_type)
            and not any(detail.node.directives for detail in field_details_list)
        ):
            step = Step(
                path.key if isinstance(path.key, str) else info.field_name,
                field_details_list,
                StepKind.NORMAL,
                info.parent_type,
                info.field_name,
                self.schema.get_field(info.parent_type, info.field_name),
                return_type,
            )
            return self._complete(step, return_type, path, path, result)
        return super().complete_value(
            return_type, field_details_list, info, path, result, position_context
        )

    async def _gathered(self, results: _Slots, keys: list[Any]) -> _Slots:
        # As graphql-core's execute_fields and complete_iterable_value do: the awaitables at
        # `keys` (field names of a map, or indices of a list) in parallel, then the results.
        if len(keys) == 1:
            results[keys[0]] = await results[keys[0]]
            return results
        awaited = await gather_with_cancel(*(results[key] for key in keys))
        for key, value in zip(keys, awaited, strict=True):
            results[key] = value
        return results

    async def _guarded(
        self,
        step: Step,
        return_type: GraphQLOutputType,
        path: Path,
        completed: Awaitable[Any],
    ) -> Any:
        # graphql-core's await_completed: an error while completing nulls the field (or item).
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, step.field_details, path)
            return None

    def _complete(
        self,
        step: Step,
        return_type: GraphQLOutputType,
        field_path: Path,
        path: Path,
        result: Any,
    ) -> Any:
        """graphql-core's `complete_value` for a plain field's value (or an item of it, at
        `path`, of the field at `field_path`)."""
        if isinstance(result, Exception):
            raise result
        if isinstance(return_type, GraphQLNonNull):
            completed = self._complete(step, return_type.of_type, field_path, path, result)
            if completed is None:
                raise TypeError(
                    "Cannot return null for non-nullable field"
                    f" {step.parent_type}.{step.field_name}."
                )
            return completed
        if result is None or result is Undefined:
            return None
        if self.is_awaitable(result):
            return self._fallback(step, return_type, field_path, path, result)
        if isinstance(return_type, GraphQLScalarType | GraphQLEnumType):
            if _IDENTITY.get(return_type) is result.__class__:
                return result
            return self.complete_leaf_value(return_type, result)
        if isinstance(return_type, GraphQLList) and isinstance(result, list | tuple):
            return self._complete_list(step, return_type.of_type, field_path, path, result)
        if isinstance(return_type, GraphQLObjectType) and return_type.is_type_of is None:
            collected = self.collect_subfields(return_type, step.field_details)
            grouped_field_set, new_defer_usages, _forbidden = collected
            if not new_defer_usages:
                return self.execute_fields(return_type, result, path, grouped_field_set, None)
        return self._fallback(step, return_type, field_path, path, result)

    def _complete_list(
        self,
        step: Step,
        item_type: GraphQLOutputType,
        field_path: Path,
        path: Path,
        items: list[Any] | tuple[Any, ...],
    ) -> Any:
        # graphql-core's complete_iterable_value without @stream (a plain field has none).
        completed_results: list[Any] = []
        awaitable_indices: list[int] = []
        is_awaitable = self.is_awaitable
        try:
            for index, item in enumerate(items):
                item_path = Path(path, index, None)
                try:
                    completed = self._complete(step, item_type, field_path, item_path, item)
                    if completed.__class__ not in _SETTLED and is_awaitable(completed):
                        completed = self._guarded(step, item_type, item_path, completed)
                        awaitable_indices.append(index)
                except Exception as raw_error:
                    self.handle_field_error(raw_error, item_type, step.field_details, item_path)
                    completed = None
                completed_results.append(completed)
        except Exception:
            # A null in a non-null item ends the list: what earlier items still await is
            # settled in the background, as graphql-core's complete_iterable_value does.
            if awaitable_indices:
                self.settle_in_background([completed_results[i] for i in awaitable_indices])
            raise
        if not awaitable_indices:
            return completed_results
        return self._gathered(completed_results, awaitable_indices)

    def _fallback(
        self,
        step: Step,
        return_type: GraphQLOutputType,
        field_path: Path,
        path: Path,
        result: Any,
    ) -> Any:
        """graphql-core's own completion, with the resolve info it would have built."""
        if step.field_def is None:  # pragma: no cover - plain steps always have their field
            raise TypeError(f"no field {step.parent_type}.{step.field_name}")
        nodes = [detail.node for detail in step.field_details]
        info = self.build_resolve_info(step.field_def, nodes, step.parent_type, field_path)
        if self.is_awaitable(result):
            return self.complete_awaitable_value(
                return_type, step.field_details, info, path, result, None
            )
        return self.complete_value(return_type, step.field_details, info, path, result, None)
