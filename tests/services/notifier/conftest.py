"""Real webhook receivers on loopback, a register whose engagements change, a running notifier."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from graph import changes, from_document, register
from graph.database import Database
from graph.neo4j_server import free_port
from graph.settings import Neo4jSettings
from graph.webhook_targets import WebhookTargetSettings
from schema.validation import parse_document
from services.notifier.delivery import Notifier
from services.notifier.sender import Sender, client
from services.notifier.settings import NotifierSettings
from tests.waiting import eventually

__all__ = ["eventually"]

ROOT = Path(__file__).resolve().parents[3]

# A retry schedule fast enough for tests: a failing endpoint is tried again within 0.1 s.
FAST_SCHEDULE = (0.05, 0.05, 0.1, 0.1, 0.1, 0.1, 0.1)


@dataclass(frozen=True)
class Delivery:
    """One request a receiver got."""

    headers: dict[str, str]
    body: bytes
    at: float
    status: int

    @property
    def id(self) -> str:
        """The webhook-id header."""
        return self.headers["webhook-id"]

    @property
    def json(self) -> dict[str, Any]:
        """The parsed body."""
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


Reply = tuple[int, dict[str, str]]


@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1 that records every POST; `reply` decides the answer."""

    port: int = field(default_factory=free_port)
    reply: Callable[[Delivery, int], Reply] = lambda delivery, n: (204, {})
    delay: float = 0.0
    requests: list[Delivery] = field(default_factory=list)
    count: int = 0
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        """Where to register it."""
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> Receiver:
        """Listen (again, on the same port)."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                if len(body) < length:
                    # The sender went away mid-request (killed): nothing was delivered.
                    self.close_connection = True
                    return
                headers = {k.lower(): v for k, v in self.headers.items()}
                at = time.monotonic()
                if receiver.delay:
                    time.sleep(receiver.delay)
                with receiver._lock:
                    receiver.count += 1
                    status, reply_headers = receiver.reply(
                        Delivery(headers, body, at, 0), receiver.count
                    )
                    receiver.requests.append(Delivery(headers, body, at, status))
                self.send_response(status)
                for name, value in reply_headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop listening: connections are refused until `start`."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def snapshot(self) -> list[Delivery]:
        """The requests so far."""
        with self._lock:
            return list(self.requests)

    def accepted(self) -> list[Delivery]:
        """The requests answered 2xx, first copy of each webhook-id, in arrival order."""
        seen: set[str] = set()
        out = []
        for delivery in self.snapshot():
            if 200 <= delivery.status < 300 and delivery.id not in seen:
                seen.add(delivery.id)
                out.append(delivery)
        return out

    def sequences(self) -> list[int]:
        """The sequences accepted, de-duplicated by webhook-id, in arrival order."""
        return [d.json["data"]["sequence"] for d in self.accepted()]


MakeReceiver = Callable[..., Receiver]


@pytest.fixture
def receivers() -> Iterator[MakeReceiver]:
    """Make receivers (`start=False` for one that is down); all stopped after the test."""
    made: list[Receiver] = []

    def make(start: bool = True, **kwargs: Any) -> Receiver:
        receiver = Receiver(**kwargs)
        made.append(receiver)
        return receiver.start() if start else receiver

    yield make
    for receiver in made:
        receiver.stop()


def spec_verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The Standard Webhooks signature check, written from the specification."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    candidates = (s.partition(",") for s in headers["webhook-signature"].split())
    return any(
        version == "v1" and hmac.compare_digest(signature, expected)
        for version, _, signature in candidates
    )


def verify_all(secret: str, deliveries: list[Delivery]) -> None:
    """Every delivery verifies with the reference library and with the spec's algorithm."""
    library = Webhook(secret)
    for delivery in deliveries:
        assert library.verify(delivery.body, delivery.headers) == delivery.json
        assert spec_verify(secret, delivery.headers, delivery.body)


