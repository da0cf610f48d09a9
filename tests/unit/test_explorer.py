"""The explorer page: strawberry's GraphiQL, opened with the registry's example query."""

from __future__ import annotations

import json

from strawberry.http.ides import get_graphql_ide_html

from services.registry.explorer import DEFAULT_QUERY, TITLE, explorer_html


def test_explorer_opens_with_the_safeguarding_question() -> None:
    html = explorer_html(get_graphql_ide_html("graphiql"))
    assert f"const EXAMPLE_QUERY = {json.dumps(DEFAULT_QUERY)};" in html
    assert f"<title>{TITLE}</title>" in html
    assert "Welcome to GraphiQL" not in html
    assert 'recipients(category: "safeguarding")' in DEFAULT_QUERY


def test_a_query_cannot_close_the_script() -> None:
    html = explorer_html(get_graphql_ide_html("graphiql"), query="# </script><b>x</b>\n{ a }")
    assert "</script><b>" not in html


def test_an_unrecognised_page_is_served_as_it_is() -> None:
    assert explorer_html("<html>other</html>") == "<html>other</html>"
