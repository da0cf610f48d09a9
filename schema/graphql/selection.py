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


def _names(selections: Iterable[Selection]) -> Iterable[str]:
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection.name
        else:
            yield from _names(selection.selections)


def selected_names(info: Info | Any) -> frozenset[str]:
    """The names of the fields selected directly below the current one (fragments included)."""
    return frozenset(name for field in info.selected_fields for name in _names(field.selections))
