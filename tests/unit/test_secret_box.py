"""Sealing webhook secrets with ROPA_SECRET_KEY, without a database."""

from __future__ import annotations

import base64
import hashlib

import pytest
from pydantic import SecretStr

from graph.secret_box import SecretBox, SecretKeyInvalid, SecretUnreadable, new_key
from graph.webhooks import new_secret

OLD, NEW = new_key(), new_key()


def _box(key: str, *previous: str) -> SecretBox:
    return SecretBox.from_setting(
        SecretStr(key), required=True, previous=SecretStr(",".join(previous))
    )


def test_a_sealed_secret_opens_and_shows_nothing_of_itself() -> None:
    secret = new_secret()
    sealed = _box(NEW).seal(secret)
    assert sealed.startswith("fernet:")
    assert secret not in sealed
    assert secret.removeprefix("whsec_") not in sealed
    assert _box(NEW).open(sealed).get_secret_value() == secret
    # Fernet tokens are randomised: the same secret never seals the same way twice.
    assert _box(NEW).seal(secret) != sealed


def test_the_current_key_seals_and_previous_ones_still_open() -> None:
    sealed = _box(OLD).seal("whsec_x")
    both = SecretBox.from_setting(
        SecretStr(f" {NEW} "), required=True, previous=SecretStr(f" {new_key()}, {OLD} ")
    )
    assert both.open(sealed).get_secret_value() == "whsec_x"
    assert both.action(sealed) == "re-encrypt"
    assert both.action(both.reseal(sealed)) == "current"
    assert both.action("whsec_plain") == "encrypt"
    assert both.key_id == _box(NEW).key_id != _box(OLD).key_id


def test_a_missing_key_is_an_error_only_where_required() -> None:
    with pytest.raises(SecretKeyInvalid, match="ROPA_SECRET_KEY is not set"):
        SecretBox.from_setting(None, required=True)
    with pytest.raises(SecretKeyInvalid, match="ROPA_SECRET_KEY is not set"):
        SecretBox.from_setting(SecretStr("  "), required=True)
    keyless = SecretBox.from_setting(None, required=False)
    assert not keyless.encrypts
    assert keyless.seal("whsec_x") == "whsec_x"
    with pytest.raises(SecretUnreadable, match="not set"):
        keyless.open(_box(NEW).seal("whsec_x"))


@pytest.mark.parametrize("bad", ["short", "x" * 31])
def test_a_short_key_is_refused_naming_which_and_the_fix(bad: str) -> None:
    with pytest.raises(SecretKeyInvalid) as caught:
        _box(bad)
    assert "ROPA_SECRET_KEY: must be at least 32 characters" in str(caught.value)
    assert "ropa secrets new-key" in str(caught.value)
    assert bad not in str(caught.value)
    with pytest.raises(SecretKeyInvalid, match=r"ROPA_SECRET_KEY_PREVIOUS\[1\]"):
        _box(NEW, OLD, bad)


def test_the_derived_key_is_bound_to_its_use() -> None:
    # A key made for another purpose from the same secret does not open the sealed value.
    from cryptography.fernet import Fernet, InvalidToken

    sealed = _box(NEW).seal("whsec_x").removeprefix("fernet:")
    naive = Fernet(base64.urlsafe_b64encode(hashlib.sha256(NEW.encode()).digest()))
    with pytest.raises(InvalidToken):
        naive.decrypt(sealed.encode())


def test_a_wrong_key_or_a_tampered_value_does_not_open() -> None:
    sealed = _box(OLD).seal("whsec_x")
    with pytest.raises(SecretUnreadable, match="no key in ROPA_SECRET_KEY opens"):
        _box(NEW).open(sealed)
    with pytest.raises(SecretUnreadable):
        _box(NEW).action(sealed)
    tampered = sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:]
    with pytest.raises(SecretUnreadable):
        _box(OLD).open(tampered)


def test_plaintext_from_before_encryption_still_opens() -> None:
    assert _box(NEW).open("whsec_legacy").get_secret_value() == "whsec_legacy"
