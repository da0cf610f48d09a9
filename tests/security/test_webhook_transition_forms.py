"""The issue's webhook URLs embedding 127.0.0.1 are refused at registration and at delivery."""

from __future__ import annotations

from collections.abc import Iterable

import httpx
import pytest

from schema.webhook_url import InvalidWebhookUrl, TargetPolicy, parse_webhook_url
from services.notifier.sender import Sender

REPORTED = ["http://[64:ff9b::7f00:1]/", "http://[2002:7f00:1::]/", "http://[::127.0.0.1]/"]


@pytest.mark.parametrize("url", REPORTED)
def test_registration_refuses_transition_forms_embedding_loopback(url: str) -> None:
    with pytest.raises(InvalidWebhookUrl, match=r"loopback address 127\.0\.0\.1 \(embedded in"):
        parse_webhook_url(url, TargetPolicy())


@pytest.mark.parametrize("address", ["64:ff9b::7f00:1", "2002:7f00:1::", "::7f00:1"])
async def test_delivery_refuses_a_name_that_now_resolves_to_one(address: str) -> None:
    async def resolve(host: str, port: int) -> Iterable[str]:
        return [address]

    async with httpx.AsyncClient() as http:
        sender = Sender(http, TargetPolicy(), timeout=1.0, resolve=resolve)
        with pytest.raises(InvalidWebhookUrl, match=r"loopback address 127\.0\.0\.1"):
            await sender.connect("https://hooks.example.com/x")
