"""The dashboard in Chromium: the example's gaps and counts, as the API gives them."""

from __future__ import annotations

from playwright.async_api import expect

from tests.browser.conftest import Visit, api, expect_citations

DAY = "2022-06-01"


async def test_the_dashboard_shows_the_examples_gaps_and_counts(
    visit: Visit, registry_url: str
) -> None:
    expected = await api(
        registry_url,
        f'{{ complianceIssues(controller: "allestree-woodlands", asOf: "{DAY}") '
        f"{{ severity ruleId entityId }} "
        f'activities(controller: "allestree-woodlands", asOf: "{DAY}") {{ id }} }}',
    )
    errors = sum(1 for i in expected["complianceIssues"] if i["severity"] == "ERROR")
    warnings = len(expected["complianceIssues"]) - errors
    assert expected["complianceIssues"]

    page = visit.page
    await page.goto(f"{registry_url}/?asOf={DAY}")
    school = page.locator('article[data-controller="allestree-woodlands"]')
    await expect(school.get_by_role("heading", name="Allestree Woodlands School")).to_be_visible(
        timeout=30_000
    )
    await expect(school.locator('[data-figure="errors"] .figure')).to_have_text(str(errors))
    await expect(school.locator('[data-figure="warnings"] .figure')).to_have_text(str(warnings))
    await expect(school.locator('[data-figure="activities"] .figure')).to_have_text(
        str(len(expected["activities"]))
    )
    gaps = school.get_by_role("table", name="gaps, errors first")
    for issue in expected["complianceIssues"]:
        await expect(gaps.get_by_text(issue["ruleId"], exact=True).first).to_be_visible()
    first = expected["complianceIssues"][0]
    link = gaps.get_by_role("link").filter(has_text=first["entityId"]).first
    assert "/graphql?query=" in (await link.get_attribute("href") or "")
    await expect(school.get_by_role("heading", name="What comes up next")).to_be_visible()
    await expect(school.get_by_role("heading", name="Latest changes")).to_be_visible()
    # The example has no objection yet: the section says so.
    objections = school.get_by_role("table", name="Objections to announced sub-processors")
    await expect(objections).to_be_visible()
    await expect(page.locator("#status")).to_contain_text(DAY)
    await visit.screenshot("dashboard")
    assert await visit.axe() == []
    visit.assert_clean()


async def test_the_dashboard_is_also_at_slash_dashboard(visit: Visit, registry_url: str) -> None:
    page = visit.page
    await page.goto(f"{registry_url}/dashboard")
    await expect(page.get_by_role("heading", name="Compliance dashboard")).to_be_visible()
    await expect(page.locator("#day")).to_have_value(await page.evaluate("RopaConsole.today()"))
    await expect(page.locator("article.controller h2").first).to_be_visible(timeout=30_000)
    visit.assert_clean()


async def test_each_disclosure_shows_its_citations_whose_bases_and_assumptions(
    visit: Visit, registry_url: str
) -> None:
    expected = await api(
        registry_url,
        f'{{ disclosures(asOf: "{DAY}") {{ id basisOf {{ id }} assumptions {{ text about }} '
        "activity { controller { id } } "
        "citations { basis { article } restsOn { law { title } provision } } } }",
    )
    found = {
        d["id"]: d
        for d in expected["disclosures"]
        if d["activity"]["controller"]["id"] == "allestree-woodlands"
    }
    census, onward = found["census-to-dfe"], found["npd-onward-disclosure"]
    assert census["assumptions"]
    assert onward["basisOf"]["id"] == "dfe"

    page = visit.page
    await page.goto(f"{registry_url}/?asOf={DAY}")
    school = page.locator('article[data-controller="allestree-woodlands"]')
    table = school.get_by_role("table", name="disclosures in force, with their lawful bases")
    await expect(table).to_be_visible(timeout=30_000)
    await expect(table.locator("tbody tr")).to_have_count(len(found))
    for flow in (census, onward):
        row = table.locator(f'tr[data-disclosure="{flow["id"]}"]')
        await expect_citations(row, flow["citations"])
        marked = row.locator("ul.assumptions li.assumption")
        await expect(marked).to_have_count(len(flow["assumptions"]))
        if flow["assumptions"]:
            await expect(marked.first).to_contain_text("Assumption, to confirm:")
    census_row = table.locator('tr[data-disclosure="census-to-dfe"]')
    # An assumption about the disclosure's legal bases says which field it concerns.
    assert any(a["about"] == "legal_bases" for a in census["assumptions"])
    await expect(
        census_row.locator('li.assumption[data-about="legal_bases"]').first
    ).to_contain_text("(about its legal bases)")
    await expect(census_row.locator("td.whose")).to_have_text("Allestree Woodlands School's own")
    await expect(
        table.locator('tr[data-disclosure="npd-onward-disclosure"] td.whose')
    ).to_have_text("Department for Education's own lawful basis, not Allestree Woodlands School's")
    await census_row.scroll_into_view_if_needed()
    await visit.screenshot("dashboard-disclosures", full_page=False)
    visit.assert_clean()
