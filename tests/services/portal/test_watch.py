"""Watching a vendor's published sub-processor list, served by a real HTTP server on loopback:
a baseline, conditional GETs answered 304, differences proposed, a DPO's decisions."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from graph import changes, from_document, register, watched_lists
from graph.database import Database
from graph.neo4j_server import free_port
from schema.validation import parse_document
from schema.webhook_url import TargetPolicy
from services.notifier.sender import Sender, client
from services.notifier.watch import UnreadableList, Watcher, parse_names
from tests.services.conftest import DPO_TOKEN, ELSEWHERE_DPO_TOKEN, GraphQL
from tests.services.portal.conftest import TODAY, day, document

pytestmark = pytest.mark.neo4j


class Vendor:
    """Serves a list at /subprocessors.json with an ETag, and records the conditional GETs."""

    def __init__(self) -> None:
        self.port = free_port()
        self.body = b"[]"
        self.requests: list[dict[str, str]] = []
        vendor = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                vendor.requests.append(headers)
                etag = f'"{hash(vendor.body) & 0xFFFFFFFF:x}"'
                if headers.get("if-none-match") == etag:
                    self.send_response(304)
                    self.send_header("etag", etag)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("etag", etag)
                self.send_header("content-length", str(len(vendor.body)))
                self.end_headers()
                self.wfile.write(vendor.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        """The published list."""
        return f"http://127.0.0.1:{self.port}/subprocessors.json"

    def publish(self, names: list[str]) -> None:
        """Serve this list from now on."""
        self.body = json.dumps({"subProcessors": [{"name": n} for n in names]}).encode()

    def stop(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def vendor() -> Iterator[Vendor]:
    """A vendor's web server on loopback."""
    found = Vendor()
    yield found
    found.stop()


@pytest.fixture
async def watched(db: Database, vendor: Vendor) -> Database:
    """The portal register, where Hosting Co names the vendor's list."""
    doc = document()
    doc["organisations"] = [
        {**o, "sub_processor_list": vendor.url} if o["id"] == "hosting-co" else o
        for o in doc["organisations"]
    ]
    parsed = parse_document(json.dumps(doc))
    await register.apply(db, "school", from_document.entities(parsed), "tests")
    return db


@pytest.fixture
async def watcher(watched: Database) -> AsyncIterator[Watcher]:
    """The notifier's watcher, allowed to fetch from loopback."""
    policy = TargetPolicy(allow_loopback=True)
    async with client(5.0, 4) as http:
        yield Watcher(watched, http, Sender(http, policy, 5.0), 3600.0, 5.0)


def test_names_from_json_atom_and_rss() -> None:
    assert parse_names(b'["A Ltd", "B Ltd", "a ltd"]', "application/json") == ["A Ltd", "B Ltd"]
    assert parse_names(b'{"items": [{"title": "C"}]}', "") == ["C"]
    atom = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>D Ltd</title></entry>'
        b"<entry><title>E Ltd</title></entry></feed>"
    )
    assert parse_names(atom, "application/atom+xml") == ["D Ltd", "E Ltd"]
    rss = b"<rss><channel><item><title>F Ltd</title></item></channel></rss>"
    assert parse_names(rss, "application/rss+xml") == ["F Ltd"]
    with pytest.raises(UnreadableList):
        parse_names(b"<html></html>", "text/html")
    with pytest.raises(UnreadableList):
        parse_names(b'{"nothing": 1}', "application/json")


async def test_differences_proposed_politely(
    watched: Database, watcher: Watcher, vendor: Vendor
) -> None:
    vendor.publish(["Cloud Ltd", "Backup Ltd"])
    assert await watcher.poll() == 0  # the baseline
    assert await watcher.poll() == 0  # not due again within the interval: no request
    assert len(vendor.requests) == 1
    assert await watcher.poll(force=True) == 0  # due: a conditional GET, answered 304
    assert vendor.requests[-1]["if-none-match"]
    vendor.publish(["Cloud Ltd", "Analytics Ltd"])
    assert await watcher.poll(force=True) == 2
    found = await watched.read(watched_lists.changes_in, "hosting-co", "pending")
    assert [(c.kind, c.name, c.url) for c in found] == [
        ("added", "Analytics Ltd", vendor.url),
        ("removed", "Backup Ltd", vendor.url),
    ]


async def test_a_refused_target_is_not_fetched(watched: Database, vendor: Vendor) -> None:
    async with client(5.0, 4) as http:
        strict = Watcher(watched, http, Sender(http, TargetPolicy(), 5.0), 3600.0, 5.0)
        assert await strict.poll() == 0
    assert vendor.requests == []


