"""GET /feeds/subprocessors/{processor}.atom: a processor's sub-processor changes as Atom 1.0.

The processor is named by id or name, in any case (URL-encoded); an unknown one is a 404 in
plain text. The feed holds the latest 100 changes, newest first: each entry's id is
`urn:uuid:` and the change's id (the same as the webhook-id and the GraphQL `id`), `updated` is
when the change was recorded, and the content says what changed and from when it takes effect.
The feed's own id is a name-based UUID of the processor's id, so it never changes.

`?recordedAt=` (a day, meaning its end, or an ISO 8601 moment) gives the feed as it stood
then: the latest 100 changes recorded before that moment (the log only grows, so that is
exactly what a reader fetching it then was served, but for names changed since, which are
today's). The processor in the URL is then named as in the record then: by a name it had
then (a 404 for one given only since). A recordedAt in the future or not a moment is a 400 in
plain text.

The XML is built with the standard library's ElementTree: a feed is a handful of elements,
and no third-party generator is needed for that.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid
import xml.etree.ElementTree as ET

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from graph.database import Database
from graph.read import changes as read_changes
from graph.read import recorded, refs
from schema import recorded_at
from schema.access.policy import ReadScope
from schema.change_text import WITHHELD, describe, stamp
from schema.document import OrganisationKind
from schema.errors import DatabaseUnavailable, ErrorCode
from schema.graphql.records import OrganisationRecord, RefKind
from services.registry.auth import request_scope
from services.registry.portal.links import page_path, public_base

ATOM = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml; charset=utf-8"
LIMIT = 100
_FEED_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:ropa-registry:subprocessor-feeds")
# Characters XML 1.0 cannot carry at all; user text is stripped of them.
_NOT_XML = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: _clean(v) for k, v in attrs.items()})
    if text is not None:
        element.text = _clean(text)
    return element


def _urn(event_id: str) -> str:
    try:
        return uuid.UUID(event_id).urn
    except ValueError:
        return uuid.uuid5(_FEED_NAMESPACE, event_id).urn


def _name(organisations: dict[str, OrganisationRecord], org_id: str) -> str:
    found = organisations.get(org_id)
    return found.name if found is not None else org_id


def atom_feed(
    processor: OrganisationRecord,
    found: read_changes.FeedChanges,
    self_url: str,
    now: dt.datetime,
    page_url: str | None = None,
) -> bytes:
    """The Atom document of a processor's changes (newest first, as given); with `page_url`,
    the feed and each entry link to the processor's public page."""
    # Unqualified names under a default namespace declared on the root: every element is Atom's.
    feed = ET.Element("feed", xmlns=ATOM)
    _el(feed, "id", uuid.uuid5(_FEED_NAMESPACE, processor.id).urn)
    _el(feed, "title", f"Sub-processors of {processor.name}")
    _el(feed, "subtitle", f"Changes to the sub-processors {processor.name} engages, newest first")
    latest = found.changes[0].occurred_at if found.changes else now
    _el(feed, "updated", stamp(latest))
    _el(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    if page_url is not None:
        _el(feed, "link", rel="alternate", type="text/html", href=page_url)
    author = _el(feed, "author")
    _el(author, "name", "ROPA registry")
    _el(feed, "generator", "ropa-registry")
    for change in found.changes:
        sub = _name(found.organisations, change.sub_processor)
        owner = _name(found.organisations, change.processor)
        entry = _el(feed, "entry")
        _el(entry, "id", _urn(change.id))
        _el(entry, "title", f"{change.type}: {sub} as sub-processor of {owner}")
        _el(entry, "updated", stamp(change.occurred_at))
        _el(entry, "published", stamp(change.occurred_at))
        by = _el(entry, "author")
        _el(by, "name", change.actor)
        if page_url is not None:
            _el(
                entry,
                "link",
                rel="alternate",
                type="text/html",
                href=f"{page_url}#change-{change.id}",
            )
        _el(entry, "category", term=change.type)
        _el(entry, "content", describe(change, sub, owner), type="text")
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return body


def _as_seen(found: read_changes.FeedChanges, scope: ReadScope) -> read_changes.FeedChanges:
    # Public while processors' lists are (ROPA_PUBLIC_READS), else the caller's registers'
    # changes and those to its own processing's sub-processors (ReadScope.reads_engagement);
    # the actor (a person) only to those whose scope holds the change's register.
    changes = [
        c if scope.reads_people(c.registers) else dataclasses.replace(c, actor=WITHHELD)
        for c in found.changes
        if scope.reads_engagement(c.registers, c.activity_registers)
    ]
    return dataclasses.replace(found, changes=changes)


async def processor_feed(request: Request) -> Response:
    """The handler of FEED_ROUTE."""
    db: Database = request.app.state.database
    ref = request.path_params["processor"]
    try:
        at = recorded_at.parse(request.query_params.get("recordedAt"), dt.datetime.now(dt.UTC))
    except recorded_at.BadRecordedAt as exc:
        return PlainTextResponse(f"{exc}\n", status_code=400)
    try:
        if at is None:
            (resolved,) = await refs.resolve(db, RefKind.ORGANISATION, [ref])
        else:
            # The name the processor had then, as the portal's page resolves it.
            past = await recorded.record_at(db, None, at)
            resolved = recorded.resolve(past, RefKind.ORGANISATION, ref, at)
        if isinstance(resolved, Exception):
            status = 404 if resolved.code == ErrorCode.NOT_FOUND else 400
            return PlainTextResponse(f"{resolved}\n", status_code=status)
        found = _as_seen(await read_changes.feed(db, resolved, LIMIT, at), request_scope(request))
    except DatabaseUnavailable:
        return PlainTextResponse("the register's database is unavailable; retry shortly\n", 503)
    processor = found.organisations.get(resolved) or OrganisationRecord(
        id=resolved, name=resolved, kind=OrganisationKind.OTHER
    )
    page_url = public_base(request) + page_path(resolved)
    body = atom_feed(processor, found, str(request.url), dt.datetime.now(dt.UTC), page_url)
    return Response(body, media_type=MEDIA_TYPE)


FEED_ROUTE = Route("/feeds/subprocessors/{processor}.atom", processor_feed, methods=["GET"])
