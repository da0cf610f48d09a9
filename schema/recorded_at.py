"""`recordedAt`: the moment whose record to read, beside `asOf`, the day the processing is valid.

`asOf` asks "what applied on day D?" of a record; `recordedAt` picks which record: the register
as it was recorded at that moment, rebuilt from the change log (graph.read.snapshots). Both
default to now. A day given as `recordedAt` means the end of that day (UTC). A moment after now
has no record yet, and is refused.
"""

from __future__ import annotations

import datetime as dt

from schema.errors import ErrorCode, RopaError


class BadRecordedAt(RopaError):
    """A recordedAt that is not a moment, or is one in the future."""

    code = ErrorCode.BAD_USER_INPUT


def end_of_day(day: dt.date) -> dt.datetime:
    """The first instant after `day` (UTC): what was recorded by then is "as recorded that day"."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)


def checked(value: dt.datetime | dt.date | None, now: dt.datetime) -> dt.datetime | None:
    """`value` as an aware moment (UTC when it names no zone; a day: the end of that day, or now
    if that is later than now and the day is today); None stays None (the current record)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    else:
        moment = min(end_of_day(value), now) if value <= now.date() else end_of_day(value)
    if moment > now:
        raise BadRecordedAt(
            f"recordedAt: {value.isoformat()} is in the future; the record can be read as it "
            f"was recorded up to now ({now.isoformat(timespec='seconds')})"
        )
    return moment


def parse(text: str | None, now: dt.datetime) -> dt.datetime | None:
    """A recordedAt given as text (YYYY-MM-DD, or an ISO 8601 date and time); empty: None."""
    if text is None or text.strip() == "":
        return None
    raw = text.strip()
    try:
        value: dt.datetime | dt.date = (
            dt.date.fromisoformat(raw) if len(raw) == 10 else dt.datetime.fromisoformat(raw)
        )
    except ValueError:
        raise BadRecordedAt(
            f"recordedAt: {text!r} is not a moment; give YYYY-MM-DD or an ISO 8601 date and "
            "time such as 2022-06-01T12:00:00Z"
        ) from None
    return checked(value, now)
