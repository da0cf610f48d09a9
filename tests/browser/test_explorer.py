"""The explorer in Chromium: GraphiQL from the registry's own files, its ready tabs."""

from __future__ import annotations

from playwright.async_api import expect

from tests.browser.conftest import Visit


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
