"""When to try an endpoint again: the retry schedule and the receiver's Retry-After."""

from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import Sequence


def parse_retry_after(value: str | None, now: dt.datetime) -> float | None:
    """Seconds a `Retry-After` header asks for (delay-seconds or an HTTP date); None if unusable."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        # HTTP dates are GMT by definition.
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())


def next_delay(
    failures: int,
    schedule: Sequence[float],
    retry_after: float | None = None,
    max_retry_after: float = 86400.0,
) -> float | None:
    """Seconds until the next attempt after `failures` failed ones in a row; None: give up.

    Never sooner than the schedule, and never sooner than the receiver asked (capped at
    `max_retry_after`, so a receiver cannot park its endpoint forever).
    """
    if failures < 1:
        raise ValueError(f"failures must be at least 1, not {failures}")
    if failures > len(schedule):
        return None
    delay = schedule[failures - 1]
    if retry_after is not None:
        delay = max(delay, min(retry_after, max_retry_after))
    return delay
