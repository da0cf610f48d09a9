"""The explorer page: GraphiQL from the registry's own files, with the DPO's questions as tabs."""

from __future__ import annotations

import json
import re

from graphql import parse, validate

from schema.graphql.schema import build_schema
from services.registry.console.pages import explorer_page
from services.registry.console.tabs import TABS


def _tabs(html: str) -> list[dict[str, str]]:
    found = re.search(r'<script type="application/json" id="explorer-tabs">(.*?)</script>', html)
    assert found is not None
    tabs: list[dict[str, str]] = json.loads(found.group(1))
    return tabs


def test_the_page_loads_only_its_own_files_and_has_no_inline_script() -> None:
    html = explorer_page()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources, html
    assert all(s[0] in "/#" and not s.startswith("//") for s in sources), sources
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.DOTALL)
    for attributes, body in scripts:
        assert "src=" in attributes or 'type="application/json"' in attributes
        assert "src=" not in attributes or body == ""


def test_the_first_tab_asks_who_receives_safeguarding_data() -> None:
    tabs = _tabs(explorer_page())
    assert [t["query"] for t in tabs] == [t.query for t in TABS]
    assert "recipients(" in tabs[0]["query"]
    assert 'category: "safeguarding"' in tabs[0]["query"]


def test_a_tab_cannot_close_the_script() -> None:
    html = explorer_page()
    assert html.count("</script>") == html.count("<script")


def test_every_tab_is_valid_against_the_schema() -> None:
    schema = build_schema()._schema
    for tab in TABS:
        errors = validate(schema, parse(tab.query))
        assert not errors, (tab.query.splitlines()[0], errors)
