"""Webhook endpoints through GraphQL: register (the secret, once), list, remove, redeliver."""

from __future__ import annotations

from typing import Any

import pytest

from graph.database import Database
from graph.secret_box import SecretBox
from schema.access.principal import admin
from schema.change_requests import InvalidInput
from schema.webhook_url import TargetPolicy
from services.registry.settings import RegistrySettings
from services.registry.writer import GraphWriter
from tests.services.conftest import GraphQL

pytestmark = pytest.mark.neo4j

WEBHOOK = """
  id url status cursor createdAt createdBy attempts failingSince nextAttemptAt lastError
  lastDeliveredAt processor { id name }
"""
REGISTER = (
    "mutation ($input: WebhookInput!) { registerWebhook(input: $input) { webhook {"
    + WEBHOOK
    + "} secret errors { field message } } }"
)
LIST = "query ($p: String) { webhooks(processor: $p) {" + WEBHOOK + "} }"
REMOVE = (
    "mutation ($id: ID!) { removeWebhook(id: $id) { webhook { id } errors { field message } } }"
)
REDELIVER = """
mutation ($webhook: ID!, $after: ID, $afterSequence: Int) {
  redeliver(webhook: $webhook, after: $after, afterSequence: $afterSequence) {
    webhook { id cursor status } secret errors { field message }
  }
}
"""
CHANGES = "{ changes { id sequence } }"
HOOK = "http://127.0.0.1:9/hook"


async def _register(as_dpo: GraphQL, **given: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await as_dpo(REGISTER, input={"url": HOOK} | given))[
        "registerWebhook"
    ]
    return payload


async def test_register_returns_the_secret_once(change_register: Database, as_dpo: GraphQL) -> None:
    payload = await _register(as_dpo, processor="PORTAL CO LTD")
    assert payload["errors"] == []
    secret = payload["secret"]
    assert secret.startswith("whsec_")
    webhook = payload["webhook"]
    assert webhook["url"] == HOOK
    assert webhook["processor"] == {"id": "portal-co", "name": "Portal Co Ltd"}
    assert (webhook["status"], webhook["createdBy"], webhook["attempts"]) == (
        "ACTIVE",
        "dpo-alice",
        0,
    )
    assert webhook["cursor"] == max(c["sequence"] for c in (await as_dpo(CHANGES))["changes"])

    listed = (await as_dpo(LIST))["webhooks"]
    assert listed == [webhook]
    assert secret not in repr(listed)


async def test_list_by_processor(change_register: Database, as_dpo: GraphQL) -> None:
    every = await _register(as_dpo)
    portal = await _register(as_dpo, processor="portal-co")
    assert every["webhook"]["processor"] is None
    by_processor = (await as_dpo(LIST, p="Portal Co Ltd"))["webhooks"]
    assert [w["id"] for w in by_processor] == [portal["webhook"]["id"]]
    assert len((await as_dpo(LIST))["webhooks"]) == 2


@pytest.mark.parametrize(
    ("given", "field", "message"),
    [
        ({"url": "ftp://example.com/hook"}, "url", "url: scheme must be http or https, not 'ftp'"),
        (
            {"url": "http://10.1.2.3/hook"},
            "url",
            "url: private address 10.1.2.3 is not an allowed target",
        ),
        (
            {"url": "http://alice:pw@127.0.0.1/hook"},
            "url",
            "url: must not carry credentials (user:password@)",
        ),
        (
            {"processor": "Nobody Ltd"},
            "processor",
            "no organisation with id or name 'Nobody Ltd'",
        ),
    ],
    ids=["scheme", "private", "credentials", "unknown-processor"],
)
async def test_refused_registrations_write_nothing(
    change_register: Database, as_dpo: GraphQL, given: dict[str, str], field: str, message: str
) -> None:
    payload = await _register(as_dpo, **given)
    assert payload == {
        "webhook": None,
        "secret": None,
        "errors": [{"field": field, "message": message}],
    }
    assert (await as_dpo(LIST))["webhooks"] == []


