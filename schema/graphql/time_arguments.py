"""The arguments that say which day and which record: `asOf` and `recordedAt`.

`asOf` is the day the processing is valid; `recordedAt` the moment whose record to read
(schema.recorded_at). Every root field that takes `asOf` takes `recordedAt` too
(tests/services/test_recorded_at_surfaces.py), declares the record it reads with `recorded`,
and resolves the names it is given in that record with `resolve`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry

from schema.graphql.access import Info, reads_record
from schema.graphql.arguments import given as _given
from schema.graphql.records import RefKind
from schema.recorded_at import checked

AsOf = Annotated[
    dt.date | None,
    strawberry.argument(
        description="The day the processing is valid (in the record read); default today"
    ),
]
RecordedAt = Annotated[
    dt.datetime | None,
    strawberry.argument(
        description="The moment whose record to read, rebuilt from the change log; default "
        "now (the current record); a moment in the future is BAD_USER_INPUT"
    ),
]


def recorded(info: Info, recorded_at: dt.datetime | None) -> dt.datetime | None:
    """The root field's recordedAt, checked against the clock (the record of a moment after
    now does not exist yet); the fields below the root field read that record."""
    return reads_record(info, checked(_given(recorded_at), dt.datetime.now(dt.UTC)))


async def resolve(
    info: Info, kind: RefKind, ref: str | None, recorded_at: dt.datetime | None = None
) -> str | None:
    """The id `ref` names (None if not given), in the record the root field reads."""
    given = _given(ref)
    if given is None:
        return None
    return await info.context.reader.resolve(kind, given, recorded_at)
