"""The memory allocator `ropa serve` runs a service on: jemalloc when it is installed.

CPython's own small-object allocator gives a 1 MiB arena back to the system only once every
object in it is freed. A large answer (every controller's recipients over 1,000 schools makes
about 35 MiB of short-lived objects) leaves a few long-lived ones scattered over its arenas,
and the process keeps 15 to 20 MiB it no longer uses, after every such answer. On jemalloc
(PYTHONMALLOC=malloc with the library preloaded), freed pages go back within a second at the
same speed per request; glibc's malloc gives them back too but answers 7% slower (measured in
docs/performance.md). The allocator is chosen before the interpreter starts, so `ropa serve`
starts itself again, in the same process, with it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from schema.errors import RopaError

Allocator = Literal["auto", "jemalloc", "python"]

LIBRARY = "libjemalloc.so.2"
# Freed pages go back after a second, from jemalloc's own thread, so an idle registry shrinks
# too; no "muzzy" stage, whose pages would still count in the RSS an operator watches.
MALLOC_CONF = "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0"
INSTALL_HINT = "install it (Debian: apt-get install libjemalloc2) or set ROPA_ALLOCATOR=python"


class AllocatorUnavailable(RopaError):
    """ROPA_ALLOCATOR=jemalloc, and jemalloc is not installed or could not be loaded."""


def find_jemalloc() -> str | None:
    """The jemalloc library to preload: the image's copy in the virtualenv, else the system's."""
    bundled = Path(sys.prefix) / "lib" / LIBRARY
    if bundled.is_file():
        return str(bundled)
    return ctypes.util.find_library("jemalloc")


def jemalloc_loaded() -> bool:
    """Whether this process allocates with jemalloc (its `mallctl` is among the symbols)."""
    return hasattr(ctypes.CDLL(None), "mallctl")


def _preloads(environ: Mapping[str, str]) -> list[str]:
    # ld.so separates LD_PRELOAD's entries by spaces or colons.
    return [p for p in re.split(r"[ :]+", environ.get("LD_PRELOAD", "")) if p]


def restart_environment(
    choice: Allocator, environ: Mapping[str, str], library: str | None
) -> dict[str, str] | None:
    """The environment to start `ropa serve` again in so that it runs on jemalloc; None when
    it already does, or should not (ROPA_ALLOCATOR=python, or auto without the library)."""
    if choice == "python":
        return None
    if library is None:
        if choice == "jemalloc":
            raise AllocatorUnavailable(
                f"ROPA_ALLOCATOR=jemalloc: jemalloc is not installed; {INSTALL_HINT}"
            )
        return None
    preloads = _preloads(environ)
    python_malloc = environ.get("PYTHONMALLOC", "")
    if python_malloc == "malloc" and library in preloads:
        return None
    if choice == "auto" and python_malloc not in ("", "malloc"):
        # Someone chose CPython's allocator explicitly (pymalloc_debug, say): theirs stands.
        return None
    restarted = dict(environ)
    restarted["PYTHONMALLOC"] = "malloc"
    restarted["LD_PRELOAD"] = " ".join([library, *(p for p in preloads if p != library)])
    restarted.setdefault("MALLOC_CONF", MALLOC_CONF)
    return restarted


def run_on_chosen_allocator(choice: Allocator) -> None:
    """Start this command again on jemalloc if it should run on it and does not yet (the
    process is replaced: same PID, same arguments); return once it runs as chosen."""
    library = None if choice == "python" else find_jemalloc()
    restarted = restart_environment(choice, os.environ, library)
    if restarted is not None:
        os.execve(sys.executable, sys.orig_argv, restarted)
    if choice == "jemalloc" and not jemalloc_loaded():
        # LD_PRELOAD was set but ld.so could not load it (it printed why just before).
        raise AllocatorUnavailable(
            f"ROPA_ALLOCATOR=jemalloc: {library} did not load; {INSTALL_HINT}"
        )
