"""GET /export/ropa.{csv,xlsx,json}: the record of processing activities over HTTP.

Query parameters, as for `ropa export`: `controller` (default: the one register owner), `asOf`
(YYYY-MM-DD; default: today): the processing valid that day, and `recordedAt` (a day, meaning
its end, or an ISO 8601 moment; default: now): in the record as it was recorded then. CSV and XLSX
carry the ICO template's columns; JSON carries the same tables keyed by column heading.

Wire it with `EXPORT_ROUTE` (it reads `request.app.state.database`), or call `export_ropa`.
The route needs a principal (401 without one) and exports only the registers in its scope.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from graph import to_document
from graph.database import Database
from graph.read.refs import AmbiguousReference
from schema import recorded_at
from schema.errors import DatabaseUnavailable, DocumentInvalid, ErrorCode, NotFound, RopaError
from schema.ropa_export.formats import ExportFormat, render
from schema.ropa_export.records import build_export
from services.registry.auth import request_principal

_AS_OF_NAMES = ("asOf", "as_of", "as-of")


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def _as_of(params: Mapping[str, str]) -> dt.date | None:
    value = next((params[name] for name in _AS_OF_NAMES if name in params), None)
    if value is None or value == "":
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"asOf: expected a date as YYYY-MM-DD, got {value!r}") from exc


async def export_ropa(
    db: Database,
    extension: str,
    params: Mapping[str, str],
    today: dt.date | None = None,
    scope: frozenset[str] | None = None,
) -> Response:
    """The export in the format its extension names (csv, xlsx, json); errors as JSON bodies.

    Only the controller's registers in `scope` (None: all) are exported; a controller with none
    in scope is 404, as if unknown.

    Reads the graph in one read transaction; 400 for a bad format or date, or when a
    controller must be named; 404 for an unknown controller; 503 when Neo4j is unreachable.
    """
    try:
        fmt = ExportFormat.from_extension(extension)
        as_of = _as_of(params)
    except ValueError as exc:
        return _error(400, ErrorCode.BAD_REQUEST, str(exc))
    try:
        at = recorded_at.parse(params.get("recordedAt"), dt.datetime.now(dt.UTC))
    except recorded_at.BadRecordedAt as exc:
        return _error(400, exc.code, str(exc))
    controller = params.get("controller") or None
    try:
        doc = await to_document.controller_document(db, controller, at, scope)
        owner = doc.register_info.owner if controller is not None else None
        record = build_export(doc, as_of or today or dt.date.today(), owner)
    except NotFound as exc:
        return _error(404, exc.code, str(exc))
    except (to_document.ControllerAmbiguous, AmbiguousReference) as exc:
        return _error(400, exc.code, str(exc))
    except DatabaseUnavailable as exc:
        return _error(503, exc.code, "Neo4j is unavailable")
    except (DocumentInvalid, RopaError) as exc:
        return _error(500, exc.code, str(exc))
    name = f"ropa-{record.controller_id}-{record.as_of.isoformat()}.{fmt.extension}"
    disposition = "inline" if fmt is ExportFormat.JSON else "attachment"
    return Response(
        render(record, fmt),
        media_type=fmt.media_type,
        headers={"Content-Disposition": f'{disposition}; filename="{name}"'},
    )


async def export_endpoint(request: Request) -> Response:
    """The Starlette endpoint: the database from `app.state.database`, format from the path.

    The record names people (contacts, DPOs), so it needs a principal, whatever
    ROPA_PUBLIC_READS says, and carries only the registers in its scope."""
    principal = request_principal(request)
    if principal is None:
        return _error(
            401,
            ErrorCode.UNAUTHENTICATED,
            "the export needs a bearer token (Authorization: Bearer <token>); none was given, "
            "or it is not a configured token",
        )
    database: Database = request.app.state.database
    return await export_ropa(
        database,
        request.path_params["extension"],
        request.query_params,
        scope=principal.registers,
    )


EXPORT_ROUTE = Route("/export/ropa.{extension}", export_endpoint, methods=["GET"])
