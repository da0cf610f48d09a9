"""`ropa dev`'s development token: only its hash reaches the registry, as the admin `dev-admin`."""

from __future__ import annotations

import json
from pathlib import Path

from graph.secret_box import SecretBox
from schema.access.principal import Role
from schema.access.tokens import hash_token, parse_tokens, verify
from services.cli.devstack import dev_secret_key, dev_tokens


def test_the_dev_token_is_configured_by_its_hash() -> None:
    text = dev_tokens("my-dev-token", None)
    assert "my-dev-token" not in text
    entries = parse_tokens(text, "ROPA_TOKENS")
    principal = verify("my-dev-token", entries)
    assert principal is not None
    assert (principal.name, principal.role, principal.registers) == ("dev-admin", Role.ADMIN, None)


def test_tokens_already_configured_are_kept() -> None:
    mine = {"name": "dpo-alice", "role": "dpo", "sha256": hash_token("alice"), "registers": ["a"]}
    again = {"name": "old-dev", "role": "admin", "sha256": hash_token("dev")}
    entries = parse_tokens(dev_tokens("dev", json.dumps([mine, again])), "ROPA_TOKENS")
    assert [e.name for e in entries] == ["dpo-alice", "dev-admin"]


def test_a_list_that_is_not_one_is_replaced() -> None:
    entries = parse_tokens(dev_tokens("dev", "{not json"), "ROPA_TOKENS")
    assert [e.name for e in entries] == ["dev-admin"]


def test_the_dev_secret_key_is_made_once_and_kept_owner_only(tmp_path: Path) -> None:
    first = dev_secret_key(tmp_path)
    assert dev_secret_key(tmp_path) == first
    assert (tmp_path / "dev-secret-key").stat().st_mode & 0o777 == 0o600
    assert SecretBox([first]).encrypts
