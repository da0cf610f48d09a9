"""A portal user's whole path through a real SMTP server (aiosmtpd on loopback): subscribe,
confirm, a change by mutation, the notice (headers, body, links), one-click unsubscribe by
POST, and nothing after it. Also: bad input, and an objection reaching the processor's DPO."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import re
from collections.abc import AsyncIterator, Iterator
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner, Result
from pydantic import SecretStr
from starlette.applications import Starlette

from graph import mail
from graph.database import Database
from graph.neo4j_server import free_port
from services.cli.main import cli
from services.notifier.mail.worker import MailWorker
from services.notifier.settings import NotifierSettings
from services.registry.app import create_app
from services.registry.settings import RegistrySettings
from tests.services.conftest import DPO_TOKEN
from tests.services.notifier.conftest import eventually
from tests.services.portal.conftest import day

pytestmark = pytest.mark.neo4j

SECRET = "portal-test-secret-key-0123456789"
PUBLIC = "http://registry"


class Sink:
    """What the SMTP server received, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.raw.append(bytes(envelope.content))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Sink, int]]:
    """A real SMTP server on loopback that keeps what it receives."""
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield sink, port
    controller.stop()


@pytest.fixture
async def portal_app(dpo_settings: RegistrySettings) -> AsyncIterator[Starlette]:
    """The registry with subscriptions on (its own app: the rate limits start afresh)."""
    settings = dpo_settings.model_copy(
        update={"secret_key": SecretStr(SECRET), "public_url": PUBLIC, "subscribe_per_client": 5}
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def http(portal_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """A browser-like client of the registry."""
    transport = httpx.ASGITransport(app=portal_app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC) as client:
        yield client


@pytest.fixture
def worker(db: Database, neo4j_settings: Any, smtp: tuple[Sink, int]) -> MailWorker:
    """The notifier's mail worker, sending to the sink."""
    settings = NotifierSettings(
        neo4j=neo4j_settings,
        smtp_host="127.0.0.1",
        smtp_port=smtp[1],
        smtp_starttls=False,
        mail_from="Portal notices <notices@registry.example>",
        public_url=PUBLIC,
        secret_key=SecretStr(SECRET),
    )
    return MailWorker(db, settings)


def _token(html: str) -> str:
    found = re.search(r'name="token" value="([^"]+)"', html)
    assert found is not None, html
    return found.group(1)


def _links(message: EmailMessage) -> list[str]:
    text = message.get_body(preferencelist=("plain",))
    assert text is not None
    return re.findall(r"https?://\S+", text.get_content())


async def _subscribe(http: httpx.AsyncClient, address: str, **extra: str) -> httpx.Response:
    page = await http.get("/processors/portal-co")
    form = {"email": address, "token": _token(page.text), **extra}
    return await http.post("/processors/portal-co/subscribe", data=form, headers={"origin": PUBLIC})


async def _deliver(worker: MailWorker, sink: Sink, count: int) -> None:
    async def arrived() -> bool:
        await worker.plan()
        await worker.send_due()
        return len(sink.messages) >= count

    await eventually(arrived, within=15, message=f"{count} messages")


async def test_subscribe_confirm_notice_unsubscribe(
    portal_register: Database,
    http: httpx.AsyncClient,
    worker: MailWorker,
    smtp: tuple[Sink, int],
) -> None:
    sink, _ = smtp
    response = await _subscribe(http, "Office@School.Example")
    assert response.status_code == 200, response.text
    assert "Follow its link to confirm" in response.text
    # A change before confirmation reaches nobody; only the confirmation is sent.
    end = 'mutation { endEngagement(id: "portal-hosting", until: "%s") { errors { field } } }'
    headers = {"authorization": f"Bearer {DPO_TOKEN}"}
    assert (await http.post("/graphql", json={"query": end % day(60)}, headers=headers)).json()[
        "data"
    ]["endEngagement"]["errors"] == []
    await _deliver(worker, sink, 1)
    await asyncio.sleep(0)
    await worker.plan()
    await worker.send_due()
    assert len(sink.messages) == 1
    confirmation = sink.messages[0]
    assert confirmation["To"] == "Office@school.example"
    assert "List-Unsubscribe" not in confirmation
    assert confirmation["Subject"] == "Confirm: notices of Portal Co Ltd's sub-processors"
    (confirm_url,) = [u for u in _links(confirmation) if "/subscriptions/confirm" in u]
    path = urlsplit(confirm_url)
    confirm_path = f"{path.path}?{path.query}"
    # Following the link shows a button; the POST confirms; using it again says so.
    shown = await http.get(confirm_path)
    assert shown.status_code == 200
    assert "Confirm the subscription" in shown.text
    assert (await http.post(confirm_path)).status_code == 200
    assert (await http.post(confirm_path)).status_code == 409

    # A change by mutation: one notice, with RFC 8058 headers and both parts.
    mutation = """
    mutation ($input: EngageSubProcessorInput!) {
      engageSubProcessor(input: $input) { engagement { id } errors { message } } }
    """
    new = {
        "processor": "portal-co",
        "subProcessor": "Mail Co Ltd",
        "purpose": "Newsletters",
        "categories": ["contact-details"],
        "since": day(40),
    }
    body = (
        await http.post(
            "/graphql", json={"query": mutation, "variables": {"input": new}}, headers=headers
        )
    ).json()
    assert body["data"]["engageSubProcessor"]["errors"] == []
    await _deliver(worker, sink, 2)
    notice = sink.messages[1]
    assert notice["Subject"] == "Announced: Mail Co Ltd as sub-processor of Portal Co Ltd"
    assert notice["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe_url = notice["List-Unsubscribe"].strip("<>")
    assert unsubscribe_url.startswith(f"{PUBLIC}/subscriptions/unsubscribe?token=")
    # On the wire as RFC 8058 has it: one <URL>, not folded into encoded words.
    assert f"\r\nList-Unsubscribe: <{unsubscribe_url}>\r\n".encode() in sink.raw[1]
    assert re.fullmatch(r"<[0-9a-f-]{36}@registry\.example>", notice["Message-ID"])
    text = notice.get_body(preferencelist=("plain",))
    html = notice.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    assert "Mail Co Ltd was announced as a new sub-processor of Portal Co Ltd." in (
        text.get_content()
    )
    assert f"Effective from {day(40)}." in text.get_content()
    # Who recorded it (a person, here the DPO's token) is not the public's to know.
    assert " by (withheld) " in text.get_content()
    assert "dpo-alice" not in notice.as_string()
    assert unsubscribe_url in _links(notice)
    assert f'href="{PUBLIC}/processors/portal-co"' in html.get_content()
    # The same notice planned again (a crash before the cursor moved) has the same id.
    assert await mail.waiting(portal_register) == 0

    # One-click unsubscribe: a POST with the RFC 8058 body, no cookie, no form token.
    split = urlsplit(unsubscribe_url)
    done = await http.post(
        f"{split.path}?{split.query}",
        content=b"List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert done.status_code == 200
    assert "erased" in done.text
    assert await portal_register.read(mail.by_email_in, "Office@school.example") == []

    # The next change sends nothing.
    update = (
        'mutation { updateEngagement(id: "portal-stats", input: {purpose: "Stats"}) '
        "{ errors { message } } }"
    )
    await http.post("/graphql", json={"query": update}, headers=headers)
    assert await worker.plan() == 0
    assert await worker.send_due() == 0
    assert len(sink.messages) == 2


async def test_bad_input_is_refused_clearly(
    portal_register: Database, http: httpx.AsyncClient
) -> None:
    response = await _subscribe(http, "not-an-address")
    assert response.status_code == 400
    assert "is not an e-mail address" in response.text
    # The form from another site, or with no token, is refused.
    page = await http.get("/processors/portal-co")
    form = {"email": "a@school.example", "token": _token(page.text)}
    foreign = await http.post(
        "/processors/portal-co/subscribe", data=form, headers={"origin": "https://evil.example"}
    )
    assert foreign.status_code == 403
    forged = await http.post(
        "/processors/portal-co/subscribe", data={**form, "token": "x.y"}, headers={"origin": PUBLIC}
    )
    assert forged.status_code == 403
    # Twice the same address: the second says so, and nothing is duplicated.
    assert (await _subscribe(http, "a@school.example")).status_code == 200
    again = await _subscribe(http, "a@school.example")
    assert "already sent" in again.text
    assert len(await portal_register.read(mail.by_email_in, "a@school.example")) == 1
    assert await mail.waiting(portal_register) == 1
    # A used, forged or expired link: a clear page.
    bad = await http.get("/subscriptions/confirm?token=abc.def")
    assert bad.status_code == 400
    assert "not one this registry made" in bad.text
    # The mutation: unknown processor, invalid address.
    query = (
        "mutation ($p: String!, $e: String!) { subscribeByEmail(processor: $p, email: $e) "
        "{ status message errors { field message } } }"
    )
    body = (
        await http.post(
            "/graphql",
            json={"query": query, "variables": {"p": "hosting-co", "e": "b@school.example"}},
        )
    ).json()
    assert body["data"]["subscribeByEmail"]["errors"][0]["field"] == "processor"
    body = (
        await http.post(
            "/graphql", json={"query": query, "variables": {"p": "portal-co", "e": "b@"}}
        )
    ).json()
    assert body["data"]["subscribeByEmail"]["errors"][0]["field"] == "email"
    body = (
        await http.post(
            "/graphql",
            json={"query": query, "variables": {"p": "Portal Co Ltd", "e": "b@school.example"}},
        )
    ).json()
    assert body["data"]["subscribeByEmail"]["status"] == "CONFIRMATION_SENT"
    # Rate limits: the client has made 3 of its 5 (refused requests do not count).
    for n in range(2):
        await _subscribe(http, f"c{n}@school.example")
    limited = await _subscribe(http, "d@school.example")
    assert limited.status_code == 429
    assert "too many subscription requests" in limited.text
    assert int(limited.headers["retry-after"]) > 0


async def test_an_objection_reaches_the_processors_dpo(
    portal_register: Database,
    http: httpx.AsyncClient,
    worker: MailWorker,
    smtp: tuple[Sink, int],
) -> None:
    sink, _ = smtp
    query = (
        'mutation { objectToEngagement(id: "portal-stats", reason: "No <stats>") '
        "{ errors { message } } }"
    )
    headers = {"authorization": f"Bearer {DPO_TOKEN}"}
    body = (await http.post("/graphql", json={"query": query}, headers=headers)).json()
    assert body["data"]["objectToEngagement"]["errors"] == []
    await _deliver(worker, sink, 1)
    (message,) = sink.messages
    assert message["To"] == "dpo@portal-co.example"
    assert message["Subject"] == "Objection: Stats <Co> Ltd as sub-processor of Portal Co Ltd"
    text = message.get_body(preferencelist=("plain",))
    assert text is not None
    assert "No <stats>" in text.get_content()


async def test_subscribers_export_and_erase(
    portal_register: Database, http: httpx.AsyncClient, neo4j_settings: Any
) -> None:
    assert (await _subscribe(http, "Parent@School.Example")).status_code == 200
    env = {
        **neo4j_settings.environment(),
    }

    runner = CliRunner()

    async def ropa(*args: str) -> Result:
        # The command runs its own event loop (asyncio.run): in a thread, beside the test's.
        return await asyncio.to_thread(runner.invoke, cli, ["subscribers", *args], env=env)

    exported = await ropa("export", "parent@school.example")
    assert exported.exit_code == 0, exported.output
    (kept,) = json.loads(exported.stdout)["subscriptions"]
    assert kept["email"] == "Parent@school.example"
    assert (kept["processor"], kept["confirmed"]) == ("portal-co", False)
    shown = await ropa("erase", "parent@school.example")
    assert "would be erased; rerun with --yes" in shown.stdout
    assert len(await portal_register.read(mail.by_email_in, "parent@school.example")) == 1
    erased = await ropa("erase", "parent@school.example", "--yes")
    assert "erased 1 subscription(s)" in erased.stdout
    assert await portal_register.read(mail.by_email_in, "parent@school.example") == []
    assert await mail.waiting(portal_register) == 0
    assert (await ropa("export", "not an address")).exit_code == 1


async def test_a_daily_digest_holds_notices_and_sends_them_as_one(
    portal_register: Database,
    http: httpx.AsyncClient,
    worker: MailWorker,
    smtp: tuple[Sink, int],
) -> None:
    sink, _ = smtp
    assert (await _subscribe(http, "head@school.example", digest="on")).status_code == 200
    await _deliver(worker, sink, 1)
    (confirm_url,) = [u for u in _links(sink.messages[0]) if "/subscriptions/confirm" in u]
    split = urlsplit(confirm_url)
    assert (await http.post(f"{split.path}?{split.query}")).status_code == 200
    headers = {"authorization": f"Bearer {DPO_TOKEN}"}
    for purpose in ("Stats v1", "Stats v2"):
        update = (
            'mutation ($p: String!) { updateEngagement(id: "portal-stats", input: {purpose: $p})'
            " { errors { message } } }"
        )
        await http.post(
            "/graphql", json={"query": update, "variables": {"p": purpose}}, headers=headers
        )
    assert await worker.plan() == 2
    assert await worker.send_due() == 0  # held for the day
    assert await mail.waiting(portal_register) == 2
    # A day later (the messages' queued time moved back), both go as one message.
    async with portal_register.driver.session(database=portal_register.name) as session:
        await (
            await session.run("MATCH (m:MailMessage) SET m.queuedAt = m.queuedAt - duration('P2D')")
        ).consume()
    assert await worker.send_due() == 1
    digest = sink.messages[-1]
    assert digest["Subject"] == "2 changes to the sub-processors of Portal Co Ltd"
    text = digest.get_body(preferencelist=("plain",))
    assert text is not None
    assert "Purpose: Usage statistics -> Stats v1" in text.get_content()
    assert "Purpose: Stats v1 -> Stats v2" in text.get_content()
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert await mail.waiting(portal_register) == 0
