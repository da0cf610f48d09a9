"""Rotating ROPA_SECRET_KEY keeps the links of e-mails already sent working: the registry signs
with the new key and verifies with it and the keys in ROPA_SECRET_KEY_PREVIOUS; a link signed
with a key it does not hold is refused."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from graph import mail
from graph.database import Database
from schema.subscriptions import Subscription, subscriber_id
from services.notifier.mail.compose import Links
from services.registry.app import create_app
from services.registry.settings import RegistrySettings

pytestmark = pytest.mark.neo4j

PUBLIC = "https://registry.example"
OLD = "the-key-before-rotation-0123456789abc"
NEW = "the-key-after-rotation-0123456789abcd"
UNKNOWN = "a-key-this-registry-never-had-012345"
ADDRESS = "office@school.example"


@pytest.fixture
async def rotated(dpo_settings: RegistrySettings) -> AsyncIterator[httpx.AsyncClient]:
    """The registry after the rotation: the new key, the old one listed as previous."""
    settings = dpo_settings.model_copy(
        update={
            "secret_key": SecretStr(NEW),
            "secret_key_previous": SecretStr(OLD),
            "public_url": PUBLIC,
        }
    )
    application: Starlette = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC) as client:
            yield client


def _path(url: str) -> str:
    split = urlsplit(url)
    return f"{split.path}?{split.query}"


async def _pending(db: Database) -> Subscription:
    the_id = subscriber_id("portal-co", ADDRESS)
    now = dt.datetime.now(dt.UTC)
    await db.write(
        mail.subscribe_in, the_id, "portal-co", ADDRESS, False, "c-1", dt.timedelta(hours=48), now
    )
    found = await db.read(mail.get_in, the_id)
    assert found is not None
    return found


async def test_links_signed_before_the_rotation_still_work(
    portal_register: Database, rotated: httpx.AsyncClient
) -> None:
    subscription = await _pending(portal_register)
    queued = dt.datetime.now(dt.UTC)
    # Mailed before the rotation, by a notifier holding the old key.
    before = Links(PUBLIC, OLD, 48)
    forged = Links(PUBLIC, UNKNOWN, 48)

    refused = await rotated.post(_path(forged.confirm(subscription, queued)))
    assert refused.status_code == 400, refused.text
    confirmed = await rotated.post(_path(before.confirm(subscription, queued)))
    assert confirmed.status_code == 200, confirmed.text
    now = await portal_register.read(mail.get_in, subscription.id)
    assert now is not None
    assert now.confirmed

    async def one_click(links: Links) -> httpx.Response:
        return await rotated.post(
            _path(links.unsubscribe(subscription)),
            content=b"List-Unsubscribe=One-Click",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )

    assert (await one_click(forged)).status_code == 400
    assert await portal_register.read(mail.get_in, subscription.id) is not None
    done = await one_click(before)
    assert done.status_code == 200, done.text
    assert await portal_register.read(mail.get_in, subscription.id) is None
