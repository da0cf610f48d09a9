"""The lineage map in Chromium: the safeguarding recipients on 2022-06-01, as a graph."""

from __future__ import annotations

from playwright.async_api import expect

from tests.browser.conftest import Visit, api

DAY = "2022-06-01"


async def test_the_map_draws_the_safeguarding_recipients(visit: Visit, registry_url: str) -> None:
    answer = await api(
        registry_url,
        '{ recipients(category: "safeguarding", controller: "allestree-woodlands", '
        f'asOf: "{DAY}") {{ organisation {{ id name }} }} }}',
    )
    recipients = {r["organisation"]["id"]: r["organisation"]["name"] for r in answer["recipients"]}
    assert "derbyshire-constabulary" in recipients

    page = visit.page
    await page.goto(
        f"{registry_url}/lineage?category=safeguarding&controller=allestree-woodlands&asOf={DAY}"
    )
    await expect(page.locator("#status")).to_contain_text(
        f"{len(recipients)} recipient(s) of safeguarding on {DAY}", timeout=30_000
    )
    drawn = await page.evaluate("RopaLineage.cy.nodes().map((n) => n.id())")
    assert set(drawn) == {*recipients, "allestree-woodlands"}
    kinds = await page.evaluate("RopaLineage.cy.edges().map((e) => e.data('kind'))")
    assert "DISCLOSURE" in kinds
    items = page.locator("#recipients-list li")
    await expect(items).to_have_count(len(recipients))
    police = page.locator('#recipients-list li[data-recipient="derbyshire-constabulary"]')
    await expect(police).to_contain_text("disclosure to Derbyshire Constabulary")
    await police.get_by_role("button").click()
    await expect(page.locator("#details-body")).to_contain_text("Derbyshire Constabulary")
    await expect(page.locator("#query")).to_contain_text("recipients(category: $category")
    # Selecting an edge shows the hop: its legal bases.
    await page.evaluate(
        "(() => { const e = RopaLineage.cy.edges('[target = \"derbyshire-constabulary\"]')[0];"
        " e.select(); e.emit('tap'); })()"
    )
    await expect(page.locator("#details-body")).to_contain_text("Legal bases")
    await visit.screenshot("lineage")
    assert await visit.axe() == []
    visit.assert_clean()
