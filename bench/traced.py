"""Run a module under tracemalloc; each SIGUSR1 writes a snapshot of what it holds.

    python -m bench.traced DIR -m services.cli serve registry --port 8000

Snapshots go to DIR/0.snapshot, DIR/1.snapshot, ... (`tracemalloc.Snapshot.load`). For the
subscription benchmark's `--tracemalloc DIR`, which compares the registry's heap after the
first 10 changes with the heap after all of them, to find what grows per delivery. Tracing
slows the process several times over: its latencies mean nothing.
"""

from __future__ import annotations

import itertools
import runpy
import signal
import sys
import tracemalloc
from pathlib import Path
from types import FrameType

FRAMES = 1


def main() -> None:
    """Command line entry point."""
    if len(sys.argv) < 4 or sys.argv[2] != "-m":
        sys.exit("usage: python -m bench.traced DIR -m MODULE [ARGS...]")
    folder, module = Path(sys.argv[1]), sys.argv[3]
    folder.mkdir(parents=True, exist_ok=True)
    numbers = itertools.count()

    def snapshot(signum: int, frame: FrameType | None) -> None:
        path = folder / f"{next(numbers)}.snapshot"
        tracemalloc.take_snapshot().dump(str(path.with_suffix(".part")))
        path.with_suffix(".part").rename(path)  # whole, or not there

    tracemalloc.start(FRAMES)
    signal.signal(signal.SIGUSR1, snapshot)
    sys.argv = [module, *sys.argv[4:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
