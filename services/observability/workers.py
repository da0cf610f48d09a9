"""Where the workers of `ropa serve --workers N` share their metrics.

prometheus-client decides at import where a process keeps its values: in memory, or, with
PROMETHEUS_MULTIPROC_DIR set, in files there that /metrics of any worker reads together. The
`ropa serve` process sets the directory up before its workers (spawned, so they inherit the
environment) import anything that counts, and imports from prometheus-client only its
bookkeeping (`mark_process_dead`), never a metric.

A worker that stops cleanly removes its live gauges itself (services.observability.metrics).
One killed (SIGKILL, the OOM killer) cannot: uvicorn's supervisor replaces it but has no hook
for its exit (gunicorn's `child_exit` is where prometheus-client's docs call
`mark_process_dead`), so the `ropa serve` process looks every second for live gauge files
whose process is gone and removes them with `mark_process_dead`; otherwise /metrics would go
on counting, say, the dead worker's subscribers.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
# How often the `ropa serve` process looks for the live gauges of workers that are gone.
REAP_INTERVAL = 1.0
# prometheus-client's file of one process's gauges in a live mode (livesum, livemax, ...).
_LIVE_GAUGES = re.compile(r"^gauge_live[a-z]+_(?P<pid>\d+)\.db$")


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
        stack.enter_context(_reaping(folder))
        try:
            yield str(folder)
        finally:
            if given is None:
                del os.environ[VARIABLE]


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # the number is another user's process now: not one of our workers
    # A worker that died but is not yet reaped by uvicorn still answers: caught next round.
    return True


def forget_dead_workers(folder: Path) -> list[int]:
    """Remove the live gauges of every process that wrote some and is gone; their pids."""
    from prometheus_client import multiprocess

    pids = {int(m["pid"]) for path in folder.iterdir() if (m := _LIVE_GAUGES.match(path.name))}
    dead = sorted(pid for pid in pids if not _running(pid))
    for pid in dead:
        log.warning("worker %d stopped without removing its live gauges; removed them", pid)
        multiprocess.mark_process_dead(pid, str(folder))  # type: ignore[no-untyped-call]
    return dead


@contextlib.contextmanager
def _reaping(folder: Path) -> Iterator[None]:
    stop = threading.Event()

    def reap() -> None:
        while not stop.wait(REAP_INTERVAL):
            try:
                forget_dead_workers(folder)
            except OSError as exc:  # the folder went, or a file was removed meanwhile
                log.warning("could not look for dead workers' gauges in %s: %s", folder, exc)

    thread = threading.Thread(target=reap, name="metrics-reaper", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        # The last round, for a worker killed in the last second before the stop.
        with contextlib.suppress(OSError):
            forget_dead_workers(folder)
