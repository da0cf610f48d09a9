"""Processing that recurs: an occurrence starts every `every` from a first day, each for `lasts`.

This is the Python half of "valid on day D" for recurring entities; its Cypher twin is
`graph.read.validity`, and tests/graph/test_validity_twins.py checks that both agree on the
same fixtures. Both compute, for a day D on or after the first day F:

    n = whole periods of `every` from F to D (months when `every` is in years/months, days
        when it is in weeks/days; the same count as Cypher's duration.inMonths/inDays)
    D is covered when, for some j in n-1, n, n+1 (j >= 0),
        start_j = F + j * every  <=  D  <  start_j + lasts

`F + months` keeps the day of the month, or the month's last day when it has no such day (as
Cypher's date + duration does). Periods are ISO 8601 durations of years, months, weeks and days
only (P1Y, P6M, P2W, P10D); `every` uses months or days, not both, and `lasts` never exceeds
`every`, so that at most one occurrence covers a day.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

_PERIOD = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")


@dataclass(frozen=True)
class Period:
    """A calendar period: whole months, then whole days."""

    months: int
    days: int

    @classmethod
    def parse(cls, text: str) -> Period:
        """The period an ISO 8601 duration of Y, M, W and D names; ValueError otherwise."""
        found = _PERIOD.match(text)
        if found is None or text == "P":
            raise ValueError(
                f"{text!r} is not a period: give an ISO 8601 duration of years, months, weeks "
                "or days, e.g. P1Y, P6M, P2W, P10D"
            )
        years, months, weeks, days = (int(g) if g else 0 for g in found.groups())
        period = cls(years * 12 + months, weeks * 7 + days)
        if period.months == 0 and period.days == 0:
            raise ValueError(f"{text!r} is an empty period")
        return period

    def times(self, k: int) -> Period:
        """This period k times over."""
        return Period(self.months * k, self.days * k)

    def after(self, day: dt.date) -> dt.date:
        """`day` moved on by this period (months first, clamped to the month's last day)."""
        return add_months(day, self.months) + dt.timedelta(days=self.days)

    @property
    def longest_days(self) -> int:
        """An upper bound on its length in days (31 a month)."""
        return self.months * 31 + self.days

    @property
    def shortest_days(self) -> int:
        """A lower bound on its length in days (28 a month)."""
        return self.months * 28 + self.days


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` moved on by whole months, clamped to the last day of the month it lands in."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def whole_months(start: dt.date, end: dt.date) -> int:
    """Whole months from `start` to `end` (end >= start), as Cypher's duration.inMonths."""
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - 1 if end.day < start.day else months


def check_recurrence(every: str, lasts: str) -> tuple[Period, Period]:
    """Both periods, checked together; ValueError saying what is wrong."""
    each, length = _named("every", every), _named("lasts", lasts)
    if each.months and each.days:
        raise ValueError(
            f"every: {every!r} mixes months and days; give it in years/months or in weeks/days"
        )
    if length.longest_days > each.shortest_days and not (
        length.days == 0 and each.days == 0 and length.months <= each.months
    ):
        raise ValueError(
            f"lasts: {lasts!r} is longer than every: {every!r}; an occurrence must end before "
            "the next one starts"
        )
    return each, length


def _named(name: str, text: str) -> Period:
    try:
        return Period.parse(text)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def occurrence_on(
    first: dt.date, every: str, lasts: str, day: dt.date
) -> tuple[dt.date, dt.date] | None:
    """(first day, last day) of the occurrence covering `day`, or None if none does."""
    if day < first:
        return None
    each, length = Period.parse(every), Period.parse(lasts)
    elapsed = whole_months(first, day) if each.months else (day - first).days
    n = elapsed // (each.months or each.days)
    for j in (n - 1, n, n + 1):
        if j < 0:
            continue
        start = each.times(j).after(first)
        end = length.after(start)
        if start <= day < end:
            return start, end - dt.timedelta(days=1)
    return None


def describe(every: str, lasts: str, span: str = "") -> str:
    """The recurrence in words: 'every year, for 1 year each time', with `span` (such as
    ' from 14 February 2022') after the period."""
    each, length = _words(Period.parse(every), single=True), _words(Period.parse(lasts))
    return f"every {each}{span}, for {length} each time"


def _words(period: Period, single: bool = False) -> str:
    years, months = divmod(period.months, 12)
    weeks, days = divmod(period.days, 7)
    parts = [
        (years, "year"),
        (months, "month"),
        (weeks, "week"),
        (days, "day"),
    ]
    named = [(n, unit) for n, unit in parts if n]
    if single and len(named) == 1 and named[0][0] == 1:
        return named[0][1]
    return " and ".join(f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in named)
