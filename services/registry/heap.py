"""The served process's heap: how often the collector walks it, and freed memory given back.

Both are measured on every controller's `recipients` over 1,000 schools (a 3.4 MB answer of
265,000 values; docs/performance.md, "Memory and the collector").
"""

from __future__ import annotations

import ctypes
import gc
import platform
from collections.abc import Callable

# Python 3.11's defaults are (700, 10, 10): building a large answer (a million objects that
# live until it is sent) set off 4 or 5 full collections, each walking the whole heap again,
# 40% of the answer's CPU. With 100 a full collection comes ten times less often (still only
# once the heap has grown by a quarter since the last); the young generations keep their
# pace, and the cyclic garbage a request leaves (its context and loaders, a few hundred
# objects) is still collected within seconds.
COLLECTOR_THRESHOLDS = (700, 10, 100)

# A response at least this large is followed by a full collection and freed memory given
# back: the objects behind a large answer come from malloc (all of them on jemalloc, which
# `ropa serve` runs on when installed; lists and dict tables on CPython's own allocator), and
# malloc keeps freed pages unless asked to return them (about a millisecond).
LARGE_RESPONSE_BYTES = 1_000_000

# jemalloc's mallctl index for every arena at once (MALLCTL_ARENAS_ALL).
_ALL_ARENAS = 4096


def _jemalloc_purge() -> Callable[[int], int] | None:
    # Present only when jemalloc is the process's malloc (services/cli/allocator.py). Its
    # freed pages would go back within dirty_decay_ms anyway; a purge returns them now.
    mallctl = getattr(ctypes.CDLL(None), "mallctl", None)
    if mallctl is None:
        return None
    mallctl.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    mallctl.argtypes += [ctypes.c_size_t]
    mallctl.restype = ctypes.c_int
    name = f"arena.{_ALL_ARENAS}.purge".encode()

    def purge(_pad: int) -> int:
        # 0 when done; an errno otherwise.
        code: int = mallctl(name, None, None, None, 0)
        return code

    return purge


def _malloc_trim() -> Callable[[int], int] | None:
    # glibc's only: musl and other C libraries have no malloc_trim (nor the same caching).
    if platform.libc_ver()[0] != "glibc":
        return None
    trim = getattr(ctypes.CDLL(None), "malloc_trim", None)
    if trim is None:
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    found: Callable[[int], int] = trim
    return found


_RELEASE = _jemalloc_purge() or _malloc_trim()


def tune_collector() -> None:
    """Set the collector's thresholds for a serving process (once, at start)."""
    gc.set_threshold(*COLLECTOR_THRESHOLDS)


def sent(size: int) -> bool:
    """After a response of `size` bytes was sent: if it was large, collect and give freed
    memory back to the system (where the C library can); whether it was."""
    if size < LARGE_RESPONSE_BYTES:
        return False
    # A request's context and its loaders hold a cycle, so the records they read for a large
    # answer (thousands) are freed by a full collection only, which COLLECTOR_THRESHOLDS makes
    # rare; one here costs a few per cent of what the answer took.
    gc.collect()
    if _RELEASE is not None:
        _RELEASE(0)
    return True
