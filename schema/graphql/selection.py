"""What an operation selects below a field, to fetch with a root answer only what it needs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from strawberry.types.nodes import SelectedField, Selection

from schema.graphql.access import Info

# A list `xs` is also asked through its twin `xsConnection` (schema.graphql.connections), whose
# items sit below `nodes` or `edges { node }`: asking there asks for the list's items.
_TWIN = "Connection"
_PAGE_ITEMS = (("nodes",), ("edges", "node"))


def _below(selection: SelectedField, name: str) -> Iterable[tuple[Selection, ...]]:
    """The selections that stand for the items of list `name` in `selection`, if any."""
    if selection.name == name:
        yield tuple(selection.selections)
    elif selection.name == name + _TWIN:
        for items in _PAGE_ITEMS:
            yield from _items(selection.selections, items)


def _items(
    selections: Iterable[Selection], path: tuple[str, ...]
) -> Iterable[tuple[Selection, ...]]:
    for selection in selections:
        if not isinstance(selection, SelectedField):  # a fragment: the same level
            yield from _items(selection.selections, path)
        elif selection.name == path[0]:
            if len(path) == 1:
                yield tuple(selection.selections)
            else:
                yield from _items(selection.selections, path[1:])


def _reaches(selections: Iterable[Selection], path: tuple[str, ...]) -> bool:
    if not path:
        return True
    for selection in selections:
        if isinstance(selection, SelectedField):
            if len(path) == 1 and selection.name in (path[0], path[0] + _TWIN):
                return True  # the list itself, or its twin asking only for `totalCount`
            if any(_reaches(below, path[1:]) for below in _below(selection, path[0])):
                return True
        elif _reaches(selection.selections, path):  # a fragment: the same level
            return True
    return False


def selects(info: Info | Any, *path: str) -> bool:
    """Whether the current field's selection reaches `path` (GraphQL names of lists or of their
    connection twins, fragments included; @skip and @include are not evaluated, so the answer
    errs on the side of yes)."""
    return any(_reaches(field.selections, path) for field in info.selected_fields)


def _names(selections: Iterable[Selection], path: tuple[str, ...]) -> Iterable[str]:
    for selection in selections:
        if not isinstance(selection, SelectedField):  # a fragment: the same level
            yield from _names(selection.selections, path)
        elif not path:
            yield selection.name
        else:
            for below in _below(selection, path[0]):
                yield from _names(below, path[1:])


def selected_names(info: Info | Any, *path: str) -> frozenset[str]:
    """The names of the fields selected directly below the current one, or below `path` from
    it (fragments included; empty where the selection does not reach)."""
    return frozenset(
        name for field in info.selected_fields for name in _names(field.selections, path)
    )
