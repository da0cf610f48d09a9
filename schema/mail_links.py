"""Signed links in e-mails and forms: confirm a subscription, unsubscribe, the form's CSRF token.

Pure (hmac, no I/O). A token is `payload.signature`, both base64url: the payload is JSON with
the purpose, the subject (a subscriber's id, a processor's id) and, for links that expire, the
expiry as Unix seconds; the signature is HMAC-SHA256 of the payload with a key derived from
ROPA_SECRET_KEY for this use only, so a token made for one purpose never passes for another.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence

from schema.errors import ErrorCode, RopaError

CONFIRM = "confirm"
UNSUBSCRIBE = "unsubscribe"
SUBSCRIBE_FORM = "subscribe-form"


class InvalidLink(RopaError):
    """A token that was not made by this registry, or for another purpose."""

    code = ErrorCode.INVALID_LINK


class ExpiredLink(RopaError):
    """A token whose time is up."""

    code = ErrorCode.LINK_EXPIRED


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode("utf-8"), b"ropa-registry mail links v1", hashlib.sha256).digest()


def _signature(secret: str, payload: str) -> str:
    return _b64(hmac.new(_key(secret), payload.encode("ascii"), hashlib.sha256).digest())


def sign(secret: str, purpose: str, subject: str, expires_at: int | None = None) -> str:
    """A token for `purpose` and `subject`, valid until `expires_at` (Unix seconds; None: ever)."""
    body = {"p": purpose, "s": subject} | ({} if expires_at is None else {"e": expires_at})
    payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode("utf-8"))
    return f"{payload}.{_signature(secret, payload)}"


def verify(keys: Sequence[str], purpose: str, token: str, now: float) -> str:
    """The subject of a token made for `purpose` with any of `keys` (the keyring: current key
    first); InvalidLink or ExpiredLink otherwise."""
    if isinstance(keys, str):
        raise TypeError("keys: a sequence of keys, not one key")
    payload, _, signature = token.strip().partition(".")
    if not payload or not signature or not payload.isascii():
        raise InvalidLink("this link is not one this registry made (it may be cut short)")
    if not any(hmac.compare_digest(signature, _signature(key, payload)) for key in keys):
        raise InvalidLink("this link is not one this registry made (it may be cut short)")
    try:
        body = json.loads(_unb64(payload))
    except (ValueError, binascii.Error) as exc:
        raise InvalidLink("this link is damaged") from exc
    if not isinstance(body, dict) or body.get("p") != purpose or not isinstance(body.get("s"), str):
        raise InvalidLink("this link is for something else")
    expires = body.get("e")
    if isinstance(expires, int) and now > expires:
        raise ExpiredLink("this link has expired; subscribe again to get a new one")
    subject: str = body["s"]
    return subject
