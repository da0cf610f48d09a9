"""What every benchmark shares: its header, the Neo4j it runs on, the registry it measures.

Benchmarks print numbers and assert nothing. Each prints its own command line and the
machine's load average first, since the machine is shared and the numbers mean little without
them; `Result` rows are what `python -m bench` gathers into one table against the targets.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from pydantic import SecretStr

from graph.neo4j_server import LocalNeo4j, free_port
from graph.secret_box import new_key
from graph.settings import Neo4jSettings

_FRESH = itertools.count()


def fresh(variables: dict[str, object]) -> dict[str, object]:
    """`variables` with one the document does not declare (GraphQL ignores it), new each call:
    the registry's response cache keys on every variable, so the request is executed."""
    return {**variables, "benchRequest": next(_FRESH)}


def say(message: str) -> None:
    """Progress, on stderr, so that stdout holds only the numbers."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as `uptime` shows them."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def header(module: str, argv: list[str]) -> None:
    """The command line that reproduces this run, and the load it ran under."""
    print(f"\n$ python -m {module} {shlex.join(argv)}")
    print(f"load average: {load_average()} ({os.cpu_count()} cores)")


@dataclass(frozen=True)
class Result:
    """One measured number and the issue's target for it (None: no target, shown for context).

    `higher` says whether the target is a floor (at least) rather than a ceiling (at most).
    """

    name: str
    value: float
    unit: str = ""
    target: float | None = None
    higher: bool = False

    @property
    def met(self) -> bool | None:
        """Whether the value meets its target; None without one."""
        if self.target is None:
            return None
        return self.value >= self.target if self.higher else self.value <= self.target


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50, p95 and p99 of `samples` (seconds), in milliseconds."""
    if len(samples) < 2:
        return {k: samples[0] * 1000 for k in ("p50", "p95", "p99")}
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {"p50": cuts[49] * 1000, "p95": cuts[94] * 1000, "p99": cuts[98] * 1000}


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in KiB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0])
    return found


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_split(pid: int) -> tuple[float, float]:
    """User and system CPU time a process has used, apart."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def open_sockets(pid: int) -> int:
    """How many sockets a process holds (a registry worker's WebSocket clients, roughly)."""
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            count += os.readlink(fd).startswith("socket:")
        except OSError:
            continue  # closed meanwhile
    return count


def children(pid: int) -> list[int]:
    """The child processes of `pid` (the workers of `ropa serve --workers N`)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    # Not multiprocessing's resource tracker, which spawned workers come with.
    return [c for c in found if b"resource_tracker" not in _cmdline(c)]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def machine_busy_seconds() -> float:
    """CPU time every process on the machine has used (all cores: /proc/stat less idle)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def listening_pid(port: int) -> int | None:
    """The process listening on a local TCP port (e.g. Neo4j's Bolt port), if it can be seen."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                # local address ends in :PORT (hex); state 0A is LISTEN
                if fields[3] == "0A" and int(fields[1].rpartition(":")[2], 16) == port:
                    inodes.add(f"socket:[{fields[9]}]")
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if any(os.readlink(fd) in inodes for fd in (proc / "fd").iterdir()):
                return int(proc.name)
    return None


@contextmanager
def neo4j(
    home: Path | None = None, heap: str = "2g", page_cache: str = "1g"
) -> Iterator[Neo4jSettings]:
    """The Neo4j that NEO4J_URI names (its graph is replaced), or a private one for the block."""
    if os.environ.get("NEO4J_URI"):
        say(f"using NEO4J_URI={os.environ['NEO4J_URI']}; its graph is replaced")
        yield Neo4jSettings()
        return
    with tempfile.TemporaryDirectory(prefix="ropa-bench-") as tmp:
        server = LocalNeo4j(
            home=home or Path(tmp), port=free_port(), heap=heap, page_cache=page_cache
        )
        password = server.start()
        try:
            yield Neo4jSettings(uri=server.uri, password=SecretStr(password))
        finally:
            server.stop()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


@dataclass(frozen=True)
class Registry:
    """A registry served by `ropa serve registry` for a benchmark."""

    url: str
    pid: int

    @property
    def ws_url(self) -> str:
        """Where its GraphQL WebSocket endpoint is."""
        return self.url.replace("http://", "ws://") + "/graphql"


@contextmanager
def registry(
    settings: Neo4jSettings,
    *,
    workers: int = 1,
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
    under: tuple[str, ...] = (),
) -> Iterator[Registry]:
    """`ropa serve registry --workers N` on a free port, ready, for the block (run by the
    module `under` names with its arguments, e.g. ("bench.traced", DIR), if given)."""
    port = free_port()
    environment = {
        **os.environ,
        **settings.environment(),
        "ROPA_ENV": "production",
        # Production wants the key webhook secrets are sealed with; a benchmark's own will do.
        "ROPA_SECRET_KEY": os.environ.get("ROPA_SECRET_KEY") or new_key(),
        # The benchmarks read without a token: every register's record, as a published one.
        "ROPA_PUBLIC_READS": "all",
        # One client address plays every user: the per-address limits would measure themselves.
        "ROPA_RATE_LIMIT": "",
        "ROPA_WEBSOCKETS_PER_ADDRESS": "100000",
        # Every controller's recipients over 1,000 schools holds ~265,000 values, past the
        # default result limit (100,000): a DPO service of that size raises it, as here.
        "ROPA_MAX_RESULT_VALUES": "10000000",
        **(env or {}),
    }
    wrapper = ["-m", *under] if under else []
    command = [sys.executable, *wrapper, "-m", "services.cli", "serve", "registry"]
    command += ["--port", str(port)]
    command += ["--workers", str(workers)]
    with log.open("wb") if log else open(os.devnull, "wb") as errors:
        process = subprocess.Popen(
            command, env=environment, stdout=subprocess.DEVNULL, stderr=errors
        )
    url = f"http://127.0.0.1:{port}"
    try:
        # A traced registry starts several times slower; workers each import everything, and
        # on a loaded machine (load 14 here) two took longer than 90 s.
        deadline = time.monotonic() + (600 if under else 180)
        while not _answers(f"{url}/readyz"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the registry did not become ready")
            time.sleep(0.3)
        yield Registry(url, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
