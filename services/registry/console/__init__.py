"""The DPO's console, served by the registry at its own origin: dashboard, lineage map, explorer.

The pages read only the public GraphQL API. Their front-end libraries come from npm (pinned by
package-lock.json beside this file) and are copied into static/vendor/ by `make console`.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from services.registry.console.notices import NOTICE_ROUTES
from services.registry.console.pages import (
    dashboard_page,
    has_sign_in,
    lineage_page,
    notices_page,
)

STATIC = Path(__file__).resolve().parent / "static"


async def dashboard(request: Request) -> Response:
    """GET / and /dashboard."""
    return HTMLResponse(dashboard_page(has_sign_in(request.app.routes)))


async def lineage(request: Request) -> Response:
    """GET /lineage."""
    return HTMLResponse(lineage_page(has_sign_in(request.app.routes)))


async def notices(request: Request) -> Response:
    """GET /notices."""
    return HTMLResponse(notices_page(has_sign_in(request.app.routes)))


async def favicon(request: Request) -> Response:
    """GET /favicon.ico: the console's icon, for pages (notices, feeds, JSON) that link none
    and browsers that ask for it anyway; an SVG, which browsers take by its media type."""
    return FileResponse(
        STATIC / "favicon.svg",
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )


async def _not_built(request: Request) -> Response:
    # A checkout where `make console` has not run: say what to do instead of a bare 404.
    return PlainTextResponse(
        "The console's front-end files are not built: run `make console`.", 503
    )


def console_routes() -> list[BaseRoute]:
    """The console's routes, to add to the registry's."""
    routes: list[BaseRoute] = [
        Route("/", dashboard, methods=["GET"]),
        Route("/dashboard", dashboard, methods=["GET"]),
        Route("/lineage", lineage, methods=["GET"]),
        Route("/notices", notices, methods=["GET"]),
        Route("/favicon.ico", favicon, methods=["GET"]),
        *NOTICE_ROUTES,
    ]
    if not (STATIC / "vendor").is_dir():
        routes.append(Route("/console/static/vendor/{path:path}", _not_built))
    routes.append(Mount("/console/static", StaticFiles(directory=STATIC), name="console-static"))
    return routes
