"""Where the workers of `ropa serve --workers N` share their metrics.

prometheus-client decides at import where a process keeps its values: in memory, or, with
PROMETHEUS_MULTIPROC_DIR set, in files there that /metrics of any worker reads together. This
module does not import it: the `ropa serve` process sets the directory up before its workers
(spawned, so they inherit the environment) import anything that counts.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def shared_dir() -> str | None:
    """The directory the workers share their metrics in, if they do."""
    return os.environ.get(VARIABLE) or None


@contextlib.contextmanager
def shared_by_workers(workers: int) -> Iterator[str | None]:
    """The shared directory for the block (set as PROMETHEUS_MULTIPROC_DIR), emptied of an
    earlier run's files; None for one worker. An operator's own directory is used, else a
    temporary one, removed afterwards."""
    given = shared_dir()
    if given is None and workers <= 1:
        yield None
        return
    with contextlib.ExitStack() as stack:
        folder = Path(given or stack.enter_context(tempfile.TemporaryDirectory(prefix="ropa-")))
        folder.mkdir(parents=True, exist_ok=True)
        # Values left by the workers of an earlier run would be counted again.
        for stale in folder.glob("*.db"):
            stale.unlink()
        os.environ[VARIABLE] = str(folder)
        try:
            yield str(folder)
        finally:
            if given is None:
                del os.environ[VARIABLE]
