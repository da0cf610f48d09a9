"""Registries served by uvicorn in their own processes, a register whose engagements change
through the real write path, and real graphql-transport-ws clients (gql) that follow them.

Each test module starts from a clean graph (`register`) and its own registry processes: the
change log starts again at 1 when the graph is wiped, so a registry must not outlive one.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import operator
import os
import secrets
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Hashable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from graph import from_document, maintenance, register
from graph import subprocessor_changes as spc
from graph.database import Database
from graph.neo4j_server import free_port
from schema.validation import parse_document
from services.registry.settings import RegistrySettings
from tests.waiting import eventually

SUBSCRIPTION = """
subscription Changes($processor: String, $after: ID) {
  subProcessorChanges(processor: $processor, after: $after) {
    id sequence type occurredAt effectiveFrom actor
    processor { id }
    subProcessor { id }
    before { purpose status }
    after { purpose status }
  }
}
"""

PROCESSORS = ("portal-co", "other-co")
SUB_PROCESSORS = {"portal-co": "hosting-co", "other-co": "mail-co"}


STARTUP = 120


@dataclass
class Registry:
    """`ropa serve registry` in a child process; stop and start it again on the same port."""

    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The HTTP base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        """The WebSocket URL of the GraphQL endpoint."""
        return f"ws://127.0.0.1:{self.port}/graphql"

    def start(self) -> Registry:
        """Start and wait until it serves (its follower has read the log by then)."""
        with self.log.open("ab") as log:
            command = ["-m", "services.cli", "serve", "registry", "--port", str(self.port)]
            self.process = subprocess.Popen(
                [sys.executable, *command],
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        # Generous: on a loaded machine the imports alone have taken 40 s.
        deadline = time.monotonic() + STARTUP
        while True:
            if self.process.poll() is not None:
                raise AssertionError(f"the registry exited:\n{self.tail()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"not ready within {STARTUP} s:\n{self.tail()}")
            time.sleep(0.2)

    def stop(self) -> None:
        """SIGTERM, as an orchestrator stops it; killed if it lingers."""
        process, self.process = self.process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def tail(self, lines: int = 60) -> str:
        """The end of its log."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


MakeRegistry = Callable[..., Registry]


@pytest.fixture(scope="module")
def registries(
    registry_settings: RegistrySettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MakeRegistry]:
    """Make registry processes (`ROPA_*` overrides as keyword arguments); all stopped after
    the module."""
    made: list[Registry] = []
    neo4j = registry_settings.neo4j
    base = {
        **os.environ,
        **neo4j.environment(),
        "ROPA_ENV": "test",
        "ROPA_FOLLOWER_POLL_INTERVAL": "0.05",
        # The explorer's page is tested here; the limits on hostile input in tests/security.
        "ROPA_EXPLORER": "true",
        "ROPA_RATE_LIMIT": "",
        "ROPA_WEBSOCKETS_PER_ADDRESS": "1000",
    }
    logs = tmp_path_factory.mktemp("registry-logs")

    def make(start: bool = True, **overrides: Any) -> Registry:
        env = {**base, **{f"ROPA_{k.upper()}": str(v) for k, v in overrides.items()}}
        registry = Registry(env=env, log=logs / f"registry-{len(made)}.log")
        made.append(registry)
        return registry.start() if start else registry

    yield make
    for registry in made:
        registry.stop()


class Register:
    """A school whose two processors each engage one sub-processor; `change` edits one
    engagement's purpose through `register.apply`, recording one sub-processor change."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.revision = 0
        self.purposes = {p: "Hosting" for p in PROCESSORS}

    def document(self) -> str:
        """The register as a ROPA document (JSON is YAML)."""
        orgs = ["school", *PROCESSORS, *SUB_PROCESSORS.values()]
        return json.dumps(
            {
                "version": "ropa/v1",
                "register": {"id": "school", "name": "School", "owner": "school"},
                "organisations": [
                    {"id": o, "name": o.replace("-", " ").title(), "kind": "company"} for o in orgs
                ],
                "data_categories": [{"id": "pupil-data", "name": "Pupil data"}],
                "engagements": [
                    {
                        "id": f"{p}-engagement",
                        "processor": p,
                        "sub_processor": SUB_PROCESSORS[p],
                        "purpose": self.purposes[p],
                        "data_categories": ["pupil-data"],
                        "since": "2022-02-14",
                    }
                    for p in PROCESSORS
                ],
            }
        )

    async def apply(self) -> None:
        """Make the graph hold the register as it stands."""
        doc = parse_document(self.document())
        await register.apply(self.db, "school", from_document.entities(doc), "tests")

    async def change(self, processor: str = "portal-co", padding: int = 0) -> None:
        """One CHANGED sub-processor change for `processor`; `padding` characters of random
        text make it larger (WebSocket compression cannot shrink them)."""
        self.revision += 1
        noise = secrets.token_urlsafe(padding)[:padding]
        self.purposes[processor] = f"Hosting, revision {self.revision} {noise}".strip()
        await self.apply()

    async def changes(
        self, after: int = 0, processor: str | None = None
    ) -> list[spc.SubProcessorChange]:
        """Every recorded change after `after` (of `processor`), oldest first."""
        found: list[spc.SubProcessorChange] = []
        while True:
            page = await self.db.read(spc.changes_after, after, processor, 500)
            found.extend(page)
            if len(page) < 500:
                return found
            after = page[-1].sequence


@pytest.fixture(scope="module")
async def school(session_db: Database) -> Register:
    """A clean graph holding the school's register (two ADDED changes), for one module."""
    await maintenance.wipe(session_db)
    school = Register(session_db)
    await school.apply()
    return school


