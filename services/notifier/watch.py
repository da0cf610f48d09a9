"""Watching the sub-processor lists organisations publish (their `sub_processor_list` URL).

Every `watch_interval` seconds per list the notifier fetches it politely: a conditional GET
(If-None-Match / If-Modified-Since from the last answer), to an address the webhook URL policy
allows (the host is resolved and every address checked, then the request pinned to it, as for
webhooks), no redirects, at most 1 MiB read. The body is JSON (a list of names, of objects with
a `name`, or an object holding such a list under `subProcessors`, `sub_processors`,
`subprocessors` or `items`) or an Atom or RSS feed (each entry's or item's title is a name).
Each name added or gone since the last fetch becomes a proposed change (graph.watched_lists)
for a DPO to confirm or dismiss; a 304 changes nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

import httpx

from graph import watched_lists
from graph.database import Database
from schema.errors import DatabaseUnavailable
from schema.webhook_url import InvalidWebhookUrl
from services.notifier.sender import Sender

log = logging.getLogger("ropa.notifier.watch")
MAX_BODY = 1024 * 1024
ACCEPT = "application/json, application/atom+xml, application/rss+xml, application/xml;q=0.9"
_LIST_KEYS = ("subProcessors", "sub_processors", "subprocessors", "items")


class UnreadableList(ValueError):
    """A body that is neither a JSON list of names nor an Atom or RSS feed."""


def _name(item: Any) -> str | None:
    if isinstance(item, str):
        return item.strip() or None
    if isinstance(item, dict):
        value = item.get("name") or item.get("title")
        return value.strip() if isinstance(value, str) and value.strip() else None
    return None


def parse_names(body: bytes, content_type: str) -> list[str]:
    """The names a published list holds (in order, without duplicates); UnreadableList."""
    text = body.lstrip()
    found: list[str | None]
    if "json" in content_type or text[:1] in (b"[", b"{"):
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise UnreadableList(f"not JSON: {exc}") from exc
        if isinstance(data, dict):
            data = next((data[k] for k in _LIST_KEYS if isinstance(data.get(k), list)), None)
        if not isinstance(data, list):
            raise UnreadableList("JSON without a list of sub-processors")
        found = [_name(item) for item in data]
    else:
        try:
            root = ET.fromstring(body)
        except ET.ParseError as exc:
            raise UnreadableList(f"neither JSON nor XML: {exc}") from exc
        atom = "{http://www.w3.org/2005/Atom}"
        titles = root.findall(f"{atom}entry/{atom}title") or root.findall("channel/item/title")
        if not titles and root.tag not in (f"{atom}feed", "rss"):
            raise UnreadableList(f"XML that is not an Atom or RSS feed ({root.tag})")
        found = [(t.text or "").strip() or None for t in titles]
    names: dict[str, str] = {}
    for name in found:
        if name is not None:
            names.setdefault(name.casefold(), name)
    return list(names.values())


@dataclass(frozen=True)
class Fetched:
    """A 200 with its body and validators, or a 304 (`body` None)."""

    body: bytes | None
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None


async def fetch(
    http: httpx.AsyncClient, sender: Sender, list_: watched_lists.WatchedList, seconds: float
) -> Fetched:
    """A conditional GET of the list, to a checked address; raises on any failure."""
    connection = await sender.connect(list_.url)
    headers = {"host": connection.host_header, "accept": ACCEPT}
    if list_.etag:
        headers["if-none-match"] = list_.etag
    if list_.last_modified:
        headers["if-modified-since"] = list_.last_modified
    extensions = {"sni_hostname": connection.server_name} if connection.server_name else {}
    request = http.build_request("GET", connection.url, headers=headers, extensions=extensions)
    async with asyncio.timeout(seconds):
        response = await http.send(request, stream=True)
        try:
            if response.status_code == 304:
                return Fetched(None)
            if response.status_code != 200:
                raise UnreadableList(f"HTTP {response.status_code}")
            body = b""
            async for chunk in response.aiter_raw():
                body += chunk
                if len(body) > MAX_BODY:
                    raise UnreadableList(f"longer than {MAX_BODY} bytes")
        finally:
            await response.aclose()
    return Fetched(
        body,
        response.headers.get("content-type", ""),
        response.headers.get("etag"),
        response.headers.get("last-modified"),
    )


class Watcher:
    """Polls every watched list that is due."""

    def __init__(
        self,
        db: Database,
        http: httpx.AsyncClient,
        sender: Sender,
        interval: float,
        timeout: float,
    ) -> None:
        self._db = db
        self._http = http
        self._sender = sender
        self._interval = interval
        self._timeout = timeout

    async def poll(self, force: bool = False) -> int:
        """Fetch each list due (every list, with `force`); how many differences were found."""
        now = dt.datetime.now(dt.UTC)
        due = [
            w
            for w in await self._db.read(watched_lists.watched_in)
            if force
            or w.checked_at is None
            or (now - w.checked_at).total_seconds() >= self._interval
        ]
        found = 0
        for watched in due:
            found += await self._one(watched, now)
        return found

    async def _one(self, watched: watched_lists.WatchedList, now: dt.datetime) -> int:
        try:
            fetched = await fetch(self._http, self._sender, watched, self._timeout)
            if fetched.body is None:
                await self._db.write(
                    watched_lists.checked_in, watched.organisation, watched.url, now
                )
                return 0
            names = parse_names(fetched.body, fetched.content_type)
        except (InvalidWebhookUrl, UnreadableList, httpx.HTTPError, TimeoutError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
            log.warning("watch %s (%s): %s", watched.organisation, watched.url, error)
            await self._db.write(
                watched_lists.checked_in, watched.organisation, watched.url, now, error
            )
            return 0
        differences = await self._db.write(
            watched_lists.record_in, watched, names, fetched.etag, fetched.last_modified, now
        )
        if differences:
            log.info("watch %s: %d difference(s) proposed", watched.organisation, len(differences))
        return len(differences)

    async def run(self, every: float) -> None:
        """Look for due lists every `every` seconds until cancelled."""
        while True:
            try:
                await self.poll()
            except DatabaseUnavailable as exc:
                log.warning("watch: %s; trying again", exc)
            except Exception:
                log.exception("watch: unexpected error; trying again")
            await asyncio.sleep(every)
