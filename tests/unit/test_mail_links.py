"""Signed e-mail links across a key rotation: signed with the current key, verified with any key
of the keyring (ROPA_SECRET_KEY, then ROPA_SECRET_KEY_PREVIOUS)."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from schema.keyring import secret_keys
from schema.mail_links import CONFIRM, UNSUBSCRIBE, ExpiredLink, InvalidLink, sign, verify

OLD = "old-secret-key-0123456789-abcdefghijkl"
NEW = "new-secret-key-0123456789-abcdefghijkl"
UNKNOWN = "someone-elses-key-0123456789-abcdefgh"


def test_the_keyring_is_the_current_key_then_the_previous_ones() -> None:
    assert secret_keys(SecretStr(f" {NEW} "), SecretStr(f"{OLD}, ,{UNKNOWN}")) == (
        NEW,
        OLD,
        UNKNOWN,
    )
    assert secret_keys(None, SecretStr(OLD)) == ()
    assert secret_keys(SecretStr(NEW)) == (NEW,)


def test_a_link_signed_before_a_rotation_still_verifies() -> None:
    before = sign(OLD, UNSUBSCRIBE, "subscriber-1")
    rotated = secret_keys(SecretStr(NEW), SecretStr(OLD))
    assert verify(rotated, UNSUBSCRIBE, before, 0) == "subscriber-1"
    assert verify(rotated, UNSUBSCRIBE, sign(NEW, UNSUBSCRIBE, "s-2"), 0) == "s-2"
    # Once the old key is no longer listed, its links no longer verify.
    with pytest.raises(InvalidLink):
        verify((NEW,), UNSUBSCRIBE, before, 0)


def test_a_link_signed_with_an_unknown_key_or_for_another_purpose_does_not() -> None:
    rotated = (NEW, OLD)
    with pytest.raises(InvalidLink):
        verify(rotated, UNSUBSCRIBE, sign(UNKNOWN, UNSUBSCRIBE, "s"), 0)
    with pytest.raises(InvalidLink):
        verify(rotated, CONFIRM, sign(OLD, UNSUBSCRIBE, "s"), 0)
    with pytest.raises(ExpiredLink):
        verify(rotated, CONFIRM, sign(OLD, CONFIRM, "s", expires_at=10), 11)
    with pytest.raises(TypeError):
        verify(NEW, CONFIRM, sign(NEW, CONFIRM, "s"), 0)
