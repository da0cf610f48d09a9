"""Bearer tokens: the configuration holds hashes only, checked in constant time."""

from __future__ import annotations

import hashlib
import json

import pytest

from schema.tokens import (
    Forbidden,
    Principal,
    TokenConfigInvalid,
    TokenEntry,
    Unauthenticated,
    bearer_token,
    hash_token,
    parse_tokens,
    require_role,
    verify,
)

ALICE = "alice-secret-token"
BOB = "bob-secret-token"


def _config(*entries: tuple[str, str, str]) -> str:
    return json.dumps(
        [{"name": name, "role": role, "sha256": hash_token(token)} for name, role, token in entries]
    )


def test_the_hash_is_the_sha256_of_the_utf8_text() -> None:
    assert hash_token("tøken") == hashlib.sha256("tøken".encode()).hexdigest()
    assert len(hash_token("x")) == 64


def test_parse_and_verify() -> None:
    entries = parse_tokens(_config(("dpo-alice", "dpo", ALICE), ("bob", "reader", BOB)), "env")
    assert entries[0] == TokenEntry("dpo-alice", "dpo", hash_token(ALICE))
    assert verify(ALICE, entries) == Principal("dpo-alice", "dpo")
    assert verify(BOB, entries) == Principal("bob", "reader")
    assert verify("alice-secret-token ", entries) is None
    assert verify("", entries) is None
    assert verify(ALICE, ()) is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("not json", "not JSON"),
        ('{"name": "x"}', "expected a JSON list"),
        ('["x"]', r"\[0\]: expected an object"),
        ('[{"name": "", "role": "dpo", "sha256": "' + "a" * 64 + '"}]', r"\[0\]\.name"),
        ('[{"name": "a", "role": "DPO", "sha256": "' + "a" * 64 + '"}]', r"\[0\]\.role"),
        ('[{"name": "a", "role": "dpo", "sha256": "' + "A" * 64 + '"}]', r"\[0\]\.sha256"),
        ('[{"name": "a", "role": "dpo", "sha256": "abc"}]', r"\[0\]\.sha256"),
        ('[{"name": "a", "role": "dpo", "token": "plain"}]', "unknown field"),
    ],
)
def test_invalid_configuration_says_where_and_why(text: str, reason: str) -> None:
    with pytest.raises(TokenConfigInvalid, match=reason) as caught:
        parse_tokens(text, "ROPA_TOKENS")
    assert str(caught.value).startswith("ROPA_TOKENS: ")


def test_the_same_hash_twice_is_refused() -> None:
    with pytest.raises(TokenConfigInvalid, match=r"\[1\]\.sha256: the same hash"):
        parse_tokens(_config(("a", "dpo", ALICE), ("b", "dpo", ALICE)), "file")


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer   abc  ", "abc"),
        ("BEARER abc", "abc"),
        ("Basic abc", None),
        ("Bearer", None),
        ("Bearer a b", None),
        ("abc", None),
        (None, None),
    ],
)
def test_bearer_header(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token


def test_require_role() -> None:
    dpo = Principal("dpo-alice", "dpo")
    assert require_role(dpo) is dpo
    with pytest.raises(Unauthenticated) as missing:
        require_role(None)
    assert missing.value.code == "UNAUTHENTICATED"
    with pytest.raises(Forbidden, match="'bob' has the role 'reader'") as wrong:
        require_role(Principal("bob", "reader"))
    assert wrong.value.code == "FORBIDDEN"
