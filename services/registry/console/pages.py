"""The console's pages: one layout, no inline script (CSP `script-src 'self'`).

Each page is the layout with its own main content and scripts; data a page needs at start
(the explorer's tabs) travels as a JSON data block, which browsers never execute.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from string import Template
from typing import Any

from services.registry.console.tabs import TABS

PAGES = Path(__file__).resolve().parent / "pages"
STATIC_URL = "/console/static"


@cache
def _template(name: str) -> Template:
    return Template((PAGES / name).read_text(encoding="utf-8"))


def _scripts(names: tuple[str, ...]) -> str:
    return "".join(f'<script src="{STATIC_URL}/{name}"></script>\n' for name in names)


def _styles(names: tuple[str, ...]) -> str:
    return "".join(f'<link rel="stylesheet" href="{STATIC_URL}/{name}">\n' for name in names)


def _data(element_id: str, value: object) -> str:
    # `</` is escaped so that no value can close the element early.
    text = json.dumps(value).replace("</", "<\\/")
    return f'<script type="application/json" id="{element_id}">{text}</script>\n'


def page(
    name: str,
    title: str,
    *,
    session: bool = False,
    scripts: tuple[str, ...] = (),
    styles: tuple[str, ...] = (),
    data: str = "",
) -> str:
    """The page `pages/<name>.html` inside the layout; with `session`, its scripts ask
    /auth/me who is signed in (and for the CSRF header) and send the session cookie."""
    main = (PAGES / f"{name}.html").read_text(encoding="utf-8")
    return _template("layout.html").substitute(
        title=title,
        page=name,
        styles=_styles(styles),
        meta=SESSION_META if session else "",
        main=main,
        data=data,
        scripts=_scripts(scripts),
    )


EXPLORER_TITLE = "GraphQL explorer"
SESSION_PATH = "/auth/me"
SESSION_META = f'<meta name="ropa-session" content="{SESSION_PATH}">\n'


def has_sign_in(routes: list[Any]) -> bool:
    """Whether the app serves people's sessions (and so /auth/me)."""
    return any(getattr(route, "path", None) == SESSION_PATH for route in routes)


@cache
def explorer_page(session: bool = False) -> str:
    """GraphiQL with the ready tabs, from the registry's own files."""
    return page(
        "explorer",
        EXPLORER_TITLE,
        session=session,
        styles=("vendor/graphiql.min.css",),
        scripts=(
            "vendor/react.production.min.js",
            "vendor/react-dom.production.min.js",
            "vendor/graphiql.min.js",
            "vendor/graphql-ws.min.js",
            "explorer.js",
        ),
        data=_data("explorer-tabs", [tab.as_graphiql() for tab in TABS]),
    )


@cache
def dashboard_page(session: bool = False) -> str:
    """The compliance dashboard."""
    return page("dashboard", "Compliance dashboard", session=session, scripts=("dashboard.js",))


@cache
def lineage_page(session: bool = False) -> str:
    """The lineage map."""
    return page(
        "lineage",
        "Lineage map",
        session=session,
        scripts=("vendor/cytoscape.min.js", "lineage.js"),
    )


@cache
def notices_page(session: bool = False) -> str:
    """The index of the notices to publish."""
    return page("notices", "Privacy notices", session=session, scripts=("notices.js",))
