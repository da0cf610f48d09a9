"""Many graphql-transport-ws subscribers in one client process, each as lean as it can be.

The subscription benchmark runs 10,000 subscribers on the same two cores as the registry it
measures: a client library's per-frame cost (a task woken per message, a frame parser per
frame, JSON decoded per message) would take the CPU from the registry and be measured as its
latency. Here each subscriber is an `asyncio.Protocol`: the HTTP upgrade and the frames of
RFC 6455 by hand (the server's frames are unmasked and whole; the client's are masked), each
`next` message read for its sequence only where it arrives, pings answered with pongs. Like a
browser, a subscriber sends no keepalive pings of its own; the registry pings it.
"""

from __future__ import annotations

import asyncio
import base64
import gc
import json
import os
import sys
import time
from typing import cast
from urllib.parse import urlsplit

# Where a `next` message's change carries its sequence (the benchmark's selection asks it).
_SEQUENCE = b'"sequence":'
_OPCODE_TEXT, _OPCODE_CLOSE, _OPCODE_PING, _OPCODE_PONG = 1, 8, 9, 10


def _frame(opcode: int, payload: bytes) -> bytes:
    """A client's frame: final, masked (RFC 6455 section 5.3)."""
    size = len(payload)
    if size < 126:
        head = bytes((0x80 | opcode, 0x80 | size))
    elif size < 1 << 16:
        head = bytes((0x80 | opcode, 0x80 | 126)) + size.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + size.to_bytes(8, "big")
    key = os.urandom(4)
    repeated = (key * (size // 4 + 1))[:size]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(
        size, "big"
    )
    return head + key + masked


class Subscriber(asyncio.Protocol):
    """One socket, one subscription; `received` gets (sequence, arrival time) per change."""

    def __init__(self, url: str, query: str, subscribed: asyncio.Future[None]) -> None:
        parts = urlsplit(url)
        self._request = (
            f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"
        ).encode()
        self._subscribe = json.dumps(
            {"id": "1", "type": "subscribe", "payload": {"query": query}}
        ).encode()
        self._subscribed = subscribed
        self._buffer = bytearray()
        self._upgraded = False
        self._acknowledged = False
        self._transport: asyncio.Transport | None = None
        self.received: list[tuple[int, float]] = []
        self.failure: str | None = None
        self.stopping = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Send the upgrade request."""
        # uvloop's transports are not asyncio.Transport instances, but they write the same.
        self._transport = cast(asyncio.Transport, transport)
        self._transport.write(self._request)

    def connection_lost(self, exc: Exception | None) -> None:
        """A socket closed before the benchmark stopped is a failure."""
        if not self.stopping:
            self._fail(f"connection lost: {exc!r}")

    def _fail(self, why: str) -> None:
        self.failure = self.failure or why
        if not self._subscribed.done():
            self._subscribed.set_result(None)
        if self._transport is not None:
            self._transport.close()

    def _send(self, opcode: int, payload: bytes) -> None:
        if self._transport is not None:
            self._transport.write(_frame(opcode, payload))

    def data_received(self, data: bytes) -> None:
        """Take whole frames off the buffer as they arrive."""
        at = time.time()
        buffer = self._buffer
        buffer += data
        if not self._upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buffer.startswith(b"HTTP/1.1 101"):
                self._fail(f"upgrade refused: {bytes(buffer[:end])!r}")
                return
            del buffer[: end + 4]
            self._upgraded = True
            self._send(_OPCODE_TEXT, b'{"type":"connection_init"}')
        while len(buffer) >= 2:
            first, second = buffer[0], buffer[1]
            if not first & 0x80 or second & 0x80:
                self._fail("a fragmented or masked frame from the server")
                return
            size, start = second & 0x7F, 2
            if size == 126:
                size, start = int.from_bytes(buffer[2:4], "big"), 4
            elif size == 127:
                size, start = int.from_bytes(buffer[2:10], "big"), 10
            if len(buffer) < start + size:
                return
            payload = bytes(buffer[start : start + size])
            del buffer[: start + size]
            self._frame_received(first & 0x0F, payload, at)

    def _frame_received(self, opcode: int, payload: bytes, at: float) -> None:
        if opcode == _OPCODE_PING:
            self._send(_OPCODE_PONG, payload)
        elif opcode == _OPCODE_CLOSE:
            self._fail(f"closed by the registry: {payload!r}")
        elif opcode == _OPCODE_TEXT:
            self._message(payload, at)

    def _message(self, payload: bytes, at: float) -> None:
        if not self._acknowledged:
            if json.loads(payload).get("type") != "connection_ack":
                self._fail(f"no connection_ack: {payload!r}")
                return
            self._acknowledged = True
            self._send(_OPCODE_TEXT, self._subscribe)
            self._subscribed.set_result(None)
            return
        at_sequence = payload.find(_SEQUENCE)
        if (
            at_sequence < 0
            or not payload.startswith(b'{"id":"1","type":"next"')
            or b'"errors"' in payload
        ):
            self._fail(f"unexpected message: {payload[:300]!r}")
            return
        start = at_sequence + len(_SEQUENCE)
        while payload[start] == 0x20:  # json.dumps puts a space after the colon
            start += 1
        end = start
        while payload[end] in b"0123456789":
            end += 1
        self.received.append((int(payload[start:end]), at))

    def stop(self) -> None:
        """Close without counting it as a failure."""
        self.stopping = True
        if self._transport is not None:
            self._transport.close()


async def run(url: str, count: int, query: str) -> None:
    """Open `count` subscribers; READY on stdout; on a line on stdin, report and stop."""
    loop = asyncio.get_running_loop()
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    opening = asyncio.Semaphore(50)  # a few handshakes at a time
    subscribers: list[Subscriber] = []
    failures: list[str] = []

    async def one() -> None:
        subscribed: asyncio.Future[None] = loop.create_future()
        subscriber = Subscriber(url, query, subscribed)
        subscribers.append(subscriber)
        async with opening:
            try:
                await loop.create_connection(lambda: subscriber, host, port)
                async with asyncio.timeout(60):
                    await subscribed
            except (OSError, TimeoutError) as exc:
                failures.append(repr(exc))

    await asyncio.gather(*(one() for _ in range(count)))
    # The subscribers live as long as the run: out of the collector's sight, so that its full
    # collections over them (a few hundred ms, in every client process at about the same
    # change, as they allocate alike) are not measured as the registry's latency.
    gc.collect()
    gc.freeze()
    print("READY", flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)
    for subscriber in subscribers:
        subscriber.stop()
    failures += [s.failure for s in subscribers if s.failure]
    received = [s.received for s in subscribers]
    print(json.dumps({"received": received, "failures": failures}), flush=True)
