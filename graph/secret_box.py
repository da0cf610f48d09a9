"""Webhook signing secrets at rest: encrypted with the key(s) in `ROPA_SECRET_KEY`.

The registry seals a secret when it registers an endpoint; the notifier opens it to sign each
delivery; `ropa secrets rotate` re-seals every stored secret under the newest key. All three
use this one module (the layer both services stand on).

`ROPA_SECRET_KEY` is the installation's one secret (at least 32 characters; `ropa secrets
new-key` makes one); the e-mail links are signed with keys derived from it (schema.mail_links),
and secrets here are sealed with another derived from it by HKDF-SHA256 for this use only.
`ROPA_SECRET_KEY_PREVIOUS` lists earlier values (comma-separated) that still open what they
sealed (`cryptography`'s MultiFernet: the first key seals, every one opens), until `ropa secrets
rotate` has re-sealed everything under the current one. Fernet is AES-128-CBC with an
HMAC-SHA256 over the whole token: a stored value that was tampered with does not open. A sealed
value is stored as `fernet:<token>`; a value without that prefix is
a plaintext secret from before encryption (or from a development stack without a key), which
`open` still reads and `rotate` seals.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Sequence
from typing import Literal

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import SecretStr

from schema.errors import ErrorCode, RopaError
from schema.keyring import secret_keys

PREFIX = "fernet:"
SOURCE = "ROPA_SECRET_KEY"
MIN_LENGTH = 32
# Binds the derived key to this use: the same ROPA_SECRET_KEY signs e-mail links differently.
_PURPOSE = b"ropa/webhook-signing-secrets/v1"

Action = Literal["current", "re-encrypt", "encrypt"]


class SecretKeyInvalid(RopaError):
    """`ROPA_SECRET_KEY` (or an earlier one) is missing where required, or too short."""

    code = ErrorCode.SECRET_KEY_INVALID


class SecretUnreadable(RopaError):
    """A stored secret that none of the configured keys opens."""

    code = ErrorCode.SECRET_UNREADABLE


def new_key() -> str:
    """A fresh value for `ROPA_SECRET_KEY` (32 random bytes, url-safe base64)."""
    return secrets.token_urlsafe(32)


def _fernet(text: str, source: str) -> Fernet:
    if len(text) < MIN_LENGTH:
        raise SecretKeyInvalid(
            f"{source}: must be at least {MIN_LENGTH} characters of random text, not "
            f"{len(text)}; make one with `ropa secrets new-key`"
        )
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(
        text.encode("utf-8")
    )
    return Fernet(base64.urlsafe_b64encode(derived))


class SecretBox:
    """Seals and opens stored secrets; with no key it stores them as they are (development)."""

    def __init__(self, keys: Sequence[str] = ()) -> None:
        """`keys`: the current ROPA_SECRET_KEY first, then earlier ones (none: no encryption)."""
        self._keys = [
            _fernet(k, SOURCE if i == 0 else f"ROPA_SECRET_KEY_PREVIOUS[{i - 1}]")
            for i, k in enumerate(keys)
        ]
        self._primary_id = (
            hashlib.sha256(_PURPOSE + keys[0].encode()).hexdigest()[:8] if keys else None
        )
        self._all = MultiFernet(self._keys) if self._keys else None

    @classmethod
    def from_setting(
        cls, value: SecretStr | None, required: bool, previous: SecretStr | None = None
    ) -> SecretBox:
        """The box for `ROPA_SECRET_KEY` (and `ROPA_SECRET_KEY_PREVIOUS`); SecretKeyInvalid if
        one cannot be used, or if it is unset and `required` (production)."""
        keys = secret_keys(value, previous)
        if not keys and required:
            raise SecretKeyInvalid(
                f"{SOURCE} is not set: webhook signing secrets are stored encrypted with a key "
                "derived from it (and e-mail links are signed with it). "
                "Make one with `ropa secrets new-key` and give the registry, the notifier and "
                "`ropa secrets` the same value (ROPA_ENV=development runs without one, storing "
                "secrets as they are)"
            )
        return cls(keys)

    @property
    def encrypts(self) -> bool:
        """Whether secrets are sealed (a key is configured)."""
        return self._all is not None

    @property
    def key_id(self) -> str | None:
        """A short fingerprint of the sealing key (safe to print), or None without a key."""
        return self._primary_id

    def seal(self, secret: str) -> str:
        """The stored form of `secret`: sealed under the newest key, or as is without a key."""
        if self._all is None:
            return secret
        return PREFIX + self._all.encrypt(secret.encode("utf-8")).decode("ascii")

    def open(self, stored: str) -> SecretStr:
        """The secret a stored value holds; SecretUnreadable when no configured key opens it."""
        if not stored.startswith(PREFIX):
            return SecretStr(stored)
        if self._all is None:
            raise SecretUnreadable(f"the secret is encrypted but {SOURCE} is not set")
        try:
            return SecretStr(self._all.decrypt(stored[len(PREFIX) :].encode("ascii")).decode())
        except (InvalidToken, UnicodeError) as exc:
            raise SecretUnreadable(
                f"no key in {SOURCE} opens the secret (a key removed too soon, or another "
                "installation's)"
            ) from exc

    def action(self, stored: str) -> Action:
        """What `rotate` does with a stored value: nothing, re-seal it, or seal plaintext.

        SecretUnreadable when no configured key opens it; SecretKeyInvalid without a key.
        """
        if self._all is None:
            raise SecretKeyInvalid(f"{SOURCE} is not set: there is no key to encrypt with")
        if not stored.startswith(PREFIX):
            return "encrypt"
        token = stored[len(PREFIX) :].encode("ascii")
        try:
            self._keys[0].decrypt(token)
            return "current"
        except InvalidToken:
            self.open(stored)
            return "re-encrypt"

    def reseal(self, stored: str) -> str:
        """`stored` sealed under the newest key (SecretUnreadable if no key opens it)."""
        return self.seal(self.open(stored).get_secret_value())
