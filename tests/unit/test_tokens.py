"""Bearer tokens: the configuration holds hashes only, checked in constant time."""

from __future__ import annotations

import hashlib
import json

import pytest

from schema.access.principal import Principal, Role
from schema.access.tokens import (
    TokenConfigInvalid,
    TokenEntry,
    bearer_token,
    hash_token,
    parse_tokens,
    verify,
)

ALICE = "alice-secret-token"
BOB = "bob-secret-token"


def _config(*entries: tuple[str, str, str]) -> str:
    return json.dumps(
        [
            {"name": name, "role": role, "sha256": hash_token(token)}
            | ({} if role == "admin" else {"registers": ["school-a"]})
            for name, role, token in entries
        ]
    )


def test_the_hash_is_the_sha256_of_the_utf8_text() -> None:
    assert hash_token("tøken") == hashlib.sha256("tøken".encode()).hexdigest()
    assert len(hash_token("x")) == 64


def test_parse_and_verify() -> None:
    entries = parse_tokens(_config(("dpo-alice", "dpo", ALICE), ("bob", "reader", BOB)), "env")
    school = frozenset({"school-a"})
    assert entries[0] == TokenEntry("dpo-alice", Role.DPO, hash_token(ALICE), school)
    assert verify(ALICE, entries) == Principal("dpo-alice", Role.DPO, school)
    assert verify(BOB, entries) == Principal("bob", Role.READER, school)
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
        ('[{"name": "a", "role": "DPO", "sha256": "' + "a" * 64 + '"}]', r"\[0\] \(a\)\.role"),
        (
            '[{"name": "a", "role": "owner", "sha256": "' + "a" * 64 + '"}]',
            r"\(a\)\.role: unknown role \"owner\" \(one of reader, dpo, admin\)",
        ),
        (
            '[{"name": "la", "role": "dpo", "sha256": "' + "a" * 64 + '"}]',
            r"\[0\] \(la\)\.registers: the role 'dpo' needs `registers`",
        ),
        (
            '[{"name": "la", "role": "reader", "sha256": "' + "a" * 64 + '"}]',
            r"\(la\)\.registers: the role 'reader' needs `registers`",
        ),
        (
            '[{"name": "la", "role": "reader", "registers": [], "sha256": "' + "a" * 64 + '"}]',
            r"\(la\)\.registers: must be a non-empty list",
        ),
        (
            '[{"name": "la", "role": "dpo", "registers": ["A b"], "sha256": "' + "a" * 64 + '"}]',
            r"\(la\)\.registers: \"A b\" is not a register id",
        ),
        (
            '[{"name": "root", "role": "admin", "registers": ["x"], "sha256": "' + "a" * 64 + '"}]',
            r"\(root\)\.registers: an admin has every register",
        ),
        ('[{"name": "a", "role": "dpo", "sha256": "' + "A" * 64 + '"}]', r"\(a\)\.sha256"),
        ('[{"name": "a", "role": "dpo", "sha256": "abc"}]', r"\[0\] \(a\)\.sha256"),
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


def test_an_admin_holds_every_register() -> None:
    (entry,) = parse_tokens(_config(("root", "admin", ALICE)), "env")
    principal = verify(ALICE, (entry,))
    assert principal is not None
    assert (principal.role, principal.registers) == (Role.ADMIN, None)
    assert principal.holds("any-register")
