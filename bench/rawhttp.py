"""A lean HTTP/1.1 client for the benchmarks: one keep-alive connection, JSON POSTs, no more.

The benchmarks compare the registry over HTTP with the bare traversal through the driver, and
both sides run in the benchmark's process, on the same two cores as the registry and Neo4j.
httpx spends about 3 ms of this process's CPU per request (its request and response models,
header handling, the anyio stream layers, its JSON), which sits inside the HTTP timing at
concurrency 1 and on the shared cores at 16; the driver side has no such layer. This client
does what a lean production client (a browser's fetch, curl, a Go or Java client) does: write
the request in one send, read the status line, headers and body, decode the JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType
from urllib.parse import urlsplit

import orjson


class HttpError(Exception):
    """The server's answer could not be read as HTTP/1.1."""


class RawClient:
    """One keep-alive connection to `url`, reopened when the server closes it."""

    def __init__(self, url: str, timeout: float = 300) -> None:
        parts = urlsplit(url)
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 80
        self._host_header = parts.netloc.encode()
        self._timeout = timeout
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> RawClient:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the connection, if open."""
        writer, self._writer, self._reader = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):  # already gone
                await writer.wait_closed()

    async def post_json(self, path: str, payload: object) -> tuple[int, object]:
        """POST `payload` as JSON to `path`; the status and the decoded JSON answer."""
        body = orjson.dumps(payload)
        head = (
            b"POST "
            + path.encode()
            + b" HTTP/1.1\r\nHost: "
            + self._host_header
            + b"\r\nContent-Type: application/json\r\nAccept: application/json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
        )
        async with asyncio.timeout(self._timeout):
            status, answer, keep = await self._exchange(head + body)
        if not keep:
            await self.close()
        return status, orjson.loads(answer)

    async def _exchange(self, request: bytes) -> tuple[int, bytes, bool]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        reader, writer = self._reader, self._writer
        if reader is None:
            raise HttpError("no connection")
        writer.write(request)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            # The server closed an idle keep-alive connection: one fresh attempt.
            await self.close()
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
            self._writer.write(request)
            reader = self._reader
            head = await reader.readuntil(b"\r\n\r\n")
        status_line, *lines = head[:-4].split(b"\r\n")
        parts = status_line.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
            raise HttpError(f"not an HTTP/1.1 status line: {status_line!r}")
        headers = {}
        for line in lines:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        keep = headers.get(b"connection", b"").lower() != b"close"
        if b"content-length" in headers:
            body = await reader.readexactly(int(headers[b"content-length"]))
        elif headers.get(b"transfer-encoding", b"").lower() == b"chunked":
            body = await _chunked(reader)
        else:
            raise HttpError("an answer with neither Content-Length nor chunked encoding")
        return int(parts[1]), body, keep


async def _chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass  # trailers, unused
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)
