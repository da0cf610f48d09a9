"""The shell, Python and JavaScript examples of README.md and docs/ are run, against a real
registry over the session's Neo4j holding every register of examples/ (tests/unit/test_docs.py
checks that every example is well-formed; this runs them).

How a block is run, so that the doc need not know the test's ports or tokens:
- `localhost:8000` and `127.0.0.1:8000` (the documented defaults) become the test registry;
- a `NAME=...` line is a placeholder the reader fills: the test fills it (PLACEHOLDERS);
- `make run` stands for the stack: the tokens a block sets up before it (ROPA_TOKENS) are
  given to the test registry, and the rest of the block runs against it;
- every JSON answer a block prints must have data and no errors;
- a block defining functions for the reader's own code (a webhook receiver's check) is run by
  a harness here that calls them with a real signed message (HARNESSES);
- a subscription client that follows the changes for ever (Python's gql, JavaScript's
  graphql-ws under Node, with the page's own names given) is started against the test
  registry; once the registry counts its subscription, a sub-processor is engaged through the
  API, and the client must print that change; then it is stopped.

A block preceded by `<!-- docs-test: not run: REASON -->` is not run, the reason in the doc.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from standardwebhooks import Webhook

from graph import from_document, maintenance, register
from graph.database import Database
from schema.validation import load_document
from services.cli.devstack import shipped_examples
from tests.services.conftest import ADMIN_ENTRY, ADMIN_TOKEN, RegistryProcess

pytestmark = pytest.mark.neo4j

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(
    r"(?P<marker><!-- docs-test: (?:skip|not run:) [^>]+-->\s*\n)?^```(?P<lang>[a-z]+)\n"
    r"(?P<body>.*?)^```",
    re.M | re.S,
)
RUNNABLE = {"sh", "python", "js"}
DEFAULT_ADDRESS = re.compile(r"\b(?:localhost|127\.0\.0\.1):8000\b")
PLACEHOLDER = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)=\.\.\.(?:\s+#.*)?$", re.M)
# What the reader puts where a doc writes `NAME=...`.
PLACEHOLDERS = {"TOKEN": ADMIN_TOKEN}


def _blocks() -> list[Any]:
    found = []
    for doc in DOCS:
        text = doc.read_text()
        for match in FENCE.finditer(text):
            if match["marker"] or match["lang"] not in RUNNABLE:
                continue
            line = text.count("\n", 0, match.start("body"))
            where = f"{doc.relative_to(ROOT)}:{line}"
            found.append(pytest.param(match["lang"], match["body"], id=where))
    return found


BLOCKS = _blocks()


@pytest.fixture(scope="module")
async def registers(session_db: Database) -> Database:
    """The session database holding every register of examples/, as `make run` loads them."""
    await maintenance.wipe(session_db)
    for path in shipped_examples(ROOT / "examples"):
        doc = load_document(path)
        await register.apply(session_db, doc.register_info.id, from_document.entities(doc), "docs")
    return session_db


@pytest.fixture(scope="module")
def stack(registers: Database, registry_process: RegistryProcess) -> Iterator[str]:
    """A registry over them, its admin token the one the docs' `TOKEN=...` stands for, and
    the tokens the blocks set up before `make run` (one registry serves them all)."""
    tokens = [ADMIN_ENTRY]
    for param in BLOCKS:
        lang, body = param.values
        before, run, _ = PLACEHOLDER.sub("", body).partition("make run\n")
        if lang == "sh" and run:
            exported = _exported(before)
            assert exported.keys() <= {"ROPA_TOKENS"}, f"{param.id}: set up {exported}"
            tokens += json.loads(exported.get("ROPA_TOKENS", "[]"))
    with registry_process({"ROPA_TOKENS": json.dumps(tokens)}) as url:
        yield url


def _answers(stdout: str) -> list[Any]:
    """The JSON documents a block printed (one per line, or the whole output)."""
    text = stdout.strip()
    if not text:
        return []
    try:
        return [json.loads(text)]
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def _bash(script: str, env: dict[str, str], where: str) -> str:
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 0, f"{where} exited {done.returncode}:\n{done.stderr}{done.stdout}"
    for answer in _answers(done.stdout):
        if isinstance(answer, dict) and ("data" in answer or "errors" in answer):
            assert not answer.get("errors"), f"{where}: {answer}"
            assert answer.get("data"), f"{where}: {answer}"
    return done.stdout


def _exported(prelude: str) -> dict[str, str]:
    """The ROPA_* variables a block's lines before `make run` set."""
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", prelude + "\nenv -0"],
        # Only what the lines set: none of the test session's own ROPA_* variables.
        env={"PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    pairs = (entry.partition("=") for entry in done.stdout.split("\0") if entry)
    return {k: v for k, _, v in pairs if k.startswith("ROPA_")}


def _run_shell(body: str, url: str) -> None:
    script = PLACEHOLDER.sub("", body)
    # `ropa` as a reader who ran `make install` has it: the project's own.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {**os.environ, "PATH": path, **{n: PLACEHOLDERS[n] for n in PLACEHOLDER.findall(body)}}
    missing = set(PLACEHOLDER.findall(body)) - PLACEHOLDERS.keys()
    assert not missing, f"no value for the placeholders {missing}"
    # `make run` is the stack the test started, with what the lines before it set up.
    script = DEFAULT_ADDRESS.sub(url.removeprefix("http://"), script.replace("make run\n", ""))
    _bash(script, env, "block")


def _signed(secret: str, data: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """A message as the notifier sends it: a Standard Webhooks signature by the library."""
    import datetime as dt

    body = json.dumps({"type": "subprocessor.changed", "data": data}).encode()
    msg_id = "msg_docs_1"
    now = dt.datetime.now(dt.UTC)
    signature = Webhook(secret).sign(msg_id, now, body.decode())
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }
    return body, headers


SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def _run_python_receiver(body: str, url: str) -> None:
    processed: list[Any] = []
    seen: set[str] = set()

    def seen_before(msg_id: str) -> bool:
        if msg_id in seen:
            return True
        seen.add(msg_id)
        return False

    names: dict[str, Any] = {
        "secret": SECRET,
        "seen_before": seen_before,
        "process": processed.append,
    }
    exec(compile(body, "docs/webhooks.md", "exec"), names)
    message, headers = _signed(SECRET, {"sequence": 7})
    assert names["handle"](message, headers) == 204
    assert processed == [{"sequence": 7}]
    assert names["handle"](message, headers) == 204  # a repeat: not processed again
    assert processed == [{"sequence": 7}]
    tampered = message.replace(b"7", b"8")
    assert names["handle"](tampered, {**headers, "webhook-id": "msg_docs_2"}) == 400


def _run_js_verify(body: str, url: str) -> None:
    node = shutil.which("node")
    assert node, "node is needed to run the JavaScript examples"
    message, headers = _signed(SECRET, {"sequence": 7})
    harness = (
        body
        + "\nconst [secret, headers, body] = JSON.parse(process.env.DOCS_CASE);"
        + "\nconst raw = Buffer.from(body, 'utf8');"
        + "\nconsole.log(JSON.stringify([verify(secret, headers, raw),"
        + " verify(secret, headers, Buffer.concat([raw, Buffer.from(' ')]))]));\n"
    )
    case = json.dumps([SECRET, headers, message.decode()])
    done = subprocess.run(
        [node, "--input-type=module", "-e", harness],
        env={**os.environ, "DOCS_CASE": case},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [True, False]


def _subscribers(url: str) -> float:
    """The registry's count of follower subscribers (ropa_subscribers, its /metrics)."""
    text = httpx.get(f"{url}/metrics", timeout=10).text
    for family in text_string_to_metric_families(text):
        if family.name == "ropa_subscribers":
            return family.samples[0].value
    raise AssertionError("the registry's /metrics has no ropa_subscribers")


def _graphql(url: str, query: str) -> dict[str, Any]:
    answer = httpx.post(
        f"{url}/graphql",
        json={"query": query},
        headers={"authorization": f"Bearer {ADMIN_TOKEN}"},
        timeout=30,
    ).json()
    assert not answer.get("errors"), answer
    data: dict[str, Any] = answer["data"]
    return data


ENGAGE = """mutation { engageSubProcessor(input: {
  processor: "School Transition Limited", subProcessor: "%s", subProcessorCountry: "GB",
  purpose: "Docs follower check", categories: ["Contact details"], location: "United Kingdom",
  since: "2025-01-01", status: PROPOSED }) { engagement { id } errors { field message } } }"""
LAST_CHANGE = '{ changes(processor: "School Transition Limited", first: 500) { id } }'


def _follows(command: list[str], env: dict[str, str], url: str, name: str) -> list[str]:
    """Run a client that follows the changes for ever; once the registry counts its
    subscription, engage `name` as a sub-processor of School Transition Limited. The lines the
    client printed up to the one naming that change's id (stderr appended on failure)."""
    before = _subscribers(url)
    with tempfile.TemporaryFile("w+") as errors:
        client = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=errors, text=True
        )
        lines: queue.Queue[str | None] = queue.Queue()

        def read() -> None:
            assert client.stdout is not None
            for line in client.stdout:
                lines.put(line.rstrip("\n"))
            lines.put(None)

        def stderr() -> str:
            errors.seek(0)
            return errors.read()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        printed: list[str] = []
        try:
            deadline = time.monotonic() + 60
            while _subscribers(url) <= before:
                assert client.poll() is None, stderr()
                assert time.monotonic() < deadline, (
                    f"its subscription was never counted: {stderr()}"
                )
                time.sleep(0.1)
            engaged = _graphql(url, ENGAGE % name)["engageSubProcessor"]
            assert engaged["errors"] == [], engaged
            last = _graphql(url, LAST_CHANGE)["changes"][-1]["id"]
            deadline = time.monotonic() + 30
            while not any(last in line for line in printed):
                try:
                    line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
                except queue.Empty:
                    raise AssertionError(
                        f"no change {last} printed within 30 s: {printed}"
                    ) from None
                assert line is not None, f"the client stopped: {printed} {stderr()}"
                printed.append(line)
            return printed
        finally:
            client.kill()
            client.wait(30)
            reader.join(30)
            assert client.stdout is not None
            client.stdout.close()
            # The next follower counts from what is left: let the registry drop this one.
            deadline = time.monotonic() + 30
            while _subscribers(url) > before and time.monotonic() < deadline:
                time.sleep(0.1)


def _run_python_follower(body: str, url: str) -> None:
    # The block ends by following for ever with asyncio.run(follow(...)): run it as it is.
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    script = DEFAULT_ADDRESS.sub(url.removeprefix("http://"), body)
    assert script != body, "the Python client no longer follows 127.0.0.1:8000"
    printed = _follows([sys.executable, "-c", script], env, url, "Docs Python Follower Ltd")
    assert any("'type': 'ADDED'" in line for line in printed), printed


# The page's own names in the browser example, as a page would define them.
BROWSER_PAGE = """
const stored = new Map();
globalThis.localStorage = {
  getItem: (key) => (stored.has(key) ? stored.get(key) : null),
  setItem: (key, value) => stored.set(key, String(value)),
};
globalThis.SUBSCRIPTION = process.env.DOCS_SUBSCRIPTION;
globalThis.token = process.env.DOCS_TOKEN;
globalThis.render = (change) =>
  console.log(JSON.stringify({ change, lastChangeId: localStorage.getItem("lastChangeId") }));
"""
BROWSER_URL = "wss://registry.example.org/graphql"


def _run_browser_follower(body: str, url: str) -> None:
    node = shutil.which("node")
    assert node, "node is needed to run the JavaScript examples"
    assert BROWSER_URL in body, f"the browser example no longer follows {BROWSER_URL}"
    # The subscription the page sends: the one at the top of docs/subscriptions.md.
    doc = (ROOT / "docs" / "subscriptions.md").read_text()
    subscription = re.search(r"^```graphql\n(subscription .*?)^```", doc, re.M | re.S)
    assert subscription, "docs/subscriptions.md has no subscription"
    console = ROOT / "services" / "registry" / "console" / "node_modules"
    assert (console / "graphql-ws").is_dir(), "graphql-ws is installed by `make install`"
    # A browser's WebSocket: Node 22 has it; Node 20 behind a flag.
    flags = [] if _node_has_websocket(node) else ["--experimental-websocket"]
    with tempfile.TemporaryDirectory(prefix="docs-js-") as folder:
        # `import "graphql-ws"` resolves from the page's folder, as a bundler would.
        (Path(folder) / "node_modules").symlink_to(console)
        page = Path(folder) / "page.mjs"
        page.write_text(
            BROWSER_PAGE + body.replace(BROWSER_URL, url.replace("http", "ws", 1) + "/graphql")
        )
        env = {**os.environ, "DOCS_SUBSCRIPTION": subscription[1], "DOCS_TOKEN": ADMIN_TOKEN}
        printed = _follows([node, *flags, str(page)], env, url, "Docs Browser Follower Ltd")
    rendered = [json.loads(line) for line in printed if line.startswith("{")]
    last = rendered[-1]
    assert last["change"]["type"] == "ADDED", rendered
    assert last["change"]["subProcessor"]["name"] == "Docs Browser Follower Ltd", rendered
    assert last["lastChangeId"] == last["change"]["id"], rendered


def _node_has_websocket(node: str) -> bool:
    check = [node, "-e", "process.exit(typeof WebSocket === 'function' ? 0 : 1)"]
    return subprocess.run(check, timeout=30).returncode == 0


# Blocks that define functions for the reader's own code, or follow for ever, by a line they
# start with.
HARNESSES: dict[tuple[str, str], Callable[[str, str], None]] = {
    ("python", "from standardwebhooks import Webhook"): _run_python_receiver,
    ("js", 'import { createHmac, timingSafeEqual } from "node:crypto";'): _run_js_verify,
    ("python", "import asyncio\nfrom gql import Client"): _run_python_follower,
    ("js", 'import { createClient } from "graphql-ws";'): _run_browser_follower,
}


def test_examples_are_found() -> None:
    langs = {p.values[0] for p in BLOCKS}
    assert {"sh", "python", "js"} <= langs, langs


@pytest.mark.parametrize(("lang", "body"), BLOCKS)
async def test_the_example_runs(lang: str, body: str, stack: str) -> None:
    harness = next(
        (h for (k, start), h in HARNESSES.items() if k == lang and body.startswith(start)), None
    )
    if harness is not None:
        await asyncio.to_thread(harness, body, stack)
        return
    assert lang == "sh", f"no way to run this {lang} block: mark it `docs-test: not run: WHY`"

    await asyncio.to_thread(_run_shell, body, stack)
