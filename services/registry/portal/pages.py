"""GET /processors and /processors/{processor}: the public sub-processor lists.

The processor is named by id or name, in any case. `?asOf=YYYY-MM-DD` shows the list as it
stood on that day (and the changes announced by then); without it, today's. An unknown
processor is a 404 page, a date that is not one a 400 page, an unreachable database a 503.
With `ROPA_PUBLIC_READS=none` the lists are not public: both pages are 404 (docs/access.md).
"""

from __future__ import annotations

import asyncio
import datetime as dt

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from graph import subprocessor_changes as spc
from graph.database import Database
from graph.read import catalogue, engagements, organisations, refs
from graph.read import changes as read_changes
from schema.errors import DatabaseUnavailable, ErrorCode
from schema.graphql.records import RefKind
from schema.sub_processor_list import in_force, list_on
from schema.subscriptions import SubscriptionsUnavailable
from services.registry.portal.links import feed_path, lists_public
from services.registry.portal.render import page, problem, unpublished
from services.registry.portal.subscribe import Subscriptions

RECENT_CHANGES = 20
CHANGE_LABELS = {spc.ADDED: "Added", spc.CHANGED: "Changed", spc.REMOVED: "Removed"}
_UNAVAILABLE = (
    "Service unavailable",
    "The register's database cannot be reached just now; please try again in a minute.",
)


def _database(request: Request) -> Database:
    db: Database = request.app.state.database
    return db


async def processors_page(request: Request) -> Response:
    """Every processor whose sub-processor list is public, with how many are in force today."""
    if not lists_public(request):
        return unpublished(request)
    db = _database(request)
    today = dt.date.today()
    try:
        ids = await engagements.processors(db)
        found, lists = await asyncio.gather(
            organisations.organisations_by_id(db, ids),
            asyncio.gather(*(engagements.of_processor(db, i) for i in ids)),
        )
    except DatabaseUnavailable:
        return problem(request, 503, *_UNAVAILABLE)
    rows = [
        {
            "id": i,
            "name": found[i].name if i in found else i,
            "in_force": sum(1 for e in listed if in_force(e, today)),
        }
        for i, listed in zip(ids, lists, strict=True)
    ]
    return page(request, "processors.html", title="Sub-processor lists", processors=rows)


def _day(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


async def processor_page(request: Request) -> Response:
    """One processor's list: in force on the day, announced changes, recent changes."""
    if not lists_public(request):
        return unpublished(request)
    db = _database(request)
    as_of_text = request.query_params.get("asOf")
    day = _day(as_of_text) if as_of_text else dt.date.today()
    if day is None:
        return problem(
            request,
            400,
            "Not a date",
            f"asOf: '{as_of_text}' is not a date; give one as YYYY-MM-DD, e.g. 2022-06-01.",
        )
    ref = request.path_params["processor"]
    try:
        (resolved,) = await refs.resolve(db, RefKind.ORGANISATION, [ref])
        if isinstance(resolved, Exception):
            status = 404 if resolved.code == ErrorCode.NOT_FOUND else 400
            title = "No such processor" if status == 404 else "Ambiguous name"
            return problem(request, status, title, f"{resolved}.")
        listed, terms, data, recent = await asyncio.gather(
            engagements.of_processor(db, resolved),
            engagements.notice_terms(db, [resolved]),
            catalogue.reference_data(db),
            read_changes.feed(db, resolved, RECENT_CHANGES),
        )
        ids = sorted({resolved, *(e.sub_processor_id for e in listed)})
        named = await read_changes.recorded_organisations(db, ids)
        names = {i: o.name for i, o in (recent.organisations | named).items()}
    except DatabaseUnavailable:
        return problem(request, 503, *_UNAVAILABLE)
    name = names.get(resolved, resolved)
    if not listed and not recent.changes:
        return problem(
            request, 404, "No sub-processor list", f"{name} publishes no sub-processor list."
        )
    view = list_on(listed, terms, day)
    return page(
        request,
        "processor.html",
        title=f"Sub-processors of {name}",
        processor={"id": resolved, "name": name},
        view=view,
        as_of_given=as_of_text is not None,
        names=names,
        category_names={c.id: c.name for c in data.categories.values()},
        changes=recent.changes,
        change_labels=CHANGE_LABELS,
        feed_url=feed_path(resolved),
        form_token=_form_token(request, resolved),
    )


def _form_token(request: Request, processor_id: str) -> str | None:
    subscriptions: Subscriptions | None = getattr(request.app.state, "subscriptions", None)
    try:
        return None if subscriptions is None else subscriptions.form_token(processor_id)
    except SubscriptionsUnavailable:
        return None


ROUTES = [
    Route("/processors", processors_page, methods=["GET"]),
    Route("/processors/{processor}", processor_page, methods=["GET"]),
    Mount("/portal/static", StaticFiles(packages=[("services.registry.portal", "static")])),
]
