"""The explorer in Chromium: GraphiQL from the registry's own files, its ready tabs."""

from __future__ import annotations

import time

from playwright.async_api import expect

from tests.browser.conftest import Visit, api


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


async def test_a_subscription_tab_receives_a_change_made_by_mutation(
    visit: Visit, registry_url: str
) -> None:
    page = visit.page
    subscribed: list[str] = []
    page.on(
        "websocket",
        lambda ws: ws.on(
            "framesent",
            lambda frame: subscribed.append(str(frame)) if '"subscribe"' in str(frame) else None,
        ),
    )
    await page.goto(f"{registry_url}/graphql", wait_until="networkidle")
    await page.locator(".graphiql-tab-button").filter(has_text="WatchSubProcessors").click()
    await expect(page.locator(".graphiql-query-editor")).to_contain_text("subProcessorChanges")
    result = page.locator(".result-window")
    deadline = time.monotonic() + 60
    # A click while GraphiQL still loads the schema may be lost: click again until it sends.
    while not subscribed:
        assert time.monotonic() < deadline, "the explorer never subscribed over its WebSocket"
        await page.locator(".graphiql-execute-button").click()
        for _ in range(50):
            if subscribed:
                break
            await page.wait_for_timeout(100)
    # The server registers the subscriber once it reads the subscribe message; a change
    # committed before that is not live for it, so change again until one arrives.
    for attempt in range(1, 20):
        purpose = f"Hosting the portal (browser test {attempt})"
        changed = await api(
            registry_url,
            'mutation { updateEngagement(id: "stl-link-ict", input: {purpose: '
            f'"{purpose}"}}) {{ engagement {{ purpose }} }} }}',
        )
        assert changed["updateEngagement"]["engagement"]["purpose"] == purpose
        try:
            await expect(result).to_contain_text("browser test", timeout=3_000)
            break
        except AssertionError:
            assert time.monotonic() < deadline, "no change reached the subscription"
    await expect(result).to_contain_text('"CHANGED"')
    await expect(result).to_contain_text("Link ICT Services Limited")
    await visit.screenshot("explorer-subscription")
    visit.assert_clean()
