"""The explorer in Chromium: GraphiQL from the registry's own files, its ready tabs."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
from playwright.async_api import expect

from tests.browser.conftest import STL_DPO_TOKEN, Visit, api


async def test_the_explorer_runs_its_first_tab(visit: Visit, registry_url: str) -> None:
    page = visit.page
    await page.goto(f"{registry_url}/graphql", wait_until="networkidle")
    await expect(page.locator(".graphiql-container")).to_be_visible()
    tabs = page.locator(".graphiql-tab-button")
    await expect(tabs.filter(has_text="WhoReceivesSafeguardingData")).to_be_visible()
    await expect(tabs.filter(has_text="GapsInOurRecord")).to_be_visible()
    await page.locator(".graphiql-execute-button").click()
    result = page.locator(".result-window")
    # The result pane draws only the lines in view: the first recipient and its first hop.
    await expect(result).to_contain_text('"recipients"', timeout=30_000)
    await expect(result).to_contain_text("Children's social care")
    await expect(result).to_contain_text("Safeguarding and child protection")
    await expect(result).not_to_contain_text('"errors"')
    await visit.screenshot("explorer")
    assert await visit.axe() == []
    visit.assert_clean()


async def subscribers(url: str) -> int:
    """The registry's `ropa_subscribers` gauge: subscriptions its follower has registered."""
    async with httpx.AsyncClient(timeout=10) as http:
        metrics = (await http.get(f"{url}/metrics")).text
    return next(
        int(float(line.split()[1]))
        for line in metrics.splitlines()
        if line.startswith("ropa_subscribers ")
    )


# The tab is chosen and Execute pressed in one task, before GraphiQL has parsed the new tab's
# text (it does 100 ms after a change): what a quick hand, or a busy machine, does. It used to
# post the subscription over HTTP (400).
SWITCH_AND_EXECUTE = """() => {
  const tabs = [...document.querySelectorAll(".graphiql-tab-button")];
  tabs.find((b) => b.textContent.includes("WatchSubProcessors")).click();
  document.querySelector(".graphiql-execute-button").click();
}"""


async def test_a_subscription_tab_receives_a_change_made_by_mutation(
    visit: Visit, registry_url: str
) -> None:
    page = visit.page
    posted: list[str] = []
    page.on("request", lambda r: posted.append(r.post_data or "") if r.method == "POST" else None)
    async with page.expect_websocket(timeout=30_000) as opened:
        await page.goto(f"{registry_url}/graphql", wait_until="networkidle")
        await expect(page.locator(".graphiql-tab-button").first).to_be_visible()
        before = await subscribers(registry_url)
        await page.evaluate(SWITCH_AND_EXECUTE)
    ws = await opened.value
    await ws.wait_for_event("framesent", lambda frame: '"subscribe"' in str(frame), timeout=30_000)
    await expect(page.locator(".graphiql-query-editor")).to_contain_text("subProcessorChanges")
    # The server delivers what is committed after it registered the subscriber: wait for that.
    deadline = time.monotonic() + 30
    while await subscribers(registry_url) <= before:
        assert time.monotonic() < deadline, "the registry never registered the subscription"
        await asyncio.sleep(0.1)
    # A new purpose each time: writing the one it has already changes nothing (no event). The
    # engagement is STL's to change: its own register declares it.
    purpose = f"Hosting the portal (browser test {uuid.uuid4().hex[:8]})"
    changed = await api(
        registry_url,
        'mutation { updateEngagement(id: "stl-link-ict", input: {purpose: '
        f'"{purpose}"}}) {{ engagement {{ purpose }} }} }}',
        token=STL_DPO_TOKEN,
    )
    assert changed["updateEngagement"]["engagement"]["purpose"] == purpose
    result = page.locator(".result-window")
    await expect(result).to_contain_text("browser test", timeout=30_000)
    await expect(result).to_contain_text('"CHANGED"')
    await expect(result).to_contain_text("Link ICT Services Limited")
    # Only the schema's introspection went over HTTP; the subscription went over the socket.
    assert [p for p in posted if "subProcessorChanges" in p] == []
    await visit.screenshot("explorer-subscription")
    visit.assert_clean()
