"""What an operation selects below a field, to fetch with a root answer only what it needs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from strawberry.types.nodes import SelectedField, Selection

from schema.graphql.access import Info


def _reaches(selections: Iterable[Selection], path: tuple[str, ...]) -> bool:
    if not path:
        return True
    for selection in selections:
        if isinstance(selection, SelectedField):
            if selection.name == path[0] and _reaches(selection.selections, path[1:]):
                return True
        elif _reaches(selection.selections, path):  # a fragment: the same level
            return True
    return False


def selects(info: Info | Any, *path: str) -> bool:
    """Whether the current field's selection reaches `path` (GraphQL names, fragments
    included; @skip and @include are not evaluated, so the answer errs on the side of yes)."""
    return any(_reaches(field.selections, path) for field in info.selected_fields)


def _names(selections: Iterable[Selection], path: tuple[str, ...]) -> Iterable[str]:
    for selection in selections:
        if not isinstance(selection, SelectedField):  # a fragment: the same level
            yield from _names(selection.selections, path)
        elif not path:
            yield selection.name
        elif selection.name == path[0]:
            yield from _names(selection.selections, path[1:])


def selected_names(info: Info | Any, *path: str) -> frozenset[str]:
    """The names of the fields selected directly below the current one, or below `path` from
    it (fragments included; empty where the selection does not reach)."""
    return frozenset(
        name for field in info.selected_fields for name in _names(field.selections, path)
    )
