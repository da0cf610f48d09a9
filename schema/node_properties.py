"""Which fields of a document model are properties of its node, and how each is stored.

The graph keeps an entity's own values as properties of its node. `graph.from_document`
writes them, `graph.to_document` reads them back into a document and `graph.read` into
records, all through this one description, derived from the pydantic model's fields, so that
a plain field added to a model is stored, read back and recorded with no other change.

How a field is stored follows from its type:
- a string, number, boolean, enum (its value) or date: one property, the field's name in
  camelCase (`ico_registration` -> `icoRegistration`);
- a list of plain values: one list property;
- a sub-model (a contact, a DPIA, a recurrence): flattened, one property per sub-field,
  prefixed (`dpo.email` -> `dpoEmail`); `Stored(prefix=...)` picks another prefix;
- a list of sub-models: one property holding JSON text (a list of maps is not a Neo4j type);
  or, marked `Stored(columns=True)`, column-wise: the first sub-field's values as a list under
  the field's own key, each other sub-field's as a list beside it (`assumptions`,
  `assumptionsAbout`), written only when some item has one ("" for an item without). A list of
  plain values that gained sub-fields so stays stored as it was, and is read as it was.

The fields that name other entities are links, not properties: each model lists them in its
`LINKS` class variable, and the graph maps each to its relationship.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum
from functools import cache
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

# Not a property: the entity's id, which the graph stores beside them as the node's key.
_NOT_PROPERTIES = frozenset({"id"})


@dataclass(frozen=True)
class Public:
    """Marks a field (in `Annotated`) as a field of its GraphQL type, derived from the model
    (schema.graphql.derived) unless the type declares it; `description` overrides the
    field's own."""

    description: str | None = None


@dataclass(frozen=True)
class Stored:
    """How a field is stored where its type alone does not say it (in `Annotated`)."""

    # The prefix of a flattened sub-model's properties, instead of the field's own name.
    prefix: str | None = None
    # A list of sub-models stored as one list property per sub-field (Shape.COLUMNS).
    columns: bool = False


class Shape(StrEnum):
    """How one field's value becomes node properties."""

    VALUE = "value"  # str, int, bool, date: stored as is
    ENUM = "enum"  # stored as its value
    LIST = "list"  # a list of plain values
    FLAT = "flat"  # a sub-model, one prefixed property per sub-field
    JSON = "json"  # a list of sub-models, as JSON text
    COLUMNS = "columns"  # a list of sub-models, one list property per sub-field


@dataclass(frozen=True)
class NodeProperty:
    """One field of a model as stored on its node: `key` is the property (FLAT: the prefix)."""

    field: str
    key: str
    shape: Shape
    # The value's type: the enum, the sub-model (FLAT, JSON) or the plain type (VALUE, LIST).
    type: type[Any]
    # What a document without it holds (None: nothing, or an empty list).
    default: Any = None
    # The sub-model's own properties (FLAT, COLUMNS), their keys already prefixed (COLUMNS:
    # the first is the field's own key).
    parts: tuple[NodeProperty, ...] = ()
    # Marked Public: what the GraphQL type says of it (None: not public).
    public: Public | None = None
    description: str | None = None

    def stored_keys(self) -> tuple[str, ...]:
        """The node properties this field is stored in."""
        if self.shape in (Shape.FLAT, Shape.COLUMNS):
            return tuple(p.key for p in self.parts)
        return (self.key,)


def camel(name: str) -> str:
    """snake_case -> camelCase: `sub_processor_list` -> `subProcessorList`."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _strip(annotation: Any) -> tuple[Any, bool]:
    """The annotation without Optional and Annotated, and whether it is a list of it."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            others = [a for a in get_args(annotation) if a is not type(None)]
            if len(others) != 1:
                raise TypeError(f"a property holds one type, not {annotation!r}")
            annotation = others[0]
        elif origin is list:
            inner, nested = _strip(get_args(annotation)[0])
            if nested:
                raise TypeError(f"a property holds no list of lists: {annotation!r}")
            return inner, True
        else:
            return annotation, False


def _shape(core: Any, many: bool) -> Shape:
    is_model = isinstance(core, type) and issubclass(core, BaseModel)
    if many:
        return Shape.JSON if is_model else Shape.LIST
    if is_model:
        return Shape.FLAT
    if isinstance(core, type) and issubclass(core, Enum):
        return Shape.ENUM
    if core in (str, int, float, bool, dt.date):
        return Shape.VALUE
    raise TypeError(f"no node property can hold {core!r}")


