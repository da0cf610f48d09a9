"""Waiting for a condition, with a deadline: what tests do instead of sleeping."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


async def eventually(
    check: Callable[[], bool] | Callable[[], Awaitable[bool]],
    within: float = 15.0,
    message: str = "condition",
    every: float = 0.05,
) -> None:
    """Wait until `check()` holds, or fail after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} still false after {within} s")
        await asyncio.sleep(every)
