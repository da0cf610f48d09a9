"""GraphQL fields derived from the document model: a field marked `Public` in its model.

A type lists the fields it declares itself (with their descriptions, in the order the SDL
shows); `with_public_fields(model)` adds, after them, every node property of `model` marked
`Public` (schema.node_properties) that the type does not declare, typed from the model and
described by it. `public_values` gives their values from a record for `from_record`, so a
plain field added to a model and marked `Public` is in the API with no other change.

A type registered with `view_of(RecordClass)` is the view of such records: a type's field
whose record field holds a tuple of them (an entity's `assumptions`) is filled with their
views by `record_values`, with no code in each type.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from enum import Enum
from operator import attrgetter
from typing import Any, TypeVar, get_args, get_origin, get_type_hints

import strawberry
from pydantic import BaseModel
from strawberry.types.base import get_object_definition

from schema.node_properties import NodeProperty, Shape, node_properties

_T = TypeVar("_T")

# Per type: the fields with_public_fields added to it.
_DERIVED: dict[type[Any], tuple[str, ...]] = {}

# Per record class: the GraphQL view of one such record (view_of).
_VIEWS: dict[type[Any], Callable[[Any], Any]] = {}

_SCALARS = (str, int, float, bool, dt.date)


def _graphql_type(prop: NodeProperty) -> Any:
    core = prop.type
    plain = core in _SCALARS or (isinstance(core, type) and issubclass(core, Enum))
    if not plain:
        raise TypeError(
            f"{prop.field}: a {prop.shape} field cannot be derived; declare it on the type"
        )
    if prop.shape is Shape.LIST:
        return list[core]  # type: ignore[valid-type]
    return core if prop.default is not None else core | None


def with_public_fields(model: type[BaseModel]) -> Callable[[type[_T]], type[_T]]:
    """Add to a strawberry type (before `@strawberry.type`) the public fields of `model` it
    does not declare."""

    def add(cls: type[_T]) -> type[_T]:
        declared = {name for c in cls.__mro__ for name in vars(c).get("__annotations__", {})}
        if "__annotations__" not in vars(cls):
            cls.__annotations__ = {}
        added = []
        for prop in node_properties(model):
            if prop.public is None or prop.field in declared:
                continue
            cls.__annotations__[prop.field] = _graphql_type(prop)
            setattr(cls, prop.field, strawberry.field(description=prop.description))
            added.append(prop.field)
        _DERIVED[cls] = tuple(added)
        return cls

    return add


def view_of(record: type[Any]) -> Callable[[type[_T]], type[_T]]:
    """Register a strawberry type with a `from_record` classmethod as the view of `record`."""

    def register(cls: type[_T]) -> type[_T]:
        _VIEWS[record] = cls.from_record  # type: ignore[attr-defined]
        return cls

    return register


def public_values(cls: type[Any], rec: Any) -> dict[str, Any]:
    """The values of the fields `with_public_fields` added to `cls` (and its bases), read
    from the record of the same names (lists for tuples)."""
    out: dict[str, Any] = {}
    for klass in cls.__mro__:
        for name in _DERIVED.get(klass, ()):
            value = getattr(rec, name, None)
            out[name] = list(value) if isinstance(value, tuple) else value
    return out


def _plain(hint: Any) -> bool:
    """A record field's annotation with no nested record in it."""
    if dataclasses.is_dataclass(hint):
        return False
    return all(_plain(arg) for arg in get_args(hint))


# Per (type, record class): the plain fields (and a getter of them all), those of them lists
# are made of, the derived public fields, and the fields of records with a view (view_of).
_Plan = tuple[
    tuple[str, ...],
    Callable[[Any], Any],
    tuple[str, ...],
    tuple[str, ...],
    tuple[tuple[str, Callable[[Any], Any]], ...],
]


def _viewed(hint: Any) -> Callable[[Any], Any] | None:
    """The view of the records a tuple-of-records annotation holds, if registered."""
    args = get_args(hint)
    if get_origin(hint) is tuple and args and isinstance(args[0], type):
        return _VIEWS.get(args[0])
    return None


_PLAN: dict[tuple[type[Any], type[Any]], _Plan] = {}


def _plan(cls: type[Any], record: type[Any]) -> _Plan:
    found = _PLAN.get((cls, record))
    if found is None:
        hints = get_type_hints(record)
        derived = tuple(name for klass in cls.__mro__ for name in _DERIVED.get(klass, ()))
        own = [
            f.python_name
            for f in get_object_definition(cls, strict=True).fields
            if f.base_resolver is None and f.python_name in hints and f.python_name not in derived
        ]
        names = tuple(n for n in own if _plain(hints[n]))
        viewed = tuple((n, view) for n in own if (view := _viewed(hints[n])) is not None)
        listed = tuple(n for n in names if get_origin(hints[n]) is tuple)
        # attrgetter of several names gives a tuple; of one, the bare value.
        many = len(names) > 1
        getter = attrgetter(*names) if many else lambda rec: tuple(getattr(rec, n) for n in names)
        found = _PLAN[(cls, record)] = (names, getter, listed, derived, viewed)
    return found


def record_values(cls: type[Any], rec: Any, /, **nested: Any) -> dict[str, Any]:
    """What `cls.from_record` builds `cls` from: every field of the type whose record field
    of the same name holds plain values (lists for tuples), the derived public fields, the
    views of records with a view (view_of), and `nested` (the views of other nested records,
    and what the type keeps privately)."""
    names, getter, listed, derived, viewed = _plan(cls, type(rec))
    state = getattr(rec, "__dict__", None)
    if state is not None:  # a record's fields are its attributes: read them where they are
        out = {name: state[name] for name in names}
    else:
        out = dict(zip(names, getter(rec), strict=True))
    for name in listed:
        out[name] = list(out[name])
    for name, view in viewed:
        out[name] = [view(item) for item in getattr(rec, name)]
    if derived:
        out.update(public_values(cls, rec))
    out.update(nested)
    return out
