"""A school's webhook hears of its processor's changes to the engagements serving the school,
as its reads do (ReadScope.reads_engagement): when School Transition Limited changes, in its
own register, the engagement for the school's post-16 transfer, an endpoint registered in the
school's scope alone receives it (without the actor, a person at STL); another school's
endpoint does not. Through the running notifier and real receivers on loopback."""

from __future__ import annotations

import os

import pytest
from pydantic import SecretStr

from graph import subprocessor_changes as spc
from graph import webhooks
from graph.database import Database
from graph.secret_box import SecretBox
from schema.validation import load_document
from schema.webhook_url import TargetPolicy
from tests.services.notifier.conftest import MakeReceiver, RunNotifier, considered, eventually
from tests.support.examples import EXAMPLES, SCHOOL, STL, apply_one, stl_changed

BOX = SecretBox.from_setting(SecretStr(os.environ["ROPA_SECRET_KEY"]), required=True)
OTHER = EXAMPLES / "mickleover-meadows.yaml"

pytestmark = pytest.mark.neo4j


async def test_a_school_endpoint_gets_stls_change_for_it_and_another_schools_does_not(
    db: Database, receivers: MakeReceiver, run_notifier: RunNotifier
) -> None:
    """STL's change to stl-link-ict, then the other school's own change: the school's receiver
    gets STL's, the other school's receiver only its own (it comes later, and delivery is in
    order, so nothing of STL's was sent to it)."""
    for path in (SCHOOL, STL, OTHER):
        await apply_one(db, load_document(path))
    school, other = receivers(), receivers()
    policy = TargetPolicy(allow_loopback=True)
    for receiver, scope in ((school, "allestree-woodlands"), (other, "mickleover-meadows")):
        await webhooks.register(db, receiver.url, None, "dpo", policy, frozenset({scope}), box=BOX)
    meadows = load_document(OTHER)
    meadows = meadows.model_copy(
        update={
            "engagements": [
                e.model_copy(update={"purpose": "Text messages to parents"})
                for e in meadows.engagements
            ]
        }
    )
    async with run_notifier() as notifier:
        await apply_one(db, stl_changed("stl-link-ict", "Hosting, and backups"), "dpo@stl")
        await apply_one(db, meadows, "dpo@meadows")
        await eventually(lambda: bool(other.sequences()), message="the other school's own change")
        await eventually(lambda: bool(school.sequences()), message="STL's change, to the school")
        await considered(notifier)
    told = [d.json["data"] for d in school.accepted()]
    assert [(t["type"], t["processor"], t["subProcessor"], t["actor"]) for t in told] == [
        (spc.CHANGED, "school-transition-limited", "link-ict", None)
    ]
    assert told[0]["after"]["purpose"] == "Hosting, and backups"
    heard = [d.json["data"] for d in other.accepted()]
    assert {t["processor"] for t in heard} == {"meadows-messaging"}
    assert {t["actor"] for t in heard} == {"dpo@meadows"}
    assert min(t["sequence"] for t in heard) > told[0]["sequence"]
