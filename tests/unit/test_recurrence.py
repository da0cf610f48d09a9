"""Recurrence in the document: clear errors for a broken one, and its occurrences."""

from __future__ import annotations

import datetime as dt

import pytest

from schema.errors import DocumentInvalid
from schema.recurrence import describe, occurrence_on
from schema.validation import parse_document

_HEAD = """version: ropa/v1
register: {id: s, name: S, owner: s}
organisations:
  - {id: s, name: S}
activities:
  - id: a
    name: A
    controller: s
"""


def _problems(activity: str) -> list[str]:
    with pytest.raises(DocumentInvalid) as caught:
        parse_document(_HEAD + activity, "doc.yaml")
    return [f"{p.path}: {p.reason}" for p in caught.value.problems]


@pytest.mark.parametrize(
    ("activity", "expected"),
    [
        (
            "    recurs: {every: P1Y, lasts: P1Y}\n",
            "activities[0]: recurs needs valid_from: the first day of the first occurrence",
        ),
        (
            "    valid_from: 2022-01-01\n    recurs: {every: P1M, lasts: P2M}\n",
            "activities[0].recurs: lasts: 'P2M' is longer than every: 'P1M'",
        ),
        (
            "    valid_from: 2022-01-01\n    recurs: {every: yearly, lasts: P1Y}\n",
            "activities[0].recurs: every: 'yearly' is not a period",
        ),
        (
            "    valid_from: 2022-01-01\n    recurs: {every: P1M2D, lasts: P1D}\n",
            "activities[0].recurs: every: 'P1M2D' mixes months and days",
        ),
        (
            "    valid_from: 2022-01-01\n    recurs: {every: P1Y}\n",
            "activities[0].recurs.lasts: ",
        ),
    ],
    ids=["no-first-day", "overlapping", "not-a-period", "mixed", "no-lasts"],
)
def test_a_broken_recurrence_is_named_with_its_path_and_reason(
    activity: str, expected: str
) -> None:
    problems = _problems(activity)
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected), problems


def test_a_clean_recurrence_loads() -> None:
    doc = parse_document(
        _HEAD + "    valid_from: 2022-02-14\n    recurs: {every: P1Y, lasts: P1Y}\n", "doc.yaml"
    )
    recurs = doc.activities[0].recurs
    assert recurs is not None
    assert (recurs.every, recurs.lasts) == ("P1Y", "P1Y")


def test_occurrences_of_the_annual_transfer() -> None:
    first = dt.date(2022, 2, 14)
    assert occurrence_on(first, "P1Y", "P1Y", dt.date(2026, 12, 1)) == (
        dt.date(2026, 2, 14),
        dt.date(2027, 2, 13),
    )
    assert occurrence_on(first, "P1Y", "P6W", dt.date(2026, 12, 1)) is None
    assert occurrence_on(first, "P1Y", "P1Y", dt.date(2022, 2, 13)) is None
    assert describe("P1Y", "P1Y") == "every year, for 1 year each time"
    assert describe("P2W", "P3D") == "every 2 weeks, for 3 days each time"
