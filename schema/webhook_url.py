"""Which webhook URLs the registry accepts and the notifier will call (pure; no I/O here).

A webhook target is called by the server, so a URL is also a way to make the server reach
places its users cannot (SSRF): its own loopback, the private network, the cloud metadata
address. Only http and https are allowed, never credentials in the URL, and every address the
host resolves to must be public unless the policy allows that kind of address. Resolution is
the caller's (it is I/O): pass the addresses, or a resolver, to the functions below; the
notifier checks again at delivery time, since DNS answers change.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from schema.errors import RopaError

MAX_URL_LENGTH = 2048

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# (host, port) -> the addresses it resolves to; raises OSError when it does not resolve.
Resolver = Callable[[str, int], Iterable[str]]
AsyncResolver = Callable[[str, int], Awaitable[Iterable[str]]]

_PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
)


class InvalidWebhookUrl(RopaError):
    """A webhook URL that may not be used; `reason` says why."""

    code = "WEBHOOK_URL_INVALID"
    field = "url"

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"url: {reason}")


@dataclass(frozen=True)
class TargetPolicy:
    """Which non-public addresses a webhook may target; all off in production."""

    allow_loopback: bool = False
    allow_private: bool = False
    allow_link_local: bool = False


@dataclass(frozen=True)
class WebhookTarget:
    """A URL that passed the syntactic checks, split into what a caller needs to connect."""

    url: str
    scheme: str
    host: str
    port: int


def address_kind(address: IpAddress) -> str:
    """'public', 'loopback', 'private', 'link-local', or a kind that is never allowed."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_unspecified:
        return "unspecified"
    if address.is_multicast:
        return "multicast"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if any(address in network for network in _PRIVATE_NETWORKS):
        return "private"
    if address.is_global:
        return "public"
    # Documentation, benchmarking, broadcast, 6to4 relays, 240/4 ...: nobody's webhook lives there.
    return "reserved"


def address_allowed(address: IpAddress, policy: TargetPolicy) -> bool:
    """Whether the policy lets a webhook connect to `address`."""
    kind = address_kind(address)
    return (
        kind == "public"
        or (kind == "loopback" and policy.allow_loopback)
        or (kind == "private" and policy.allow_private)
        or (kind == "link-local" and policy.allow_link_local)
    )


def _refuse_address(address: IpAddress, policy: TargetPolicy, host: str) -> None:
    if not address_allowed(address, policy):
        kind = address_kind(address)
        via = "" if str(address) == host else f" (via {host})"
        raise InvalidWebhookUrl(f"{kind} address {address}{via} is not an allowed target")


def _split(url: str) -> SplitResult:
    if len(url) > MAX_URL_LENGTH:
        raise InvalidWebhookUrl(f"longer than {MAX_URL_LENGTH} characters")
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        raise InvalidWebhookUrl("contains whitespace or control characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError as exc:
        raise InvalidWebhookUrl(f"cannot be parsed ({exc})") from exc
    return parts


def parse_webhook_url(url: str, policy: TargetPolicy) -> WebhookTarget:
    """Check scheme, credentials, host and (for an IP literal) the address; no DNS."""
    parts = _split(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise InvalidWebhookUrl(f"scheme must be http or https, not '{parts.scheme}'")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise InvalidWebhookUrl("must not carry credentials (user:password@)")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise InvalidWebhookUrl("has no host")
    if parts.fragment:
        raise InvalidWebhookUrl("must not have a #fragment (it is never sent)")
    port = parts.port or (443 if scheme == "https" else 80)
    try:
        literal: IpAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        _refuse_address(literal, policy, host)
    return WebhookTarget(url=url, scheme=scheme, host=host, port=port)


def check_addresses(target: WebhookTarget, addresses: Iterable[str], policy: TargetPolicy) -> None:
    """Refuse the target unless it resolved, and to allowed addresses only (every one of them).

    One forbidden answer among several refuses the lot: a DNS name that mixes public and
    private answers is the usual way to slip past a check that looks at only one.
    """
    resolved = [ipaddress.ip_address(a.split("%", 1)[0]) for a in addresses]
    if not resolved:
        raise InvalidWebhookUrl(f"host {target.host} resolves to no address")
    for address in resolved:
        _refuse_address(address, policy, target.host)


def validate_webhook_url(url: str, policy: TargetPolicy, resolve: Resolver) -> WebhookTarget:
    """Parse `url` and check every address `resolve` gives for its host.

    The caller passes the resolver (e.g. one built on `socket.getaddrinfo`), so this module
    stays free of I/O.
    """
    target = parse_webhook_url(url, policy)
    try:
        addresses = list(resolve(target.host, target.port))
    except OSError as exc:
        raise InvalidWebhookUrl(f"host {target.host} does not resolve ({exc})") from exc
    check_addresses(target, addresses, policy)
    return target


async def resolve_webhook_url(
    url: str, policy: TargetPolicy, resolve: AsyncResolver
) -> tuple[WebhookTarget, list[str]]:
    """Like validate_webhook_url with an async resolver; also return the checked addresses.

    A caller that connects should connect to one of these addresses (not resolve again), so
    that a DNS answer changed after the check cannot redirect the request.
    """
    target = parse_webhook_url(url, policy)
    try:
        addresses = list(await resolve(target.host, target.port))
    except OSError as exc:
        raise InvalidWebhookUrl(f"host {target.host} does not resolve ({exc})") from exc
    check_addresses(target, addresses, policy)
    return target, addresses