@cache
def node_properties(model: type[BaseModel], prefix: str = "") -> tuple[NodeProperty, ...]:
    """The fields of `model` stored as node properties, in the model's order."""
    links: frozenset[str] = getattr(model, "LINKS", frozenset())
    out = []
    for name, info in model.model_fields.items():
        if name in links or (name in _NOT_PROPERTIES and not prefix):
            continue
        stored = next((m for m in info.metadata if isinstance(m, Stored)), Stored())
        core, many = _strip(info.annotation)
        shape = _shape(core, many)
        key = camel(name) if not prefix else prefix + camel(name)[:1].upper() + camel(name)[1:]
        default = info.default if info.default is not PydanticUndefined else None
        parts: tuple[NodeProperty, ...] = ()
        if shape is Shape.FLAT:
            key = stored.prefix or key
            parts = node_properties(core, key)
        elif shape is Shape.JSON and stored.columns:
            shape = Shape.COLUMNS
            parts = _columns(core, key)
        public = next((m for m in info.metadata if isinstance(m, Public)), None)
        description = (public.description if public else None) or info.description
        out.append(NodeProperty(name, key, shape, core, default, parts, public, description))
    return tuple(out)


def _columns(model: type[BaseModel], key: str) -> tuple[NodeProperty, ...]:
    first, *rest = node_properties(model, key)
    if first.shape is not Shape.VALUE or any(p.shape is not Shape.VALUE for p in rest):
        raise TypeError(f"{model.__name__}: columns hold plain values only")
    return (dataclasses.replace(first, key=key), *rest)


def _stored(prop: NodeProperty, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if prop.shape is Shape.ENUM:
        return {prop.key: value.value}
    if prop.shape is Shape.LIST:
        return {prop.key: list(value)}
    if prop.shape is Shape.FLAT:
        return {
            k: v
            for part in prop.parts
            for k, v in _stored(part, getattr(value, part.field)).items()
        }
    if prop.shape is Shape.JSON:
        if not value:
            return {}
        rows = [item.model_dump(mode="json", exclude_none=True) for item in value]
        return {prop.key: json.dumps(rows, sort_keys=True)}
    if prop.shape is Shape.COLUMNS:
        if not value:
            return {}
        first, *rest = prop.parts
        out = {first.key: [getattr(item, first.field) for item in value]}
        for part in rest:
            column = [getattr(item, part.field) for item in value]
            if any(v is not None for v in column):
                out[part.key] = ["" if v is None else v for v in column]
        return out
    return {prop.key: value}


def to_props(entity: BaseModel) -> dict[str, Any]:
    """The node properties of a document entity (None values left out: Neo4j stores none)."""
    out: dict[str, Any] = {}
    for prop in node_properties(type(entity)):
        out.update(_stored(prop, getattr(entity, prop.field)))
    return out


def field_props(entity: BaseModel, field: str) -> dict[str, Any]:
    """The node properties one field of a document entity is stored in (none when empty)."""
    (prop,) = [p for p in node_properties(type(entity)) if p.field == field]
    return _stored(prop, getattr(entity, field))


def read(prop: NodeProperty, props: Mapping[str, Any]) -> Any:
    """The document value of one field from node properties (a flattened sub-model as a map,
    a JSON or COLUMNS one as a list of maps); None when none is stored."""
    if prop.shape is Shape.FLAT:
        found = {p.field: v for p in prop.parts if (v := read(p, props)) is not None}
        return found or None
    if prop.shape is Shape.COLUMNS:
        return _rows(prop, props)
    value = props.get(prop.key)
    if value is None:
        return None
    if prop.shape is Shape.JSON:
        return json.loads(value)
    return value


def _rows(prop: NodeProperty, props: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    first, *rest = prop.parts
    values = props.get(first.key)
    if values is None:
        return None
    rows: list[dict[str, Any]] = [{first.field: v} for v in values]
    for part in rest:
        for row, v in zip(rows, props.get(part.key) or (), strict=False):
            if v != "":
                row[part.field] = v
    return rows


def from_props(model: type[BaseModel], props: Mapping[str, Any]) -> dict[str, Any]:
    """The field values of `model` stored in node properties, as plain values to validate
    (flattened sub-models as maps); fields with nothing stored are left out."""
    out = {}
    for prop in node_properties(model):
        value = read(prop, props)
        if value is not None:
            out[prop.field] = value
    return out


_T = TypeVar("_T")


def empty_value(prop: NodeProperty) -> Any:
    """What a record holds for a field with nothing stored: immutable, an empty tuple for a
    list."""
    return () if prop.shape in (Shape.LIST, Shape.JSON, Shape.COLUMNS) else prop.default


def with_properties_of(model: type[BaseModel]) -> Callable[[type[_T]], type[_T]]:
    """Give a record class (before `@dataclass`) a field for every node property of `model`
    it does not declare itself (nor as `<field>_id`), so that a field added to the model
    reaches the record with no other change. Declared fields are the typed view code uses;
    the added ones hold the plain value (tuples for lists)."""

    def add(cls: type[_T]) -> type[_T]:
        declared = {name for c in cls.__mro__ for name in vars(c).get("__annotations__", {})}
        if "__annotations__" not in vars(cls):
            cls.__annotations__ = {}
        for prop in node_properties(model):
            if prop.field in declared or f"{prop.field}_id" in declared:
                continue
            cls.__annotations__[prop.field] = Any
            setattr(cls, prop.field, empty_value(prop))
        return cls

    return add
