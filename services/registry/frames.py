"""Direct frames: a `next` message framed once and written straight to each socket.

Sending a message the ASGI way costs, per socket, a coroutine through every middleware's
`send`, uvicorn's wait for the socket to be writable, its WebSocket protocol framing the text,
and a join of the bytes: at 10,000 subscribers, most of what a change costs the registry.
Every subscriber of a group that uses the same operation id (clients mostly all use "1") is
sent the very same bytes, so the multiplexer (services/registry/multiplex.py) frames them once
(`text_frame`) and writes them to each connection's transport (`DirectSocket.write`).

Only where that is the same as what uvicorn would have written: its sans-I/O websockets
implementation (what `ropa serve` runs), the connection open, its transport not closing and
not paused (the write buffer above the high-water mark: the ordinary path waits for it to
drain), and no permessage-deflate (each socket's frames are then compressed with its own
context). Otherwise `write` says no and the message goes the ordinary way.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import State

# Where `DirectFrames` leaves a WebSocket's uvicorn connection in the ASGI scope.
SCOPE_KEY = "ropa.websocket_protocol"


def text_frame(text: str) -> bytes:
    """`text` as one final, unmasked WebSocket text frame (RFC 6455 section 5.2), framed by
    websockets, the library uvicorn's own implementation frames it with."""
    return Frame(Opcode.TEXT, text.encode()).serialize(mask=False)


class DirectSocket:
    """One WebSocket's uvicorn connection, written to without the ASGI send path."""

    __slots__ = ("_protocol",)

    def __init__(self, protocol: WebSocketsSansIOProtocol) -> None:
        self._protocol = protocol

    def write(self, frame: bytes) -> bool:
        """Write `frame` now; False when it must go the ordinary way (closing, closed, paused)."""
        protocol = self._protocol
        if (
            protocol.close_sent
            or protocol.disconnected
            or not protocol.writable.is_set()
            or protocol.conn.state is not State.OPEN
        ):
            return False
        transport = protocol.transport
        if transport.is_closing():
            return False
        transport.write(frame)
        return True


def direct_socket(scope: Scope) -> DirectSocket | None:
    """The socket of this WebSocket's scope to write frames to; None when it must be sent
    to the ASGI way (another server or implementation, or permessage-deflate)."""
    protocol = scope.get(SCOPE_KEY)
    if not isinstance(protocol, WebSocketsSansIOProtocol):
        return None
    if not protocol.handshake_complete or protocol.conn.extensions:
        return None
    return DirectSocket(protocol)


class DirectFrames:
    """Outermost middleware: notes a WebSocket's uvicorn connection in its scope, where only
    uvicorn's own `send` (a method of the connection) shows it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, with the connection in a WebSocket's scope."""
        if scope["type"] == "websocket":
            protocol = getattr(send, "__self__", None)
            if isinstance(protocol, WebSocketsSansIOProtocol):
                scope[SCOPE_KEY] = protocol
        await self.app(scope, receive, send)
