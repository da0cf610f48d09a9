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

from schema.errors import ErrorCode, RopaError

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

    code = ErrorCode.WEBHOOK_URL_INVALID
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


# IPv6 forms that carry an IPv4 address, which is where the packet ends up: a NAT64 gateway
# (RFC 6052) or a 6to4 / Teredo relay forwards it there, and a dual-stack host treats
# IPv4-mapped and IPv4-compatible addresses as the IPv4 address itself.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 transition address leads to (none for a plain IPv6 one)."""
    low32 = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    if address in _NAT64 or address in _IPV4_TRANSLATED:
        return [low32]
    if address in _IPV4_COMPATIBLE and int(address) > 1:  # not :: or ::1, which are IPv6's own
        return [low32]
    if address.sixtofour is not None:
        return [address.sixtofour]
    if address.teredo is not None:
        server, client = address.teredo
        return [client, server]
    return []


def _own_kind(address: IpAddress) -> str:
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
    if isinstance(address, ipaddress.IPv6Address) and address in _NAT64_LOCAL:
        # Local-use NAT64 embeds its IPv4 address at a prefix length only its network knows.
        return "reserved"
    if address.is_global:
        return "public"
    # Documentation, benchmarking, broadcast, 6to4 relays, 240/4 ...: nobody's webhook lives there.
    return "reserved"


def address_kind(address: IpAddress) -> str:
    """'public', 'loopback', 'private', 'link-local', or a kind that is never allowed.

    An IPv6 transition address (NAT64, 6to4, Teredo, IPv4-mapped or -compatible) is judged by
    the IPv4 address it embeds; of several (Teredo), the least public one counts.
    """
    if isinstance(address, ipaddress.IPv6Address):
        kinds = [_own_kind(inner) for inner in embedded_ipv4(address)]
        if kinds:
            return next((kind for kind in kinds if kind != "public"), "public")
    return _own_kind(address)


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
        inner = embedded_ipv4(address) if isinstance(address, ipaddress.IPv6Address) else []
        culprit = next((a for a in inner if _own_kind(a) == kind), None)
        shown = f"{culprit} (embedded in {address})" if culprit else str(address)
        via = "" if _same(host, address) else f" (via {host})"
        raise InvalidWebhookUrl(f"{kind} address {shown}{via} is not an allowed target")


def _same(host: str, address: IpAddress) -> bool:
    try:
        return ipaddress.ip_address(host) == address
    except ValueError:
        return False


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
