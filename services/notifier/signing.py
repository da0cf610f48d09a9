"""Standard Webhooks signatures, made with the `standardwebhooks` reference library."""

from __future__ import annotations

import datetime as dt

from pydantic import SecretStr
from standardwebhooks import Webhook


class Signer:
    """Signs messages for one endpoint (`whsec_...` secret)."""

    def __init__(self, secret: SecretStr) -> None:
        self._webhook = Webhook(secret.get_secret_value())

    def headers(self, msg_id: str, timestamp: dt.datetime, body: bytes) -> dict[str, str]:
        """`webhook-id`, `webhook-timestamp` and `webhook-signature` for one attempt.

        The signature is `v1,` and the base64 HMAC-SHA256 of `msg_id.timestamp.body`.
        """
        when = timestamp.astimezone(dt.UTC)
        return {
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(when.timestamp())),
            # The library reads the time as UTC wall-clock, hence the conversion above.
            "webhook-signature": self._webhook.sign(msg_id, when, body.decode("utf-8")),
        }