async def test_a_dpo_confirms_or_dismisses(
    watched: Database,
    watcher: Watcher,
    vendor: Vendor,
    as_user: Callable[[str | None], GraphQL],
) -> None:
    vendor.publish(["Cloud Ltd"])
    await watcher.poll()
    vendor.publish(["Cloud Ltd", "Analytics Ltd", "Mail Ltd"])
    assert await watcher.poll(force=True) == 2
    post = as_user(DPO_TOKEN)
    listed = await post(
        '{ listChanges(organisation: "Hosting Co Ltd", status: PENDING) '
        "{ id kind name status organisation { id } } }"
    )
    changes = listed["data"]["listChanges"]
    assert [(c["kind"], c["name"]) for c in changes] == [
        ("ADDED", "Analytics Ltd"),
        ("ADDED", "Mail Ltd"),
    ]
    decide = (
        "mutation ($id: ID!) { %s(id: $id) { change { status decidedBy } errors { message } } }"
    )
    confirmed = await post(decide % "confirmListChange", id=changes[0]["id"])
    assert confirmed["data"]["confirmListChange"]["change"] == {
        "status": "CONFIRMED",
        "decidedBy": "dpo-alice",
    }
    dismissed = await post(decide % "dismissListChange", id=changes[1]["id"])
    assert dismissed["data"]["dismissListChange"]["change"]["status"] == "DISMISSED"
    missing = await post(decide % "dismissListChange", id="nope")
    assert missing["data"]["dismissListChange"]["errors"][0]["message"].startswith("no ")
    anonymous = await as_user(None)("{ listChanges { id } }")
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_only_a_dpo_of_a_declaring_register_decides(
    watched: Database,
    watcher: Watcher,
    vendor: Vendor,
    as_user: Callable[[str | None], GraphQL],
) -> None:
    vendor.publish(["Cloud Ltd"])
    await watcher.poll()
    vendor.publish(["Cloud Ltd", "Analytics Ltd"])
    assert await watcher.poll(force=True) == 1
    [change] = await watched.read(watched_lists.changes_in, "hosting-co", "pending")
    decide = "mutation ($id: ID!) { dismissListChange(id: $id) { change { status } } }"
    refused = await as_user(ELSEWHERE_DPO_TOKEN)(decide, id=change.id)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN", refused
    assert "no register that owns it" in refused["errors"][0]["message"]
    [still] = await watched.read(watched_lists.changes_in, "hosting-co", None)
    assert (still.status, still.decided_by) == ("pending", None)
    accepted = await as_user(DPO_TOKEN)(decide, id=change.id)
    assert accepted["data"]["dismissListChange"]["change"]["status"] == "DISMISSED"


CONFIRM = """
mutation ($id: ID!) { confirmListChange(id: $id) {
  change { status engagement { id processor { id } subProcessor { name } since until status } }
  errors { field message } } }
"""
DISMISS = (
    "mutation ($id: ID!) { dismissListChange(id: $id) { change { status engagement { id } } } }"
)


async def _engagement_events(db: Database) -> list[changes.ChangeEvent]:
    return [e for e in await db.read(changes.read_after, 0, 1000) if e.entity_type == "Engagement"]


async def test_confirming_engages_or_ends_and_dismissing_does_nothing(
    db: Database, vendor: Vendor, as_user: Callable[[str | None], GraphQL]
) -> None:
    doc = document()
    doc["organisations"] = [
        {**o, "sub_processor_list": vendor.url} if o["id"] == "hosting-co" else o
        for o in doc["organisations"]
    ]
    # Hosting Co's own sub-processor, which its published list will drop.
    doc["engagements"].append(
        {
            "id": "hosting-mail",
            "processor": "hosting-co",
            "sub_processor": "mail-co",
            "purpose": "Alerts",
            "since": day(-100),
        }
    )
    await register.apply(db, "school", from_document.entities(parse_document(json.dumps(doc))), "t")
    policy = TargetPolicy(allow_loopback=True)
    async with client(5.0, 4) as http:
        watcher = Watcher(db, http, Sender(http, policy, 5.0), 3600.0, 5.0)
        vendor.publish(["Mail Co Ltd", "Cloud Ltd"])
        await watcher.poll()
        vendor.publish(["Cloud Ltd", "Analytics Ltd", "Backup Ltd"])
        assert await watcher.poll(force=True) == 3
    pending = {c.name: c for c in await db.read(watched_lists.changes_in, "hosting-co", None)}
    before = len(await _engagement_events(db))
    post = as_user(DPO_TOKEN)

    added = (await post(CONFIRM, id=pending["Analytics Ltd"].id))["data"]["confirmListChange"]
    assert added["errors"] == [], added
    engagement = added["change"]["engagement"]
    assert added["change"]["status"] == "CONFIRMED"
    assert (engagement["processor"]["id"], engagement["subProcessor"]["name"]) == (
        "hosting-co",
        "Analytics Ltd",
    )
    assert (engagement["since"], engagement["until"], engagement["status"]) == (
        TODAY.isoformat(),
        None,
        "ACTIVE",
    )
    events = await _engagement_events(db)
    assert [(e.entity_id, e.op) for e in events[before:]] == [(engagement["id"], "CREATED")]

    removed = (await post(CONFIRM, id=pending["Mail Co Ltd"].id))["data"]["confirmListChange"]
    assert removed["change"]["engagement"]["id"] == "hosting-mail"
    assert removed["change"]["engagement"]["until"] == day(-1)
    events = await _engagement_events(db)
    assert [(e.entity_id, e.op) for e in events[before:]][-1] == ("hosting-mail", "UPDATED")

    # Confirming again, or dismissing what was confirmed, does nothing more.
    count = len(events)
    for change in ("Analytics Ltd", "Mail Co Ltd"):
        again = (await post(CONFIRM, id=pending[change].id))["data"]["confirmListChange"]
        assert again["change"]["status"] == "CONFIRMED"
        undo = (await post(DISMISS, id=pending[change].id))["data"]["dismissListChange"]
        assert undo["change"]["status"] == "CONFIRMED"
    # Dismissing touches no engagement; a dismissed change cannot be confirmed after.
    dismissed = (await post(DISMISS, id=pending["Backup Ltd"].id))["data"]["dismissListChange"]
    assert dismissed["change"] == {"status": "DISMISSED", "engagement": None}
    late = (await post(CONFIRM, id=pending["Backup Ltd"].id))["data"]["confirmListChange"]
    assert late["change"]["status"] == "DISMISSED"
    assert len(await _engagement_events(db)) == count
