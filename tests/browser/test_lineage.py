"""The lineage map in Chromium: the safeguarding recipients on 2022-06-01, as a graph."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from tests.browser.conftest import Visit, api, expect_citations

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
    # Selecting an edge shows the hop: its lawful bases.
    await page.evaluate(
        "(() => { const e = RopaLineage.cy.edges('[target = \"derbyshire-constabulary\"]')[0];"
        " e.select(); e.emit('tap'); })()"
    )
    await expect(page.locator("#details-body")).to_contain_text("Lawful bases")
    await visit.screenshot("lineage")
    assert await visit.axe() == []
    visit.assert_clean()


HOPS = (
    '{ recipients(category: "ethnicity", controller: "allestree-woodlands", '
    f'asOf: "{DAY}") {{ organisation {{ id }} paths {{ hops {{ kind from {{ id name }} '
    "to { id name } basisOf { id name } assumptions { text about on } "
    "citations { basis { article title } restsOn { law { title } provision } } } } } }"
)


def _hop(answer: dict[str, Any], source: str, target: str) -> dict[str, Any]:
    """The first hop of the answer from `source` to `target`."""
    for recipient in answer["recipients"]:
        for path in recipient["paths"]:
            for hop in path["hops"]:
                if hop["from"]["id"] == source and hop["to"]["id"] == target:
                    return dict(hop)
    raise AssertionError(f"no hop {source} -> {target}")


async def _select_edge(visit: Visit, source: str, target: str) -> None:
    await visit.page.evaluate(
        '([s, t]) => { const e = RopaLineage.cy.edges(`[source = "${s}"][target = "${t}"]`)[0];'
        " RopaLineage.cy.elements().unselect(); e.select(); e.emit('tap'); }",
        [source, target],
    )


async def test_each_hop_shows_its_citations_whose_bases_and_assumptions(
    visit: Visit, registry_url: str
) -> None:
    answer = await api(registry_url, HOPS)
    census = _hop(answer, "allestree-woodlands", "dfe")
    onward = _hop(answer, "dfe", "approved-third-parties")
    # The example as the API gives it: the census on Regulation 5, the NPD sharing the DfE's.
    census_laws = [r["law"]["title"] for c in census["citations"] for r in c["restsOn"]]
    assert any("Regulation" in law for law in census_laws)
    assert census["assumptions"]
    assert census["basisOf"]["id"] == "allestree-woodlands"
    assert onward["basisOf"]["id"] == "dfe"

    page = visit.page
    await page.goto(
        f"{registry_url}/lineage?category=ethnicity&controller=allestree-woodlands&asOf={DAY}"
    )
    await expect(page.locator("#status")).to_contain_text(
        "recipient(s) of ethnicity", timeout=30_000
    )
    details = page.locator("#details-body")

    await _select_edge(visit, "allestree-woodlands", "dfe")
    await expect_citations(details, census["citations"])
    await expect(details).to_contain_text("Allestree Woodlands School's own")
    # Each assumption is shown, and marked as one for the DPO to confirm.
    marked = details.locator("ul.assumptions li.assumption")
    await expect(marked).to_have_count(len(census["assumptions"]))
    for assumption in census["assumptions"]:
        await expect(marked.filter(has_text=assumption["text"][:60])).to_contain_text(
            "Assumption, to confirm:"
        )
    # An assumption about the disclosure's legal bases says so, and marks that row only.
    about_bases = [a for a in census["assumptions"] if a["about"] == "legal_bases"]
    assert about_bases
    assert all(a["on"] == "disclosure" for a in about_bases)
    await expect(details.locator('li.assumption[data-about="legal_bases"]').first).to_contain_text(
        "(about the disclosure's legal bases)"
    )
    rows = {"Lawful bases"} | (
        {"To"} if any(a["on"] == "to" for a in census["assumptions"]) else set()
    )
    await expect(details.locator("dt.assumed")).to_have_count(len(rows))
    assert {
        t.removesuffix(" †") for t in await details.locator("dt.assumed").all_inner_texts()
    } == rows
    # Each law a use rests on takes one line of the column, its full title on hover; opened,
    # the whole title shows.
    laws = details.locator("details.law > summary")
    assert await laws.count() >= 2
    lines = await laws.evaluate_all(
        "els => els.map(e => [e.getBoundingClientRect().height,"
        " parseFloat(getComputedStyle(e).fontSize), e.title === e.textContent])"
    )
    assert all(height < 2 * size and full for height, size, full in lines), lines

    # The DfE's onward sharing rests on the DfE's own bases, with their laws.
    await _select_edge(visit, "dfe", "approved-third-parties")
    await expect(details).to_contain_text(
        "Department for Education's own lawful basis, not Allestree Woodlands School's"
    )
    for citation in onward["citations"]:
        for ref in citation["restsOn"]:
            await expect(
                details.locator("li.citation").filter(has_text=ref["law"]["title"])
            ).to_have_count(1)
    longest = details.locator("details.law").filter(has_text="Prescribed Persons")
    await longest.locator("summary").click()
    await expect(longest).to_have_attribute("open", "")
    await visit.screenshot("lineage-citations")

    # The list under the map says the same in text.
    listed = page.locator('#recipients-list li[data-recipient="approved-third-parties"]')
    await expect(listed).to_contain_text("Department for Education's own lawful basis")
    for law in census_laws:
        await expect(listed).to_contain_text(law)
    assert await visit.axe() == []
    visit.assert_clean()