class Register:
    """A register with `processors` x `per_processor` engagements, changed through `apply`."""

    def __init__(self, processors: int = 2, per_processor: int = 3) -> None:
        self.processors = [f"proc-{p}" for p in range(processors)]
        self.purposes = {
            f"eng-{p}-{i}": "Hosting" for p in range(processors) for i in range(per_processor)
        }

    def document(self) -> str:
        """The register as a ROPA document (JSON is YAML)."""
        orgs = ["school", "host-a", "host-b", *self.processors]
        return json.dumps(
            {
                "version": "ropa/v1",
                "register": {"id": "school", "name": "School", "owner": "school"},
                "organisations": [{"id": o, "name": o, "kind": "company"} for o in orgs],
                "engagements": [
                    {
                        "id": eng_id,
                        "processor": "proc-" + eng_id.split("-")[1],
                        "sub_processor": "host-a" if int(eng_id.split("-")[2]) % 2 else "host-b",
                        "purpose": purpose,
                        "since": "2022-02-14",
                    }
                    for eng_id, purpose in self.purposes.items()
                ],
            }
        )

    async def apply(self, db: Database) -> register.Plan:
        """Make the graph match; one change event per change, through the real write path."""
        doc = parse_document(self.document())
        return await register.apply(db, "school", from_document.entities(doc), "tests")

    async def change(self, db: Database, engagements: list[str], version: int) -> None:
        """Change the purpose of some engagements in one transaction."""
        for eng_id in engagements:
            self.purposes[eng_id] = f"Hosting v{version}"
        await self.apply(db)


async def considered(notifier: Notifier) -> None:
    """Wait until the notifier has looked for due endpoints in a round that began after this
    call and has no run going: what it would deliver of what was committed before the call,
    it has, or has started, and finished."""
    after = notifier.rounds + 1
    await eventually(
        lambda: notifier.rounds > after and notifier.busy == 0, message="a later round, idle"
    )


@pytest.fixture
def notifier_settings(neo4j_settings: Neo4jSettings) -> NotifierSettings:
    """Fast polling and retries, loopback targets allowed."""
    return NotifierSettings(
        neo4j=neo4j_settings,
        retry_schedule=FAST_SCHEDULE,
        webhook_targets=WebhookTargetSettings(allow_loopback=True),
        poll_interval=0.05,
        timeout=2.0,
    )


RunNotifier = Callable[..., Any]


@pytest.fixture
def run_notifier(db: Database, notifier_settings: NotifierSettings) -> RunNotifier:
    """`async with run_notifier(**overrides) as notifier:` an in-process notifier, running."""

    @asynccontextmanager
    async def running(**overrides: Any) -> AsyncIterator[Notifier]:
        settings = notifier_settings.model_copy(update=overrides)
        async with client(settings.timeout, settings.concurrency) as http:
            notifier = Notifier(db, settings, Sender(http, settings.policy, settings.timeout))
            task = asyncio.create_task(notifier.run())
            try:
                yield notifier
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                await notifier.aclose()

    return running


async def expected_sequences(db: Database, after: int, processor: str | None = None) -> list[int]:
    """Sequences of the engagement events after `after` (of one processor), read directly from
    the change log, independently of graph.subprocessor_changes."""
    out: list[int] = []
    while True:
        events = await db.read(changes.read_after, after, 500)
        if not events:
            return out
        for event in events:
            if event.entity_type != "Engagement":
                continue
            state = event.after or event.before or {}
            owner = next(link["to"] for link in state["links"] if link["type"] == "ENGAGED_BY")
            if processor is None or owner == f"Organisation:{processor}":
                out.append(event.sequence)
        after = events[-1].sequence


class NotifierProcess:
    """`python -m services.cli serve notifier` as a child process, on its own port."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "serve", "notifier", "--port", str(self.port)],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )

    async def healthy(self, within: float = 30.0) -> None:
        """Wait until /healthz answers."""

        async def up() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"notifier exited with {self.process.returncode}")
            try:
                async with httpx.AsyncClient(timeout=1.0) as http:
                    return (await http.get(self.url + "/healthz")).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(up, within=within, message="notifier /healthz")

    def kill(self) -> None:
        """SIGKILL: no shutdown of any kind."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM and wait (SIGKILL if it will not stop)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


StartNotifier = Callable[..., NotifierProcess]


@pytest.fixture
def notifier_processes(
    db: Database, neo4j_settings: Neo4jSettings, tmp_path: Path
) -> Iterator[StartNotifier]:
    """Start notifier processes on the session's Neo4j (fast retries, loopback allowed)."""
    started: list[NotifierProcess] = []
    env = {
        **os.environ,
        **neo4j_settings.environment(),
        "ROPA_WEBHOOK_ALLOW_LOOPBACK": "true",
        "ROPA_WEBHOOK_RETRY_SCHEDULE": ",".join(str(s) for s in FAST_SCHEDULE),
        "ROPA_NOTIFIER_POLL_INTERVAL": "0.05",
    }

    def start(**extra_env: str) -> NotifierProcess:
        process = NotifierProcess({**env, **extra_env}, tmp_path / "notifier.log")
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()
