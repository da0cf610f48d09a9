"""Hostile inputs shared by the security tests."""

from __future__ import annotations

import hashlib
import json
import statistics
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from graph.database import Database
from graph.settings import Neo4jSettings
from tests.support.examples import apply_school_record
from tests.support.registry_server import serve_registry

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests" / "fixtures" / "small-register.yaml"


def billion_laughs() -> bytes:
    """The issue's 414-byte shape: nine levels of nine aliases each (9^9 strings)."""
    text = 'version: ropa/v1\na: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    previous = "a"
    for name in "bcdefghi":
        text += f"{name}: &{name} [" + ",".join(["*" + previous] * 9) + "]\n"
        previous = name
    return text.encode()


def _small_with(old: str, new: str) -> bytes:
    text = SMALL.read_text()
    assert old in text
    return text.replace(old, new, 1).encode()


# name -> (bytes, a regex the rendered problem line must match after `FILE:`)
HOSTILE_DOCUMENTS: dict[str, tuple[bytes, str]] = {
    "billion-laughs": (billion_laughs(), r"\d+: \(document\): would expand through its aliases"),
    "deep-flow-nesting": (
        b"version: ropa/v1\nx: " + b"[" * 100_000 + b"]" * 100_000 + b"\n",
        r"2: \(document\): nested deeper than 64 levels",
    ),
    "deep-block-nesting": (
        b"version: ropa/v1\nx:\n" + b"".join(b" " * i + b"- \n" for i in range(1, 2000)),
        r"\d+: \(document\): nested deeper than 64 levels",
    ),
    "recursive-alias": (
        b"version: ropa/v1\nx: &a [*a]\n",
        r"2: \(document\): not valid YAML: alias \*a refers to a node that contains it",
    ),
    "invalid-utf8": (
        b"version: ropa/v1\nregister: {id: a, name: \xff\xfe, owner: a}\n",
        r"2: \(document\): not valid UTF-8: byte 0xff",
    ),
    "impossible-date": (
        _small_with("valid_from: 2022-02-14", "valid_from: 2022-02-30"),
        r"\d+: activities\[\d+\]\.valid_from: .*day value is outside expected range",
    ),
    "wrong-type": (
        _small_with("special: true", "special: [1, 2]"),
        r"\d+: data_categories\[\d+\]\.special: Input should be a valid boolean",
    ),
    "huge-integer": (
        _small_with("special: true", "special: " + "9" * 5000),
        r"\d+: data_categories\[\d+\]\.special: Input should be a valid boolean",
    ),
    "control-character": (
        b"version: ropa/v1\nx: \x01\n",
        r"2: \(document\): not valid YAML: character #x0001 is not allowed",
    ),
    "too-large": (
        b"version: ropa/v1\n" + b"# padding\n" * 900_000,
        r" \(document\): larger than the limit of 8388608 bytes",
    ),
}


@pytest.fixture(params=sorted(HOSTILE_DOCUMENTS))
def hostile_document(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, str]:
    """A hostile document written to a file, and the problem line it must be refused with."""
    data, pattern = HOSTILE_DOCUMENTS[request.param]
    path = tmp_path / f"{request.param}.yaml"
    path.write_bytes(data)
    return path, pattern


@pytest.fixture
def billion_laughs_file(tmp_path: Path) -> tuple[Path, str]:
    """The billion laughs document in a file, and the problem line it must be refused with."""
    data, pattern = HOSTILE_DOCUMENTS["billion-laughs"]
    path = tmp_path / "laughs.yaml"
    path.write_bytes(data)
    return path, pattern


EXAMPLE = ROOT / "examples" / "allestree-woodlands.yaml"
DPO_TOKEN = "security-tests-dpo-token"
SMALL_QUERY = (
    '{ subProcessors(processor: "School Transition Limited", asOf: "2022-06-01") '
    "{ subProcessor { name } } }"
)


@pytest.fixture(scope="module")
async def example(session_db: Database) -> Database:
    """The session database holding the shipped example (the school's and STL's registers)."""
    await apply_school_record(session_db)
    return session_db


