"""Mutations and webhook administration need a `dpo` bearer token; anonymous callers read
only the public sub-processor lists."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from graph.database import Database
from schema.access.principal import Role, Via
from schema.access.tokens import TokenConfigInvalid, TokenEntry, hash_token
from services.registry.app import create_app
from services.registry.auth import load_tokens, principal_from_header
from services.registry.settings import RegistrySettings
from tests.services.conftest import DPO_TOKEN, READER_TOKEN, GraphQL

ENGAGE = """
mutation {
  engageSubProcessor(input: {processor: "portal-co", subProcessor: "mail-co",
                             purpose: "Mail", categories: [], since: "2024-09-01"}) {
    engagement { id }
    errors { message }
  }
}
"""
WEBHOOKS = "{ webhooks { id } }"
REGISTER = 'mutation { registerWebhook(input: {url: "http://127.0.0.1:9/hook"}) { secret } }'


@pytest.mark.neo4j
@pytest.mark.parametrize(
    ("token", "code"),
    [
        (None, "UNAUTHENTICATED"),
        ("not-a-configured-token", "UNAUTHENTICATED"),
        (READER_TOKEN, "FORBIDDEN"),
    ],
    ids=["no-token", "unknown-token", "reader-role"],
)
@pytest.mark.parametrize(
    "operation", [ENGAGE, WEBHOOKS, REGISTER], ids=["engage", "list", "register"]
)
async def test_refused_without_the_dpo_role(
    change_register: Database,
    as_user: Callable[[str | None], GraphQL],
    token: str | None,
    code: str,
    operation: str,
) -> None:
    body = await as_user(token)(operation)
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == code
    assert "dpo" in error["message"]


@pytest.mark.neo4j
async def test_the_dpo_token_is_accepted(
    change_register: Database, as_user: Callable[[str | None], GraphQL]
) -> None:
    body = await as_user(DPO_TOKEN)(ENGAGE)
    assert body["data"]["engageSubProcessor"]["engagement"] == {"id": "portal-co-mail-co"}


@pytest.mark.neo4j
async def test_without_a_token_only_the_public_lists(
    change_register: Database, as_user: Callable[[str | None], GraphQL]
) -> None:
    for token, sees in ((None, False), ("garbage", False), (READER_TOKEN, True)):
        body = await as_user(token)("{ changes(first: 1) { id } organisations { id } }")
        assert "errors" not in body
        assert len(body["data"]["changes"]) == 1
        assert bool(body["data"]["organisations"]) == sees


def test_principal_from_header() -> None:
    entries = (TokenEntry("dpo-alice", Role.DPO, hash_token(DPO_TOKEN), frozenset({"school"})),)
    found = principal_from_header(f"Bearer {DPO_TOKEN}", entries)
    assert found is not None
    assert (found.name, found.role, found.registers) == (
        "dpo-alice",
        Role.DPO,
        frozenset({"school"}),
    )
    assert found.via is Via.TOKEN
    assert principal_from_header(f"Basic {DPO_TOKEN}", entries) is None
    assert principal_from_header(None, entries) is None
    assert principal_from_header("Bearer nope", entries) is None


def test_tokens_from_the_environment_and_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    listed = tmp_path / "tokens.json"
    listed.write_text(json.dumps([{"name": "a", "role": "admin", "sha256": hash_token("t-a")}]))
    monkeypatch.setenv(
        "ROPA_TOKENS", json.dumps([{"name": "b", "role": "admin", "sha256": hash_token("t-b")}])
    )
    monkeypatch.setenv("ROPA_TOKENS_FILE", str(listed))
    settings = RegistrySettings()
    entries = load_tokens(settings.tokens, settings.tokens_file)
    assert [e.name for e in entries] == ["b", "a"]
    assert create_app(settings).state.tokens == entries


def test_an_unusable_token_list_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(TokenConfigInvalid, match=r"ROPA_TOKENS: \[0\] \(a\)\.sha256"):
        create_app(RegistrySettings(tokens='[{"name": "a", "role": "dpo", "sha256": "plain"}]'))
    no_scope = json.dumps([{"name": "la-dpo", "role": "dpo", "sha256": hash_token("t")}])
    with pytest.raises(TokenConfigInvalid, match=r"\(la-dpo\)\.registers: the role 'dpo' needs"):
        create_app(RegistrySettings(tokens=no_scope))
    missing = tmp_path / "absent.json"
    with pytest.raises(TokenConfigInvalid, match=r"absent\.json: cannot be read"):
        create_app(RegistrySettings(tokens_file=missing))
    both = json.dumps([{"name": "a", "role": "admin", "sha256": hash_token("t")}])
    (tmp_path / "same.json").write_text(both)
    with pytest.raises(TokenConfigInvalid, match="listed in both"):
        load_tokens(both, tmp_path / "same.json")


def test_no_tokens_means_no_mutations(caplog: pytest.LogCaptureFixture) -> None:
    assert load_tokens(None, None) == ()
    assert "every mutation will be refused" in caplog.text


@pytest.mark.neo4j
async def test_a_scope_naming_no_register_is_warned_of(
    change_register: Database,
    registry_settings: RegistrySettings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    entry = {"name": "la", "role": "reader", "sha256": hash_token("t")}
    tokens = json.dumps([entry | {"registers": ["school", "no-such-school"]}])
    app = create_app(registry_settings.model_copy(update={"tokens": tokens}))
    with caplog.at_level(logging.WARNING):
        async with app.router.lifespan_context(app):
            pass
    assert "token 'la' names registers the graph does not hold: no-such-school" in caplog.text
