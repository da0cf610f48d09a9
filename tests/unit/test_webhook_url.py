from __future__ import annotations

import re
from collections.abc import Iterable

import pytest

from schema.webhook_url import (
    InvalidWebhookUrl,
    Resolver,
    TargetPolicy,
    check_addresses,
    parse_webhook_url,
    resolve_webhook_url,
    validate_webhook_url,
)

STRICT = TargetPolicy()
LOOPBACK = TargetPolicy(allow_loopback=True)


def _resolver(answers: dict[str, list[str]]) -> Resolver:
    def resolve(host: str, port: int) -> Iterable[str]:
        if host not in answers:
            raise OSError(f"unknown host {host}")
        return answers[host]

    return resolve


def test_https_url_with_port_path_and_query_is_parsed() -> None:
    target = parse_webhook_url("https://Hooks.Example.com:8443/a/b?x=1", STRICT)
    assert (target.scheme, target.host, target.port) == ("https", "hooks.example.com", 8443)


def test_default_ports_follow_the_scheme() -> None:
    assert parse_webhook_url("http://example.com/", STRICT).port == 80
    assert parse_webhook_url("https://example.com", STRICT).port == 443


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/x", "scheme must be http or https"),
        ("file:///etc/passwd", "scheme must be http or https"),
        ("javascript:alert(1)", "scheme must be http or https"),
        ("https://user:pw@example.com/", "credentials"),
        ("https://user@example.com/", "credentials"),
        ("https:///path", "has no host"),
        ("https://example.com:99999/", "cannot be parsed"),
        ("https://example.com/a b", "whitespace"),
        ("https://example.com/#frag", "fragment"),
        ("https://" + "a" * 2100 + ".com/", "longer than"),
    ],
)
def test_malformed_or_unsafe_urls_are_refused_with_the_reason(url: str, reason: str) -> None:
    with pytest.raises(InvalidWebhookUrl, match=reason) as caught:
        parse_webhook_url(url, STRICT)
    assert caught.value.field == "url"
    assert str(caught.value).startswith("url: ")


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://127.0.0.1:8080/hook", "loopback"),
        ("http://[::1]/hook", "loopback"),
        ("http://10.1.2.3/", "private"),
        ("http://172.16.0.1/", "private"),
        ("http://192.168.1.10/", "private"),
        ("http://100.64.0.1/", "private"),
        ("http://[fd00::1]/", "private"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://[fe80::1]/", "link-local"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("http://192.0.2.1/", "reserved"),
        ("http://255.255.255.255/", "reserved"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
    ],
)
def test_non_public_ip_literals_are_refused_by_default(url: str, kind: str) -> None:
    with pytest.raises(InvalidWebhookUrl, match=f"{kind} address"):
        parse_webhook_url(url, STRICT)


def test_each_kind_of_internal_address_needs_its_own_permission() -> None:
    assert parse_webhook_url("http://127.0.0.1:9/", LOOPBACK).host == "127.0.0.1"
    with pytest.raises(InvalidWebhookUrl, match="private"):
        parse_webhook_url("http://10.0.0.1/", LOOPBACK)
    assert parse_webhook_url("http://10.0.0.1/", TargetPolicy(allow_private=True))
    with pytest.raises(InvalidWebhookUrl, match="link-local"):
        parse_webhook_url("http://169.254.169.254/", TargetPolicy(allow_private=True))
    assert parse_webhook_url("http://169.254.1.1/", TargetPolicy(allow_link_local=True))
    everything = TargetPolicy(allow_loopback=True, allow_private=True, allow_link_local=True)
    for never in ("http://0.0.0.0/", "http://224.0.0.1/", "http://192.0.2.1/"):
        with pytest.raises(InvalidWebhookUrl):
            parse_webhook_url(never, everything)


def test_public_ip_literals_are_allowed() -> None:
    assert parse_webhook_url("https://8.8.8.8/hook", STRICT).host == "8.8.8.8"
    assert parse_webhook_url("https://[2001:4860:4860::8888]/", STRICT).host == (
        "2001:4860:4860::8888"
    )