@dataclass
class Server:
    """A registry served by uvicorn in its own process."""

    url: str
    env: dict[str, str] = field(default_factory=dict)


@contextmanager
def serve(neo4j: Neo4jSettings, extra_env: dict[str, str]) -> Iterator[Server]:
    """`ropa serve registry` in a child process, as deployed (production unless told)."""
    tokens = [
        {
            "name": "security-dpo",
            "role": "dpo",
            "sha256": hashlib.sha256(DPO_TOKEN.encode()).hexdigest(),
            "registers": ["allestree-woodlands"],
        }
    ]
    # The production defaults: none of the test servers' relaxations unless asked for.
    deployed: dict[str, str | None] = {
        "ROPA_ENV": "production",
        "ROPA_TOKENS": json.dumps(tokens),
        "ROPA_RATE_LIMIT": None,
        "ROPA_INTROSPECTION": None,
        "ROPA_EXPLORER": None,
        "ROPA_TOKENS_FILE": None,
    }
    with serve_registry(neo4j, {**deployed, **extra_env}) as url:
        yield Server(url, extra_env)


@pytest.fixture(scope="module")
def production(example: Database, neo4j_settings: Neo4jSettings) -> Iterator[Server]:
    """A production-mode registry on the example. Its rate limit is raised (the attacks all
    come from this one address; tests/security/test_rate_limit.py tests the limit itself)."""
    with serve(
        neo4j_settings, {"ROPA_RATE_LIMIT": "100000/minute", "ROPA_WEBSOCKETS_PER_ADDRESS": "3"}
    ) as server:
        yield server


@dataclass
class Latencies:
    """Seconds each probe took, before and during an attack."""

    baseline: list[float]
    during: list[float] = field(default_factory=list)

    def budget(self) -> float:
        """200 ms, or more on a machine slower than that even when nobody attacks: ten times
        its usual latency (a probe may wait behind one attack request on a loaded machine). A
        registry whose loop an attack blocks misses it by seconds."""
        return max(0.2, 10 * statistics.median(self.baseline))

    def check(self) -> None:
        """Probes ran throughout the attack, and (nine in ten) answered within the budget."""
        assert len(self.during) >= 3, f"only {len(self.during)} probes ran during the attack"
        ordered = sorted(self.during)
        p90 = ordered[int(0.9 * (len(ordered) - 1))]
        assert p90 <= self.budget(), (
            f"p90 {p90 * 1000:.0f} ms > {self.budget() * 1000:.0f} ms under attack; "
            f"max {ordered[-1] * 1000:.0f} ms; baseline median "
            f"{statistics.median(self.baseline) * 1000:.0f} ms"
        )


def _probe(client: httpx.Client) -> float:
    start = time.perf_counter()
    health = client.get("/healthz")
    small = client.post("/graphql", json={"query": SMALL_QUERY})
    took = (time.perf_counter() - start) / 2
    assert health.status_code == 200
    assert small.status_code == 200
    assert "errors" not in small.json(), small.json()
    return took


@contextmanager
def probing(server: Server) -> Iterator[Latencies]:
    """While the block runs, a thread keeps asking for /healthz and a small query (on its own
    connections, outside the test's event loop) and times each answer."""
    stop = threading.Event()
    failures: list[BaseException] = []
    with httpx.Client(base_url=server.url, timeout=30) as client:
        latencies = Latencies([_probe(client) for _ in range(5)])

        def run() -> None:
            try:
                while not stop.is_set():
                    latencies.during.append(_probe(client))
            except BaseException as exc:  # reported in the test's thread
                failures.append(exc)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        try:
            yield latencies
        finally:
            stop.set()
            thread.join(timeout=60)
    if failures:
        raise failures[0]


@pytest.fixture
async def attacker(production: Server) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the production registry."""
    async with httpx.AsyncClient(base_url=production.url, timeout=60) as client:
        yield client


@pytest.fixture
def probe(production: Server) -> Callable[[], AbstractContextManager[Latencies]]:
    """`with probe() as latencies:` times /healthz and a small query during the block."""
    return lambda: probing(production)
