"""A small in-memory limiter for subscription requests: per address and per client.

Each key may make `limit` requests in any `window` seconds (a sliding log of timestamps). It
is per process: replicas each allow the limit, which bounds abuse well enough for a form whose
every success sends one confirmation mail to the address given.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class SlidingWindow:
    """`limit` events per `window` seconds for each key; the oldest keys are forgotten first."""

    def __init__(
        self,
        limit: int,
        window: float,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self._max_keys = max_keys
        self._clock = clock
        self._events: dict[str, deque[float]] = {}

    def retry_after(self, key: str) -> float:
        """Seconds until `key` may act again; 0 when it may now (and the act is counted)."""
        now = self._clock()
        events = self._events.pop(key, None) or deque()
        while events and events[0] <= now - self.window:
            events.popleft()
        wait = 0.0
        if len(events) >= self.limit:
            wait = events[0] + self.window - now
        else:
            events.append(now)
        self._events[key] = events  # re-inserted: most recently used last
        while len(self._events) > self._max_keys:
            del self._events[next(iter(self._events))]
        return wait
