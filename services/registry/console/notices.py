"""Privacy notices to publish: one stable URL per controller and audience.

- `GET /notices/{controller}/{audience}`: the notice as an HTML page (`controller` an id or a
  name, in any case, as the API takes it; links and file names use its id) (its stylesheet linked,
  so that a `style-src 'self'` policy holds), with links to download it;
- `GET /notices/{controller}/{audience}.html` and `.md`: the same notice as a file (the HTML
  standalone, with its CSS inside), exactly what `ropa notice` writes;
- `?asOf=YYYY-MM-DD`: the notice of the processing valid that day (default today);
  `?recordedAt=` (a day or an ISO 8601 moment): in the record as recorded then (default now).

A notice is read like the record it is written from (docs/access.md): a principal reads the
notices of the registers in its scope; callers without one read them only where the registers
are published (`ROPA_PUBLIC_READS=all`), and are told to sign in otherwise (401). A published
notice carries the contact details that Article 13 requires it to give. A notice that would
print a placeholder the record holds is served as a draft, marked as one (`ropa notice` refuses
it without `--draft`).
"""

from __future__ import annotations

import datetime as dt

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from graph import to_document
from graph.database import Database
from schema import recorded_at
from schema.errors import DatabaseUnavailable, ErrorCode, NotFound
from schema.notice.assumptions import assumptions, mark
from schema.notice.compose import compose
from schema.notice.draft import as_draft, placeholders_printed
from schema.notice.model import Audience
from schema.notice.render import NoticeFormat, render, stylesheet, to_html
from services.registry.auth import request_principal, request_scope

STYLESHEET_PATH = "/notices/notice.css"
_FORMATS = {"html": NoticeFormat.HTML, "md": NoticeFormat.MARKDOWN}
_MEDIA = {NoticeFormat.HTML: "text/html; charset=utf-8", NoticeFormat.MARKDOWN: "text/markdown"}


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


async def notice_page(request: Request) -> Response:
    """The notice as a page, or (with an extension) as a download."""
    controller: str = request.path_params["controller"]
    name: str = request.path_params["audience"]
    audience_name, _, extension = name.partition(".")
    try:
        audience = Audience(audience_name)
    except ValueError:
        choices = ", ".join(a.value for a in Audience)
        return _error(
            404, ErrorCode.NOT_FOUND, f"audience {audience_name!r}: expected one of {choices}"
        )
    fmt = _FORMATS.get(extension) if extension else None
    if extension and fmt is None:
        return _error(404, ErrorCode.NOT_FOUND, f"format {extension!r}: expected html or md")
    raw = request.query_params.get("asOf") or ""
    try:
        day = dt.date.fromisoformat(raw) if raw else dt.date.today()
    except ValueError:
        return _error(
            400, ErrorCode.BAD_REQUEST, f"asOf: expected a date as YYYY-MM-DD, got {raw!r}"
        )
    try:
        at = recorded_at.parse(request.query_params.get("recordedAt"), dt.datetime.now(dt.UTC))
    except recorded_at.BadRecordedAt as exc:
        return _error(400, exc.code, str(exc))
    database: Database = request.app.state.database
    scope = request_scope(request)
    try:
        # `controller` is an id or a name, resolved as the API and the CLI resolve it; the
        # document names the controller's id, which the notice, its links and files use.
        doc = await to_document.controller_document(database, controller, at, scope.registers)
        controller = doc.register_info.owner
        notice = mark(
            compose(doc, controller, audience, day), assumptions(doc, controller, audience, day)
        )
        # A notice that would print a placeholder is never served as if published.
        found = placeholders_printed(doc, notice)
        if found:
            notice = as_draft(notice, found)
    except (NotFound, to_document.ControllerAmbiguous) as exc:
        if request_principal(request) is None and not scope.everything:
            return _error(
                401,
                ErrorCode.UNAUTHENTICATED,
                "this registry does not publish its notices (ROPA_PUBLIC_READS); "
                "sign in, or give a bearer token, to read those of your registers",
            )
        return _error(404, exc.code, str(exc))
    except DatabaseUnavailable as exc:
        return _error(503, exc.code, "Neo4j is unavailable")
    if fmt is not None:
        filename = f"privacy-notice-{controller}-{audience.value}-{day.isoformat()}.{extension}"
        return Response(
            render(notice, fmt),
            media_type=_MEDIA[fmt],
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    query = f"?asOf={day.isoformat()}" if raw else ""
    base = f"/notices/{controller}/{audience.value}"
    page = to_html(
        notice,
        stylesheet_href=STYLESHEET_PATH,
        downloads={"HTML": f"{base}.html{query}", "Markdown": f"{base}.md{query}"},
    )
    return HTMLResponse(page)


async def notice_stylesheet(request: Request) -> Response:
    """The notices' CSS."""
    return Response(stylesheet(), media_type="text/css")


NOTICE_ROUTES: list[BaseRoute] = [
    Route(STYLESHEET_PATH, notice_stylesheet, methods=["GET"]),
    Route("/notices/{controller}/{audience}", notice_page, methods=["GET"]),
]
