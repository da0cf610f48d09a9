"""HTML responses from the portal's templates (autoescaped Jinja2), and the error page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

_ENV = Environment(
    loader=PackageLoader("services.registry.portal", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _long_date(day: dt.date | None) -> str:
    return "" if day is None else f"{day.day} {day:%B %Y}"


_ENV.filters["long_date"] = _long_date


def page(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    """The template rendered with `values` (and the request), as an HTML response."""
    body = _ENV.get_template(template).render(request=request, **values)
    # Pages show today's list: a cache may keep one for a minute, not past midnight by much.
    headers = {"cache-control": "public, max-age=60"} if status == 200 else {}
    return HTMLResponse(body, status_code=status, headers=headers)


def unpublished(request: Request) -> HTMLResponse:
    """The answer of every portal route when the lists are not public."""
    return problem(
        request,
        404,
        "Not published",
        "This registry does not publish sub-processor lists (ROPA_PUBLIC_READS is none).",
    )


def problem(request: Request, status: int, title: str, detail: str) -> HTMLResponse:
    """A clear error page: what went wrong and why, never a traceback."""
    return page(request, "error.html", status=status, title=title, detail=detail)
