"""GET /processors and /processors/{processor}: the public sub-processor lists.

The processor is named by id or name, in any case. `?asOf=YYYY-MM-DD` shows the list as it
stood on that day (and the changes announced by then); without it, today's. `?recordedAt=` (a
day, meaning its end, or an ISO 8601 moment) reads the lists as they were recorded then,
rebuilt from the change log (schema.recorded_at), names included, with the changes recorded
by then; without it, the current record. An unknown processor is a 404 page, a date that is
not one (or a recordedAt in the future) a 400 page, an unreachable database a 503.
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
from graph.read import catalogue, engagements, organisations, recorded, refs
from graph.read import changes as read_changes
from schema import recorded_at
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


class _BadQuery(ValueError):
    """A query parameter that is not what it should be; its message says why."""


def _when(request: Request) -> tuple[dt.date, dt.datetime | None]:
    """The day (`asOf`, default today) and the record (`recordedAt`, default the current)."""
    as_of_text = request.query_params.get("asOf")
    day = _day(as_of_text) if as_of_text else dt.date.today()
    if day is None:
        raise _BadQuery(
            f"asOf: '{as_of_text}' is not a date; give one as YYYY-MM-DD, e.g. 2022-06-01."
        )
    try:
        at = recorded_at.parse(request.query_params.get("recordedAt"), dt.datetime.now(dt.UTC))
    except recorded_at.BadRecordedAt as exc:
        raise _BadQuery(f"{exc}.") from exc
    return day, at


async def processors_page(request: Request) -> Response:
    """Every processor whose sub-processor list is public, with how many are in force on the
    day (today by default), in the record read."""
    if not lists_public(request):
        return unpublished(request)
    db = _database(request)
    try:
        today, at = _when(request)
    except _BadQuery as exc:
        return problem(request, 400, "Not a date", str(exc))
    try:
        if at is None:
            ids = await engagements.processors(db)
            found, lists = await asyncio.gather(
                organisations.organisations_by_id(db, ids),
                asyncio.gather(*(engagements.of_processor(db, i) for i in ids)),
            )
        else:
            past = await recorded.record_at(db, None, at)
            ids = recorded.processors(past)
            found = past.organisations
            lists = [recorded.engagements_of(past, i) for i in ids]
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
    try:
        day, at = _when(request)
    except _BadQuery as exc:
        return problem(request, 400, "Not a date", str(exc))
    ref = request.path_params["processor"]
    try:
        past = None if at is None else await recorded.record_at(db, None, at)
        if past is None or at is None:
            (resolved,) = await refs.resolve(db, RefKind.ORGANISATION, [ref])
        else:
            resolved = recorded.resolve(past, RefKind.ORGANISATION, ref, at)
        if isinstance(resolved, Exception):
            status = 404 if resolved.code == ErrorCode.NOT_FOUND else 400
            title = "No such processor" if status == 404 else "Ambiguous name"
            return problem(request, status, title, f"{resolved}.")
        if past is None:
            listed, terms, data, recent = await asyncio.gather(
                engagements.of_processor(db, resolved),
                engagements.notice_terms(db, [resolved]),
                catalogue.reference_data(db),
                read_changes.feed(db, resolved, RECENT_CHANGES),
            )
            ids = sorted({resolved, *(e.sub_processor_id for e in listed)})
            named = await read_changes.recorded_organisations(db, ids)
        else:
            # The list, its terms, names and categories as recorded then; the changes by then.
            listed = recorded.engagements_of(past, resolved)
            terms = recorded.notice_terms(past, [resolved]).get(resolved, [])
            data = past.reference
            recent = await read_changes.feed(db, resolved, RECENT_CHANGES, at)
            named = past.organisations
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
        recorded_at=at,
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
