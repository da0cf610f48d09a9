"""A record's own fields, read from its node's properties as the document model describes them.

`schema.node_properties` says which fields of a model are stored on its node and how; a record
(schema.graphql.records) holds those of them it has a field of, under the same names, as its
annotations say: tuples for lists, enum members, dates, and nested records for flattened
sub-models (a contact, a DPIA, a recurrence). The readers in graph.read add what the node's
links give. A plain field added to a model is read into every record with a field of its name.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
from collections.abc import Callable, Iterable, Mapping
from enum import Enum
from functools import partial
from typing import Any, Union, get_args, get_origin, get_type_hints

from pydantic import BaseModel

from graph.read.values import native
from schema.node_properties import NodeProperty, Shape, empty_value, node_properties, read

_Convert = Callable[[Any], Any]


def _same(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _as_date(value: Any) -> dt.date:
    value = native(value)
    if not isinstance(value, dt.date):
        raise TypeError(f"{value!r} is not a date")
    return value


def _converter(hint: Any, model: type[BaseModel] | None = None) -> _Convert:
    """How a document value (as `schema.node_properties.read` gives it) becomes the value a
    record field annotated `hint` holds; `model`: the sub-model a nested record is read from."""
    if get_origin(hint) in (Union, types.UnionType):
        (hint,) = [a for a in get_args(hint) if a is not type(None)]
    if get_origin(hint) is tuple:
        item = _converter(get_args(hint)[0], model)
        return lambda value: tuple(map(item, value))
    if isinstance(hint, type) and dataclasses.is_dataclass(hint) and model is not None:
        return _record_converter(hint, model)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint
    if hint is dt.date:
        return _as_date
    if hint in (str, int, float, bool):
        return hint  # type: ignore[no-any-return]
    return _same


def _record_converter(record: type[Any], model: type[BaseModel]) -> _Convert:
    hints = get_type_hints(record)
    fields = []
    for f in dataclasses.fields(record):
        # A record names a reference `<field>_id` (TransferRecord.recipient_id).
        source = f.name if f.name in model.model_fields else f.name.removesuffix("_id")
        if source in model.model_fields:
            fields.append((f.name, source, _converter(hints[f.name])))

    def convert(value: Mapping[str, Any]) -> Any:
        return record(
            **{
                name: convert_one(found)
                for name, source, convert_one in fields
                if (found := value.get(source)) is not None
            }
        )

    return convert


# Per record field: its name, its node property's key (None: read by the function instead),
# what it holds when absent, how its value becomes the record's, and the node properties it is
# read from.
_Reader = tuple[str, str | None, Callable[[Mapping[str, Any]], Any], Any, _Convert, frozenset[str]]
_READERS: dict[tuple[type[Any], type[BaseModel]], tuple[_Reader, ...]] = {}
_PLAIN = frozenset({Shape.VALUE, Shape.ENUM, Shape.LIST})


def _readers(record: type[Any], model: type[BaseModel]) -> tuple[_Reader, ...]:
    found = _READERS.get((record, model))
    if found is None:
        found = _READERS[(record, model)] = _make_readers(record, model)
    return found


def _flat(hint: Any, prop: NodeProperty) -> Callable[[Mapping[str, Any]], Any] | None:
    """A direct reader of a flattened sub-model into its nested record, or None."""
    if get_origin(hint) in (Union, types.UnionType):
        (hint,) = [a for a in get_args(hint) if a is not type(None)]
    if not (isinstance(hint, type) and dataclasses.is_dataclass(hint)):
        return None
    nested: Any = hint
    hints = get_type_hints(nested)
    by_field = {part.field: part for part in prop.parts if part.shape in _PLAIN}
    parts = [
        (f.name, by_field[f.name].key, _converter(hints[f.name]))
        for f in dataclasses.fields(nested)
        if f.name in by_field
    ]

    def flat(props: Mapping[str, Any]) -> Any:
        found = {
            name: convert(value)
            for name, key, convert in parts
            if (value := props.get(key)) is not None
        }
        return nested(**found) if found else None

    return flat


def _same_props(value: Any) -> Any:
    return value


def _make_readers(record: type[Any], model: type[BaseModel]) -> tuple[_Reader, ...]:
    hints = get_type_hints(record)
    names = {f.name for f in dataclasses.fields(record)}
    out: list[_Reader] = []
    for prop in node_properties(model):
        if prop.field not in names:
            continue
        hint = hints[prop.field]
        flat = _flat(hint, prop) if prop.shape is Shape.FLAT else None
        convert = _converter(hint, prop.type)
        stored = frozenset(prop.stored_keys())
        if prop.shape in _PLAIN:
            out.append((prop.field, prop.key, partial(read, prop), prop.default, convert, stored))
        elif flat is not None:
            out.append((prop.field, None, flat, None, _same_props, stored))
        else:
            out.append((prop.field, None, partial(read, prop), prop.default, convert, stored))
    return tuple(out)


def _fields(readers: tuple[_Reader, ...], props: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": props["id"]}
    for name, key, reader, default, convert, _ in readers:
        value = props.get(key) if key is not None else reader(props)
        if value is None:
            value = default
        if value is not None:
            out[name] = convert(value)
    return out


def own_fields(
    record: type[Any], model: type[BaseModel], props: Mapping[str, Any]
) -> dict[str, Any]:
    """The fields of `record` (a dataclass) that are node properties of `model`
    (schema.node_properties), with its id, read from a node's properties: what the record
    readers build every record from, adding what its links give."""
    return _fields(_readers(record, model), props)


_ONE: dict[tuple[type[Any], type[BaseModel], str], tuple[NodeProperty, _Convert]] = {}


def own_field(
    record: type[Any], model: type[BaseModel], name: str, props: Mapping[str, Any]
) -> Any:
    """One field of `record` read from what holds `model`'s node properties under their keys
    (a node, or a statement's row that returns them so): its default when nothing is stored."""
    found = _ONE.get((record, model, name))
    if found is None:
        (prop,) = [p for p in node_properties(model) if p.field == name]
        found = _ONE[(record, model, name)] = (
            prop,
            _converter(get_type_hints(record)[name], prop.type),
        )
    prop, convert = found
    value = read(prop, props)
    return empty_value(prop) if value is None else convert(value)


_Light = Callable[[Mapping[str, Any]], dict[str, Any]]
_LIGHT: dict[tuple[type[Any], type[BaseModel], frozenset[str]], _Light] = {}


def light_fields(record: type[Any], model: type[BaseModel], keys: Iterable[str]) -> _Light:
    """`own_fields` for nodes of which only the properties `keys` were read (a list's light
    read): the fields stored in other properties are what they are when absent, found once."""
    key = (record, model, frozenset(keys))
    found = _LIGHT.get(key)
    if found is None:
        readers = _readers(record, model)
        asked = tuple(r for r in readers if r[5] & key[2])
        absent = _fields(tuple(r for r in readers if not r[5] & key[2]), {"id": None})
        del absent["id"]

        def found(props: Mapping[str, Any]) -> dict[str, Any]:
            out = _fields(asked, props)
            out.update(absent)
            return out

        _LIGHT[key] = found
    return found