def test_names_are_checked_by_every_address_they_resolve_to() -> None:
    resolve = _resolver(
        {
            "hooks.example.com": ["93.184.216.34", "2606:2800:220:1::1"],
            "localhost": ["127.0.0.1", "::1"],
            "rebind.example.com": ["93.184.216.34", "10.0.0.5"],
            "decimal": ["127.0.0.1"],
        }
    )
    assert validate_webhook_url("https://hooks.example.com/x", STRICT, resolve).port == 443
    with pytest.raises(InvalidWebhookUrl, match=r"loopback address 127\.0\.0\.1 \(via localhost\)"):
        validate_webhook_url("http://localhost:8000/", STRICT, resolve)
    with pytest.raises(InvalidWebhookUrl, match=r"private address 10\.0\.0\.5"):
        validate_webhook_url("https://rebind.example.com/", STRICT, resolve)
    with pytest.raises(InvalidWebhookUrl, match="does not resolve"):
        validate_webhook_url("https://nowhere.example/", STRICT, resolve)
    assert validate_webhook_url("http://localhost:8000/", LOOPBACK, resolve).host == "localhost"


def test_a_name_resolving_to_nothing_is_refused() -> None:
    target = parse_webhook_url("https://empty.example/", STRICT)
    with pytest.raises(InvalidWebhookUrl, match="resolves to no address"):
        check_addresses(target, [], STRICT)


async def test_async_resolution_returns_the_checked_addresses() -> None:
    async def resolve(host: str, port: int) -> Iterable[str]:
        assert port == 8443
        return {"hooks.example.com": ["93.184.216.34"], "inside.example": ["192.168.0.2"]}[host]

    target, addresses = await resolve_webhook_url(
        "https://hooks.example.com:8443/", STRICT, resolve
    )
    assert (target.host, addresses) == ("hooks.example.com", ["93.184.216.34"])
    with pytest.raises(InvalidWebhookUrl, match="private"):
        await resolve_webhook_url("https://inside.example:8443/", STRICT, resolve)


@pytest.mark.parametrize(
    ("url", "kind", "inner"),
    [
        ("http://[64:ff9b::7f00:1]/", "loopback", "127.0.0.1"),  # NAT64
        ("http://[64:ff9b::10.0.0.1]/", "private", "10.0.0.1"),
        ("http://[2002:7f00:1::]/", "loopback", "127.0.0.1"),  # 6to4
        ("http://[2002:a9fe:a9fe::1]/", "link-local", "169.254.169.254"),
        ("http://[::127.0.0.1]/", "loopback", "127.0.0.1"),  # IPv4-compatible
        ("http://[::192.168.0.1]/", "private", "192.168.0.1"),
        ("http://[::ffff:169.254.169.254]/", "link-local", "169.254.169.254"),  # IPv4-mapped
        ("http://[::ffff:0:127.0.0.1]/", "loopback", "127.0.0.1"),  # IPv4-translated
        # Teredo: server 65.54.227.120, client 127.0.0.1 (stored inverted: 80ff:fffe)
        ("http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", "loopback", "127.0.0.1"),
    ],
)
def test_ipv6_transition_forms_are_judged_by_the_ipv4_address_they_embed(
    url: str, kind: str, inner: str
) -> None:
    with pytest.raises(InvalidWebhookUrl, match=rf"{kind} address {re.escape(inner)} \(embedded"):
        parse_webhook_url(url, STRICT)


def test_transition_forms_embedding_public_addresses_are_allowed() -> None:
    assert parse_webhook_url("http://[64:ff9b::8.8.8.8]/", STRICT).host == "64:ff9b::8.8.8.8"
    assert parse_webhook_url("http://[2002:808:808::1]/", STRICT).host == "2002:808:808::1"
    assert parse_webhook_url("http://[::ffff:8.8.8.8]/", STRICT)
    # Local-use NAT64's embedding depends on its network's prefix length: never allowed.
    with pytest.raises(InvalidWebhookUrl, match="reserved"):
        parse_webhook_url("http://[64:ff9b:1::808:808]/", STRICT)


def test_a_name_resolving_to_a_transition_form_is_refused_at_delivery_too() -> None:
    resolve = _resolver(
        {"nat64.example": ["64:ff9b::7f00:1"], "sixtofour.example": ["2002:a00:1::"]}
    )
    with pytest.raises(InvalidWebhookUrl, match=r"loopback address 127\.0\.0\.1 \(embedded in"):
        validate_webhook_url("https://nat64.example/", STRICT, resolve)
    with pytest.raises(InvalidWebhookUrl, match=r"private address 10\.0\.0\.1 .*via sixtofour"):
        validate_webhook_url("https://sixtofour.example/", STRICT, resolve)
