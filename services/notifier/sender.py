"""One signed POST to one endpoint, and what came of it.

The host is resolved and every address checked (schema.webhook_url) before connecting, and
the request goes to the checked address with the original Host header and TLS server name,
so a DNS answer that changes after the check cannot turn the request inward. Redirects are
not followed, and no more than 64 KiB of a response body is read (and then dropped).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
from dataclasses import dataclass

import httpx

from graph.webhook_targets import system_resolve
from schema.webhook_url import AsyncResolver, TargetPolicy, resolve_webhook_url
from services.notifier.retry import parse_retry_after

USER_AGENT = "ropa-notifier/1 (Standard Webhooks)"
MAX_RESPONSE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Outcome:
    """What an attempt came to: delivered (2xx), gone (410), or to be retried."""

    delivered: bool
    gone: bool = False
    retry_after: float | None = None
    error: str | None = None


@dataclass(frozen=True)
class Connection:
    """Where to send an endpoint's requests: the checked address, and the original host."""

    url: httpx.URL
    host_header: str
    server_name: str | None


def client(timeout: float, connections: int) -> httpx.AsyncClient:
    """The HTTP client deliveries share: no redirects, no proxies from the environment."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    transport = httpx.AsyncHTTPTransport(
        limits=limits,
        # httpx writes headers and body separately: with Nagle's algorithm the body waits for
        # the receiver's delayed ACK, some 40 ms a request.
        socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
    )
    return httpx.AsyncClient(
        transport=transport,
        follow_redirects=False,
        timeout=httpx.Timeout(timeout),
        trust_env=False,
        headers={"user-agent": USER_AGENT},
    )


class Sender:
    """Posts signed bodies to endpoints through one shared client."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        policy: TargetPolicy,
        timeout: float,
        resolve: AsyncResolver = system_resolve,
    ) -> None:
        self._http = http
        self._policy = policy
        self._timeout = timeout
        self._resolve = resolve

    async def connect(self, url: str) -> Connection:
        """Check `url` and pin it to an allowed address; InvalidWebhookUrl if there is none."""
        target, addresses = await resolve_webhook_url(url, self._policy, self._resolve)
        original = httpx.URL(url)
        return Connection(
            url=original.copy_with(host=addresses[0].split("%", 1)[0]),
            host_header=original.netloc.decode("ascii"),
            server_name=target.host if target.scheme == "https" else None,
        )

    async def post(self, connection: Connection, headers: dict[str, str], body: bytes) -> Outcome:
        """Send one attempt; every failure becomes an Outcome, never an exception."""
        extensions = {"sni_hostname": connection.server_name} if connection.server_name else {}
        request = self._http.build_request(
            "POST",
            connection.url,
            content=body,
            headers={
                **headers,
                "host": connection.host_header,
                "content-type": "application/json",
            },
            extensions=extensions,
        )
        try:
            # httpx's timeout is per phase; this one bounds the whole attempt.
            async with asyncio.timeout(self._timeout):
                response = await self._http.send(request, stream=True)
                await _discard(response)
        except TimeoutError:
            return Outcome(False, error=f"no response within {self._timeout:g} s")
        except httpx.HTTPError as exc:
            return Outcome(False, error=f"{type(exc).__name__}: {exc}"[:300])
        status = response.status_code
        if 200 <= status < 300:
            return Outcome(True)
        if status == 410:
            return Outcome(False, gone=True, error="HTTP 410 Gone: endpoint disabled")
        retry_after = parse_retry_after(response.headers.get("retry-after"), _now())
        location = response.headers.get("location")
        error = f"HTTP {status}" + (f" (redirect to {location} not followed)" if location else "")
        return Outcome(False, retry_after=retry_after, error=error[:300])


async def _discard(response: httpx.Response) -> None:
    # Reading a short body to its end returns the connection to the pool for the next change;
    # a long one is cut off (and its connection dropped) rather than read into memory.
    try:
        received = 0
        async for chunk in response.aiter_raw():
            received += len(chunk)
            if received > MAX_RESPONSE_BYTES:
                break
    finally:
        await response.aclose()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
