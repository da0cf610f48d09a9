"""Browser tests: Debian's Chromium, driven by Playwright, against a real uvicorn registry.

The registry serves the example register in a child process (`ropa serve registry`, started
by tests/support/registry_server.py) with a DPO token and every read open
(`ROPA_PUBLIC_READS=all`). Chromium is launched from
/usr/bin/chromium (`.ci/run` installs it; Playwright never downloads a browser) with a fresh
profile, and every request it makes is routed through `Visit`, which records its host and
refuses any that is not the registry's, so a test can assert that nothing left 127.0.0.1.
Screenshots go to tests/browser/screenshots/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import (
    BrowserContext,
    ConsoleMessage,
    Locator,
    Page,
    Playwright,
    Request,
    Route,
    async_playwright,
    expect,
)

from graph import maintenance
from graph.database import Database
from graph.settings import Neo4jSettings
from schema.access.tokens import hash_token
from tests.support.examples import apply_school_record
from tests.support.registry_server import STARTUP_SECONDS, serve_registry

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "allestree-woodlands.yaml"
CHROMIUM = Path(os.environ.get("ROPA_CHROMIUM", "/usr/bin/chromium"))
AXE = ROOT / "services" / "registry" / "console" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
DPO_TOKEN = "browser-test-dpo-token"
# STL's own DPO: its register, not the school's, owns its sub-processor engagements.
STL_DPO_TOKEN = "browser-test-stl-dpo-token"
WARM_UP = '{ recipients(category: "safeguarding", asOf: "2022-06-01") { organisation { id } } }'
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """Debian's Chromium; the tests fail (not skip) without it: `.ci/run` installs it."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install -y chromium` (see README)")
    return CHROMIUM


@pytest.fixture(scope="session")
async def example_db(session_db: Database) -> Database:
    """The session database holding only the example (the school's and STL's registers)."""
    await maintenance.wipe(session_db)
    await apply_school_record(session_db)
    return session_db


@pytest.fixture(scope="session")
def registry_url(neo4j_settings: Neo4jSettings, example_db: Database) -> Iterator[str]:
    """`ropa serve registry` under uvicorn on a free loopback port, on the example."""
    tokens = [
        {
            "name": "dpo-browser",
            "role": "dpo",
            "sha256": hash_token(DPO_TOKEN),
            "registers": ["allestree-woodlands"],
        },
        {
            "name": "stl-dpo-browser",
            "role": "dpo",
            "sha256": hash_token(STL_DPO_TOKEN),
            "registers": ["school-transition-limited"],
        },
    ]
    env = {
        "ROPA_TOKENS": json.dumps(tokens),
        "ROPA_PUBLIC_READS": "all",
        "ROPA_FOLLOWER_POLL_INTERVAL": "0.2",
    }
    with serve_registry(neo4j_settings, env) as url:
        # The first lineage question compiles Neo4j's plans; ask it before any page does. On a
        # loaded machine that took over 60 s, so it gets the registry's own start-up allowance.
        httpx.post(
            f"{url}/graphql", json={"query": WARM_UP}, timeout=STARTUP_SECONDS
        ).raise_for_status()
        yield url


@pytest.fixture(scope="session")
async def playwright() -> AsyncIterator[Playwright]:
    """Playwright's driver (no browser of its own is ever used)."""
    async with async_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
async def browser(playwright: Playwright, chromium_path: Path) -> AsyncIterator[BrowserContext]:
    """Debian's Chromium, headless, with a fresh profile that nothing else shares."""
    profile = tempfile.mkdtemp(prefix="ropa-chromium-")
    context = await playwright.chromium.launch_persistent_context(
        profile,
        executable_path=str(chromium_path),
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": 1280, "height": 900},
    )
    try:
        yield context
    finally:
        await context.close()
        shutil.rmtree(profile, ignore_errors=True)


@dataclass
class Visit:
    """One page under watch: the hosts it asked for, its console errors and failed requests."""

    page: Page
    allowed_host: str
    hosts: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)

    async def route(self, route: Route, request: Request) -> None:
        """Let same-host requests through; refuse (and record) every other."""
        host = urlsplit(request.url).hostname or request.url
        self.hosts.add(host)
        if host == self.allowed_host:
            await route.continue_()
        else:
            await route.abort("blockedbyclient")

    def on_console(self, message: ConsoleMessage) -> None:
        """Record console errors."""
        if message.type == "error":
            self.errors.append(f"{message.text} ({message.location.get('url', '')})")

    def assert_clean(self) -> None:
        """No console error, and no request to anywhere but the registry on 127.0.0.1."""
        assert self.hosts <= {"127.0.0.1"}, f"requests left 127.0.0.1: {sorted(self.hosts)}"
        assert not self.errors, self.errors

    async def axe(self) -> list[dict[str, Any]]:
        """axe-core's serious and critical violations on the page as it is now."""
        # evaluate() runs outside the page's CSP, which would refuse an injected script.
        await self.page.evaluate(AXE.read_text(encoding="utf-8"))
        result: dict[str, Any] = await self.page.evaluate(
            "() => axe.run(document, {resultTypes: ['violations']})"
        )
        return [
            {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]

    async def screenshot(self, name: str, full_page: bool = True) -> Path:
        """A PNG (of the whole page, or of the viewport) in tests/browser/screenshots/."""
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        await self.page.screenshot(path=str(path), full_page=full_page)
        return path


@pytest.fixture
async def visit(browser: BrowserContext) -> AsyncIterator[Visit]:
    """A new page in the shared browser, watched by a `Visit`; closed after the test."""
    page: Page = await browser.new_page()
    watched = Visit(page=page, allowed_host="127.0.0.1")
    await page.route("**/*", watched.route)
    # WebSockets bypass routing: record their hosts too.
    page.on("websocket", lambda ws: watched.hosts.add(urlsplit(ws.url).hostname or ws.url))
    page.on("console", watched.on_console)
    page.on("pageerror", lambda error: watched.errors.append(f"page error: {error}"))
    try:
        yield watched
    finally:
        await page.close()


async def api(url: str, query: str, token: str = DPO_TOKEN) -> dict[str, Any]:
    """Run an operation against the registry as `token` (the school's DPO by default); its
    `data` (no errors)."""
    async with httpx.AsyncClient(timeout=60) as http:
        response = await http.post(
            f"{url}/graphql",
            json={"query": query},
            headers={"authorization": f"Bearer {token}"},
        )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def expect_citations(within: Locator, citations: list[dict[str, Any]]) -> None:
    """`within` shows each citation the API gave (`basis { article } restsOn { law { title }
    provision }`) as one `li.citation`, in order, with its article and every law it rests on."""
    items = within.locator("li.citation")
    await expect(items).to_have_count(len(citations))
    for citation, item in zip(citations, await items.all(), strict=True):
        await expect(item).to_contain_text(citation["basis"]["article"])
        for ref in citation["restsOn"]:
            law = ref["law"]["title"] + (f" {ref['provision']}" if ref["provision"] else "")
            await expect(item).to_contain_text(law)
