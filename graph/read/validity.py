""" "Valid on day `$asOf`" in Cypher: the twin of `schema.compliance.validity.valid_on`.

One predicate, written once here, for activities and disclosures (`validFrom`, `validUntil`)
and engagements (`since`, `until`), with the recurrence of `schema.recurrence` (`recurEvery`,
`recurLasts`, ISO 8601 periods). The statements that need it embed the constants below; the
arithmetic is the one `schema.recurrence` describes, and tests/graph/test_validity_twins.py
checks that both halves agree on the same fixtures.
"""

from __future__ import annotations

import re

# `v` is the entity, `start`/`end` its first and last day properties. Whole periods from the
# first day (n), then the occurrences n-1, n and n+1: start_j <= $asOf < start_j + lasts.
_TEMPLATE = """((v.START IS NULL OR v.START <= $asOf)
  AND (v.END IS NULL OR v.END >= $asOf)
  AND (v.recurEvery IS NULL OR v.START IS NULL OR ANY(n IN [
        CASE WHEN duration(v.recurEvery).months > 0
             THEN duration.inMonths(v.START, $asOf).months / duration(v.recurEvery).months
             ELSE duration.inDays(v.START, $asOf).days / duration(v.recurEvery).days END]
      WHERE ANY(j IN [n - 1, n, n + 1] WHERE j >= 0
        AND v.START + duration({months: j * duration(v.recurEvery).months,
                                days: j * duration(v.recurEvery).days}) <= $asOf
        AND v.START + duration({months: j * duration(v.recurEvery).months,
                                days: j * duration(v.recurEvery).days})
            + duration(v.recurLasts) > $asOf))))"""

_NAME = re.compile(r"^[a-z][a-zA-Z0-9]*$")


def _predicate(var: str, start: str = "validFrom", end: str = "validUntil") -> str:
    # Used only below, at import, with fixed names: never with input.
    if not all(_NAME.match(name) for name in (var, start, end)):
        raise ValueError(f"not a Cypher name: {var!r}, {start!r}, {end!r}")
    return (
        _TEMPLATE.replace("v.START", var + "." + start)
        .replace("v.END", var + "." + end)
        .replace("v.recur", var + ".recur")
    )


# An activity `a`, `act`, a disclosure `d`, `x` valid on $asOf.
VALID_A = _predicate("a")
VALID_ACT = _predicate("act")
VALID_D = _predicate("d")
VALID_X = _predicate("x")
# An engagement `e`, `x` within its dates (and occurrence) on $asOf; status is checked apart.
DATED_E = _predicate("e", "since", "until")
DATED_X = _predicate("x", "since", "until")
