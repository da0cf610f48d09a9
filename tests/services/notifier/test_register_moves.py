"""Webhooks across an engagement's move between registers: receivers hear of nothing."""

from __future__ import annotations

import os

import pytest
from pydantic import SecretStr

from graph import subprocessor_changes as spc
from graph import webhooks
from graph.database import Database
from graph.secret_box import SecretBox
from schema.webhook_url import TargetPolicy
from tests.services.notifier.conftest import MakeReceiver, RunNotifier, considered, eventually
from tests.support.examples import apply_one, apply_the_move, stl_changed

BOX = SecretBox.from_setting(SecretStr(os.environ["ROPA_SECRET_KEY"]), required=True)

pytestmark = pytest.mark.neo4j


async def test_the_copies_moving_to_stls_register_deliver_no_removal(
    db: Database, receivers: MakeReceiver, run_notifier: RunNotifier
) -> None:
    """The old school file, STL's register, the new school file, then a real change: the
    receiver gets the three additions and the change, and nothing between."""
    receiver = receivers()
    await webhooks.register(
        db, receiver.url, None, "dpo", TargetPolicy(allow_loopback=True), box=BOX
    )
    async with run_notifier() as notifier:
        await apply_the_move(db)
        await apply_one(db, stl_changed("stl-link-ict", "Hosting, and backups"))
        await eventually(lambda: len(receiver.sequences()) >= 4, message="four changes")
        await considered(notifier)
    told = [d.json["data"] for d in receiver.accepted()]
    assert [(t["type"], t["subProcessor"]) for t in told][3:] == [(spc.CHANGED, "link-ict")]
    assert sorted((t["type"], t["subProcessor"]) for t in told[:3]) == [
        (spc.ADDED, sub)
        for sub in ("derby-city-council", "link-ict", "school-development-support-agency")
    ]
    endpoints = await webhooks.list_endpoints(db)
    assert [e.cursor for e in endpoints] == [told[-1]["sequence"]]