# The listeners entered and not yet left, by URL.
_open: defaultdict[str, list[Listener]] = defaultdict(list)


class Listener:
    """A gql client following `subProcessorChanges`; on a lost connection it reconnects with
    the id of the last change it received, as a client should."""

    def __init__(
        self,
        url: str,
        processor: str | None = None,
        after: str | None = None,
        resume: bool = False,
    ) -> None:
        self.url = url
        self.processor = processor
        self.after = after
        self.resume = resume
        self.events: list[dict[str, Any]] = []
        self.errors: list[Any] = []
        self.connections = 0
        self._task: asyncio.Task[None] | None = None
        self._arrived = asyncio.Event()

    @property
    def sequences(self) -> list[int]:
        """The sequences received, in order."""
        return [int(e["sequence"]) for e in self.events]

    @property
    def ids(self) -> list[str]:
        """The ids received, in order."""
        return [str(e["id"]) for e in self.events]

    async def _follow_once(self) -> None:
        transport = WebsocketsTransport(
            url=self.url, subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL]
        )
        after = self.events[-1]["id"] if self.events else self.after
        request = GraphQLRequest(
            SUBSCRIPTION, variable_values={"processor": self.processor, "after": after}
        )
        async with Client(transport=transport) as session:
            self.connections += 1
            async for result in session.subscribe(request):
                self.events.append(result["subProcessorChanges"])
                self._arrived.set()

    async def _run(self) -> None:
        while True:
            try:
                await self._follow_once()
                return
            except TransportQueryError as error:
                self.errors.append(error.errors)
                self._arrived.set()
                return
            except Exception as error:
                if not self.resume:
                    self.errors.append(repr(error))
                    self._arrived.set()
                    return
                await asyncio.sleep(0.2)

    async def __aenter__(self) -> Listener:
        _open[self.url].append(self)
        self._task = asyncio.create_task(self._run())
        return self

    @property
    def group(self) -> Hashable:
        """What the registry serves it with: live subscriptions asking the same share one
        follower subscriber (services/registry/multiplex.py); one with `after` has its own."""
        return (self.processor,) if self.after is None else self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is None:
            return
        _open[self.url].remove(self)
        # The registry counts this listener's follower subscriber until it notices the socket
        # closed; the next `listening` counts from what is left, so wait for it to go. A
        # resuming listener may be between connections (not counted): nothing to wait for.
        alone = all(other.group != self.group for other in _open[self.url])
        counted = not self._task.done() and not self.errors and not self.resume and alone
        before = await live_subscribers(self.url) if counted else 0
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        if counted:
            await wait_subscribers(self.url, lambda n: n < before, "to drop a subscriber")

    async def wait_for(self, count: int, within: float = 30.0) -> list[dict[str, Any]]:
        """Wait until `count` changes (or an error) arrived; the changes."""
        deadline = time.monotonic() + within
        while len(self.events) < count and not self.errors:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"{len(self.events)} of {count} changes within {within} s: {self.sequences}"
                )
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(left, 1.0)):
                    await self._arrived.wait()
        return self.events

    async def wait_error(self, within: float = 30.0) -> Any:
        """Wait for the subscription to end with an error; the error."""
        deadline = time.monotonic() + within
        while not self.errors:
            if time.monotonic() > deadline:
                raise AssertionError(f"no error within {within} s")
            await asyncio.sleep(0.05)
        return self.errors[0]


def _metrics_url(ws_url: str) -> str:
    return ws_url.replace("ws://", "http://", 1).removesuffix("/graphql") + "/metrics"


async def metric_samples(ws_url: str, family: str) -> list[Sample]:
    """The samples of the metric `family` on the /metrics of the registry serving `ws_url`."""
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(_metrics_url(ws_url))
    response.raise_for_status()
    for found in text_string_to_metric_families(response.text):
        if found.name == family:
            return list(found.samples)
    raise AssertionError(f"the registry's /metrics has no {family}")


async def live_subscribers(ws_url: str) -> int:
    """How many live subscriptions the registry serving `ws_url` counts (its /metrics)."""
    return int((await metric_samples(ws_url, "ropa_subscribers"))[0].value)


async def wait_subscribers(
    ws_url: str, holds: Callable[[int], bool], what: str, within: float = 30.0
) -> None:
    """Wait until the registry's count of live subscriptions satisfies `holds`."""

    async def check() -> bool:
        return holds(await live_subscribers(ws_url))

    await eventually(check, within=within, message=f"the registry {what}")


@contextlib.asynccontextmanager
async def listening(*listeners: Listener) -> AsyncIterator[tuple[Listener, ...]]:
    """Run listeners for the block, entered once each registry has registered them.

    A subscription without `after` starts when the server registers it, which the protocol
    does not acknowledge: a change committed before then is not its to see. The registry's
    `ropa_subscribers` gauge (follower subscribers: one per group of live subscriptions that
    ask the same, one per replaying subscription) says when it has.
    """
    added: dict[str, set[Hashable]] = defaultdict(set)
    for listener in listeners:
        if all(other.group != listener.group for other in _open[listener.url]):
            added[listener.url].add(listener.group)
    before = {url: await live_subscribers(url) for url in added}
    async with contextlib.AsyncExitStack() as stack:
        for listener in listeners:
            await stack.enter_async_context(listener)
        for url, groups in added.items():
            want = before[url] + len(groups)
            await wait_subscribers(
                url, functools.partial(operator.le, want), f"to register {len(groups)} more"
            )
        yield listeners
