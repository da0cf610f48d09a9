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
  a harness here that calls them with a real signed message (HARNESSES).

A block preceded by `<!-- docs-test: not run: REASON -->` is not run, the reason in the doc.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
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


def _run_python_receiver(body: str) -> None:
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


def _run_js_verify(body: str) -> None:
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


# Blocks that define functions for the reader's own code, by a line they start with.
HARNESSES: dict[tuple[str, str], Callable[[str], None]] = {
    ("python", "from standardwebhooks import Webhook"): _run_python_receiver,
    ("js", 'import { createHmac, timingSafeEqual } from "node:crypto";'): _run_js_verify,
}


def test_examples_are_found() -> None:
    langs = {p.values[0] for p in BLOCKS}
    assert {"sh", "python", "js"} <= langs, langs


@pytest.mark.parametrize(("lang", "body"), BLOCKS)
async def test_the_example_runs(lang: str, body: str, stack: str) -> None:
    first = body.splitlines()[0]
    harness = next(
        (h for (k, start), h in HARNESSES.items() if k == lang and first.startswith(start)), None
    )
    if harness is not None:
        await asyncio.to_thread(harness, body)
        return
    assert lang == "sh", f"no way to run this {lang} block: mark it `docs-test: not run: WHY`"

    await asyncio.to_thread(_run_shell, body, stack)
