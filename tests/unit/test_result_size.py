"""The result size the limit holds an answer to: each field's value and each list item's."""

from __future__ import annotations

from collections import OrderedDict

import pytest

from schema.graphql.limits.extension import count_values


@pytest.mark.parametrize(
    ("data", "values"),
    [
        (None, 1),
        ("x", 1),
        ({}, 1),
        ([], 1),
        ({"a": 1, "b": None}, 3),
        ({"a": [1, {"b": None, "c": [[], {}]}]}, 8),
        ([[[]]], 3),
        ({"x": (1, 2)}, 2),  # a scalar's tuple is one value, as before
        ([OrderedDict(e=[1, 2]), 1.5, True], 7),  # a map's subclass is walked into
    ],
)
def test_every_field_and_item_is_a_value(data: object, values: int) -> None:
    assert count_values(data) == values
