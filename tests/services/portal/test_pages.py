"""The public pages: /processors and /processors/{processor}, today and on other days."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import httpx
import pytest

from graph.database import Database
from schema.access.policy import PublicReads
from services.registry.app import create_app
from services.registry.settings import RegistrySettings
from tests.services.portal.conftest import OBJECTION_WINDOW, TODAY, day

pytestmark = pytest.mark.neo4j


class _Page(HTMLParser):
    """The text of each table body row (cells joined by |), the links, and any inline script."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[str] = []
        self.links: list[str] = []
        self.scripts = 0
        self.styles = 0
        self._cells: list[str] | None = None
        self._in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self._cells = []
        elif tag == "td" and self._cells is not None:
            self._cells.append("")
        elif tag == "a" and found.get("href"):
            self.links.append(str(found["href"]))
        elif tag == "script":
            self.scripts += 1
        if "style" in found or tag == "style":
            self.styles += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self._in_body = False
        elif tag == "tr" and self._cells is not None:
            self.rows.append(" | ".join(c.strip() for c in self._cells))
            self._cells = None

    def handle_data(self, data: str) -> None:
        if self._cells:
            self._cells[-1] += data


def _parse(html: str) -> _Page:
    parsed = _Page()
    parsed.feed(html)
    return parsed


def _long(offset: int) -> str:
    d = TODAY + dt.timedelta(days=offset)
    return f"{d.day} {d:%B %Y}"


async def _get(client: httpx.AsyncClient, path: str, status: int = 200) -> _Page:
    response = await client.get(path)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    page = _parse(response.text)
    assert page.scripts == 0
    assert page.styles == 0
    assert '<html lang="en">' in response.text
    return page


async def test_list_of_processors(portal_register: Database, client: httpx.AsyncClient) -> None:
    page = await _get(client, "/processors")
    assert page.rows == ["Portal Co Ltd | 1 | Atom feed of Portal Co Ltd"]
    assert "/processors/portal-co" in page.links
    assert "/feeds/subprocessors/portal-co.atom" in page.links


async def test_page_today(portal_register: Database, client: httpx.AsyncClient) -> None:
    response = await client.get("/processors/PORTAL%20CO%20LTD")
    assert response.status_code == 200
    assert "Stats &lt;Co&gt; Ltd" in response.text  # escaped, never markup
    page = _parse(response.text)
    in_force, backups, announced = page.rows[0], page.rows[1], page.rows[2]
    assert backups.startswith("Hosting Co Ltd | Added | Backups")
    assert in_force == (f"Hosting Co Ltd | Hosting | Pupil data | United Kingdom | {_long(-400)}")
    assert announced == (
        f"Stats <Co> Ltd | Added | Usage statistics | Contact details | Germany | {_long(-5)} | "
        f"{_long(25)} | {_long(-5 + OBJECTION_WINDOW)}"
    )
    assert "/feeds/subprocessors/portal-co.atom" in page.links
    # The recent changes link to the list as of the day each takes effect.
    assert f"/processors/portal-co?asOf={day(25)}" in page.links


async def test_page_as_of_three_days(portal_register: Database, client: httpx.AsyncClient) -> None:
    """Before the mailer ended, after it, and once the announced engagement is due."""
    before = await _get(client, f"/processors/portal-co?asOf={day(-20)}")
    assert [r.split(" | ")[0] for r in before.rows[:2]] == ["Hosting Co Ltd", "Mail Co Ltd"]
    # The mailer's end (until day -10) was announced and not yet in force on day -20.
    assert any(r.startswith("Mail Co Ltd | Removed") and _long(-9) in r for r in before.rows)
    today = await _get(client, f"/processors/portal-co?asOf={day(0)}")
    assert today.rows[0].startswith("Hosting Co Ltd")
    assert not any(r.startswith("Mail Co Ltd | Sending") for r in today.rows)
    later = await _get(client, f"/processors/portal-co?asOf={day(30)}")
    # Still proposed: not in force until confirmed active (the notifier does that when due).
    assert later.rows[0].startswith("Hosting Co Ltd")
    assert any(r.startswith("Stats <Co> Ltd | Added") for r in later.rows)


async def test_bad_date_and_unknown_processor(
    portal_register: Database, client: httpx.AsyncClient
) -> None:
    response = await client.get("/processors/portal-co?asOf=2024-13-01")
    assert response.status_code == 400
    assert "asOf: &#39;2024-13-01&#39; is not a date" in response.text
    response = await client.get("/processors/no-such-company")
    assert response.status_code == 404
    assert re.search(r"no-such-company", response.text)
    # An organisation that engages no one publishes no list.
    response = await client.get("/processors/hosting-co")
    assert response.status_code == 404
    assert "publishes no sub-processor list" in response.text


async def test_stylesheet_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/portal/static/portal.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")


async def test_feed_links_to_page(portal_register: Database, client: httpx.AsyncClient) -> None:
    feed = (await client.get("/feeds/subprocessors/portal-co.atom")).text
    assert 'rel="alternate" type="text/html" href="http://registry/processors/portal-co"' in feed
    assert 'href="http://registry/processors/portal-co#change-' in feed


async def test_nothing_published_when_public_reads_are_none(
    portal_register: Database, registry_settings: RegistrySettings
) -> None:
    closed = create_app(registry_settings.model_copy(update={"public_reads": PublicReads.NONE}))
    async with closed.router.lifespan_context(closed):
        transport = httpx.ASGITransport(app=closed)
        async with httpx.AsyncClient(transport=transport, base_url="http://registry") as http:
            for path in ("/processors", "/processors/portal-co"):
                response = await http.get(path)
                assert response.status_code == 404
                assert "does not publish sub-processor lists" in response.text
