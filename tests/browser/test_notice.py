"""The privacy notice page in Chromium: structure, its own stylesheet, print, downloads."""

from __future__ import annotations

import httpx
from playwright.async_api import expect

from tests.browser.conftest import Visit

DAY = "2022-06-01"


async def test_the_pupils_notice_renders(visit: Visit, registry_url: str) -> None:
    page = visit.page
    url = f"{registry_url}/notices/allestree-woodlands/pupils?asOf={DAY}"
    await page.goto(url)
    await expect(
        page.get_by_role("heading", level=1, name="Allestree Woodlands School: privacy notice")
    ).to_be_visible()
    await expect(page.get_by_role("heading", level=2, name="Our lawful reasons")).to_be_visible()
    # The example's DPO is a placeholder: the page is the notice as a marked draft.
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Draft: ")
    await expect(page.get_by_role("heading", level=2, name="This is a draft")).to_be_visible()
    legal = page.locator("section.legal")
    await expect(legal.get_by_role("heading", name="The legal details")).to_be_visible()
    await expect(legal).to_contain_text("Article 6(1)(c)")
    reasons = page.locator("section", has=page.get_by_role("heading", name="Our lawful reasons"))
    await expect(reasons).to_contain_text("The law requires us to")
    await expect(reasons).not_to_contain_text("Article 6(1)")
    contents = page.get_by_role("navigation", name="Contents")
    await expect(contents.get_by_role("link")).to_have_count(
        await page.locator("main section").count()
    )
    # The stylesheet applies (the header band), and print hides the contents and the links.
    band = await page.locator(".notice-header").evaluate("e => getComputedStyle(e).backgroundColor")
    assert band == "rgb(20, 54, 92)"
    await visit.screenshot("notice", full_page=False)
    assert await visit.axe() == []
    download = page.get_by_role("link", name="HTML")
    href = await download.get_attribute("href")
    assert href == f"/notices/allestree-woodlands/pupils.html?asOf={DAY}"
    await page.emulate_media(media="print")
    await expect(contents).to_be_hidden()
    await visit.screenshot("notice-print", full_page=False)
    visit.assert_clean()
    async with httpx.AsyncClient() as http:
        file = await http.get(f"{registry_url}{href}")
    assert file.status_code == 200
    assert "attachment" in file.headers["content-disposition"]
    assert "<style>" in file.text
    assert "The legal details" in file.text


async def test_the_notices_index_links_each_audience(visit: Visit, registry_url: str) -> None:
    page = visit.page
    await page.goto(f"{registry_url}/notices")
    link = page.get_by_role("link", name="for parents")
    await expect(link).to_have_attribute("href", "/notices/allestree-woodlands/parents")
    assert await visit.axe() == []
    visit.assert_clean()
