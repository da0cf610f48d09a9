"""Signatures checked by the reference library and by a verifier written here from the spec."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re

import pytest
from pydantic import SecretStr
from standardwebhooks import Webhook, WebhookVerificationError

from graph.webhooks import new_secret
from services.notifier.signing import Signer

# The example of the Standard Webhooks specification.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def spec_verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The specification's algorithm, independently of the library the notifier signs with."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for candidate in headers["webhook-signature"].split(" "):
        version, _, signature = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            return True
    return False


def test_the_specification_example_signs_to_its_published_signature() -> None:
    when = dt.datetime.fromtimestamp(SPEC_TIMESTAMP, dt.UTC)
    headers = Signer(SecretStr(SPEC_SECRET)).headers(SPEC_ID, when, SPEC_BODY)
    assert headers == {
        "webhook-id": SPEC_ID,
        "webhook-timestamp": str(SPEC_TIMESTAMP),
        "webhook-signature": SPEC_SIGNATURE,
    }
    assert spec_verify(SPEC_SECRET, headers, SPEC_BODY)


def test_a_fresh_signature_verifies_with_the_library_and_the_spec() -> None:
    secret = new_secret()
    body = '{"type":"subprocessor.added","data":{"processor":"école"}}'.encode()
    headers = Signer(SecretStr(secret)).headers("evt-1", dt.datetime.now(dt.UTC), body)
    assert Webhook(secret).verify(body, headers) == {
        "type": "subprocessor.added",
        "data": {"processor": "école"},
    }
    assert spec_verify(secret, headers, body)


def test_a_tampered_body_or_another_secret_fails_verification() -> None:
    secret = new_secret()
    body = b'{"sequence":1}'
    headers = Signer(SecretStr(secret)).headers("evt-1", dt.datetime.now(dt.UTC), body)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(b'{"sequence":2}', headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)
    assert not spec_verify(secret, {**headers, "webhook-id": "evt-2"}, body)


def test_the_timestamp_is_unix_seconds_whatever_the_time_zone() -> None:
    utc = dt.datetime(2024, 3, 1, 12, 0, 0, tzinfo=dt.UTC)
    paris = utc.astimezone(dt.timezone(dt.timedelta(hours=1)))
    signer = Signer(SecretStr(new_secret()))
    assert signer.headers("e", paris, b"{}") == signer.headers("e", utc, b"{}")
    assert signer.headers("e", utc, b"{}")["webhook-timestamp"] == str(int(utc.timestamp()))


def test_new_secrets_are_whsec_and_24_random_bytes() -> None:
    secrets = {new_secret() for _ in range(50)}
    assert len(secrets) == 50
    for secret in secrets:
        assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{32}", secret)
        assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 24
