"""quick_init builds the same frozen records as the dataclass's own __init__, and refuses the
same calls."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import pytest

from schema.graphql import records
from schema.graphql.record_init import quick_init


@dataclasses.dataclass(frozen=True)
class Generated:
    id: str
    name: str
    note: str | None = None
    tags: tuple[str, ...] = ()


@quick_init
@dataclasses.dataclass(frozen=True)
class Quick:
    id: str
    name: str
    note: str | None = None
    tags: tuple[str, ...] = ()


CALLS: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
    ((), {"id": "a", "name": "A"}),
    ((), {"id": "a", "name": "A", "note": "n", "tags": ("x",)}),
    (("a", "A"), {}),
    (("a", "A", "n"), {"tags": ("x",)}),
    (("a",), {"name": "A"}),
]
BAD_CALLS: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
    ((), {"id": "a"}),  # missing
    ((), {"id": "a", "name": "A", "colour": "red"}),  # unknown
    (("a",), {"id": "b", "name": "A"}),  # repeated
    (("a", "A", "n", (), "extra"), {}),  # too many
]


def _fields(value: Any) -> dict[str, Any]:
    return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}


@pytest.mark.parametrize(("args", "kwargs"), CALLS)
def test_same_record_as_the_generated_init(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    quick, generated = Quick(*args, **kwargs), Generated(*args, **kwargs)
    assert _fields(quick) == _fields(generated)
    assert vars(quick) == vars(generated)
    assert quick == Quick(*args, **kwargs)
    assert hash(quick) == hash(Quick(*args, **kwargs))
    with pytest.raises(dataclasses.FrozenInstanceError):
        quick.name = "B"  # type: ignore[misc]


@pytest.mark.parametrize(("args", "kwargs"), BAD_CALLS)
def test_refuses_what_the_generated_init_refuses(
    args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    with pytest.raises(TypeError):
        Generated(*args, **kwargs)
    with pytest.raises(TypeError, match=r"Quick\.__init__"):
        Quick(*args, **kwargs)


def test_refuses_classes_it_cannot_keep() -> None:
    @dataclasses.dataclass(frozen=True)
    class Later:
        items: list[str] = dataclasses.field(default_factory=list)

    @dataclasses.dataclass(frozen=True, slots=True)
    class Slotted:
        id: str

    @dataclasses.dataclass(frozen=True)
    class Checked:
        id: str

        def __post_init__(self) -> None:
            pass

    for cls in (Later, Slotted, Checked):
        with pytest.raises(TypeError):
            quick_init(cls)


def test_every_record_has_it() -> None:
    # The records a list builds one of per item; a new one gets it by the same decorator.
    found = [
        cls
        for _, cls in inspect.getmembers(records, inspect.isclass)
        if cls.__module__ == records.__name__ and dataclasses.is_dataclass(cls)
    ]
    assert len(found) > 15
    for cls in found:
        assert cls.__init__.__qualname__ == f"{cls.__qualname__}.__init__"
        assert cls.__init__.__code__ is Quick.__init__.__code__, cls
