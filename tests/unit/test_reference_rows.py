"""The reference sets built from rows: built again only when the rows differ."""

from __future__ import annotations

import copy
from typing import Any

from graph.read.catalogue import reference_from_rows


def _rows(title: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    categories = [
        {"props": {"id": "pupil-data", "name": "Pupil data"}, "parent": []},
        {"props": {"id": "safeguarding", "name": "Safeguarding"}, "parent": ["pupil-data"]},
    ]
    subjects = [{"props": {"id": "pupils", "name": "Pupils"}, "parent": []}]
    bases = [
        {"props": {"id": "reg5", "kind": "statute", "title": title}, "restsOn": []},
        {
            "props": {"id": "art6-1-c", "kind": "article-6", "title": "Legal obligation"},
            "restsOn": ["reg5"],
        },
    ]
    return categories, subjects, bases


def test_equal_rows_give_the_sets_already_built() -> None:
    first = reference_from_rows(*_rows("Regulation 5"))
    # Rows equal to the last ones, as the next request's read gives them (new objects).
    again = reference_from_rows(*copy.deepcopy(_rows("Regulation 5")))
    assert again is first
    assert first.categories["pupil-data"].children_ids == ("safeguarding",)
    assert first.legal_bases["art6-1-c"].legislation == ("Regulation 5",)


def test_changed_rows_are_built_again() -> None:
    first = reference_from_rows(*_rows("Regulation 5"))
    changed = reference_from_rows(*_rows("The Education Regulations, regulation 5"))
    assert changed is not first
    assert changed.legal_bases["art6-1-c"].legislation == (
        "The Education Regulations, regulation 5",
    )
    assert first.legal_bases["art6-1-c"].legislation == ("Regulation 5",)