async def test_remove(change_register: Database, as_dpo: GraphQL) -> None:
    webhook_id = (await _register(as_dpo))["webhook"]["id"]
    removed = (await as_dpo(REMOVE, id=webhook_id))["removeWebhook"]
    assert removed == {"webhook": {"id": webhook_id}, "errors": []}
    assert (await as_dpo(LIST))["webhooks"] == []
    again = (await as_dpo(REMOVE, id=webhook_id))["removeWebhook"]
    assert again["webhook"] is None
    assert again["errors"] == [
        {"field": "id", "message": f"no webhook with id or name '{webhook_id}'"}
    ]


async def test_redeliver(change_register: Database, as_dpo: GraphQL) -> None:
    webhook_id = (await _register(as_dpo))["webhook"]["id"]
    await as_dpo(
        'mutation { endEngagement(id: "portal-hosting", until: "2025-08-31") { errors { field } } }'
    )
    first, second = (await as_dpo(CHANGES))["changes"]

    def cursor(payload: dict[str, Any]) -> Any:
        result = payload["redeliver"]
        assert result["errors"] == [], result["errors"]
        assert result["secret"] is None
        return result["webhook"]["cursor"]

    assert (
        cursor(await as_dpo(REDELIVER, webhook=webhook_id, after=first["id"])) == first["sequence"]
    )
    assert cursor(await as_dpo(REDELIVER, webhook=webhook_id, afterSequence=0)) == 0
    assert cursor(await as_dpo(REDELIVER, webhook=webhook_id)) == 0
    assert second["sequence"] > first["sequence"]


@pytest.mark.parametrize(
    ("variables", "field", "message"),
    [
        ({"webhook": "nope"}, "webhook", "no webhook with id or name 'nope'"),
        ({"after": "nope"}, "after", "after: no change event with id 'nope'"),
        (
            {"afterSequence": 1_000_000},
            "afterSequence",
            "after: must be between 0 and the last change sequence",
        ),
        ({"after": "x", "afterSequence": 0}, None, "give `after` or `afterSequence`, not both"),
    ],
    ids=["unknown-webhook", "unknown-after", "out-of-range", "both"],
)
async def test_redeliver_refused(
    change_register: Database,
    as_dpo: GraphQL,
    variables: dict[str, Any],
    field: str | None,
    message: str,
) -> None:
    webhook_id = (await _register(as_dpo))["webhook"]["id"]
    result = (await as_dpo(REDELIVER, **({"webhook": webhook_id} | variables)))["redeliver"]
    assert result["webhook"] is None
    ((error),) = result["errors"]
    assert error["field"] == field
    assert error["message"].startswith(message)


async def test_loopback_targets_only_when_allowed(change_register: Database) -> None:
    refusing = GraphWriter(change_register, TargetPolicy(), SecretBox())
    with pytest.raises(InvalidInput) as caught:
        await refusing.register_webhook(HOOK, None, admin("dpo-alice"))
    assert caught.value.problems[0].field == "url"
    assert "loopback address 127.0.0.1" in caught.value.problems[0].message
    allowing = GraphWriter(change_register, TargetPolicy(allow_loopback=True), SecretBox())
    created = await allowing.register_webhook("http://localhost:9/hook", None, admin("dpo-alice"))
    assert created.secret.startswith("whsec_")


def test_the_policy_follows_the_notifiers_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROPA_WEBHOOK_ALLOW_LOOPBACK", "true")
    monkeypatch.setenv("ROPA_WEBHOOK_ALLOW_PRIVATE", "1")
    monkeypatch.delenv("ROPA_WEBHOOK_ALLOW_LINK_LOCAL", raising=False)
    assert RegistrySettings().webhook_policy == TargetPolicy(
        allow_loopback=True, allow_private=True, allow_link_local=False
    )
