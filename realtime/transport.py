"""What the consumers need to know about the socket under them, when Daphne serves them.

Under Daphne, the ASGI `send` of a WebSocket message returns at once: the frame goes into
Twisted's user-space write buffer with no backpressure, so a client that reads slower than
the feed makes the server's memory grow without bound and the client sees stale prices.
Daphne passes each application `send=functools.partial(server.handle_reply, protocol)`;
this middleware (outside the session/auth wrappers, which wrap `send`) finds that protocol
and puts a `SocketTransport` in the scope, through which a consumer can

- read how many bytes are queued and not yet written to the kernel (`backlog()`): the hub
  conflates frames for a socket whose backlog is high and closes one that stays high;
- close with a code *and* a reason (Daphne's ASGI close drops the reason);
- bound the kernel send buffer (SO_SNDBUF), so a stalled client cannot park megabytes in
  the kernel before the backlog shows it (Linux autotunes it up to `tcp_wmem` max, 4 MiB);
- write a text frame straight to the transport (`write_text`): the WebSocket framing of a
  frame is built once per event (cached by the frame's text) and the same bytes go to every
  socket, skipping the per-socket ASGI → Daphne → autobahn path (measured in docs/realtime-delivery.md#benchmark:
  it is most of the server's CPU per delivery). Only for uncompressed sockets: Daphne does
  not negotiate permessage-deflate, and a socket that did would take the ASGI path.

Under any other server (or `WebsocketCommunicator` in tests) there is no transport: the
backlog reads 0 and closes go through ASGI.
"""

from __future__ import annotations

import functools
import inspect
import logging
import socket
import struct
import sys
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

SCOPE_KEY = "oddstream.transport"


@functools.lru_cache(maxsize=256)
def wire_text_frame(text: str) -> bytes:
    """A final, unmasked (server-to-client) WebSocket text frame (RFC 6455 §5.2)."""
    payload = text.encode()
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x81, length)
    elif length < 65536:
        header = struct.pack("!BBH", 0x81, 126, length)
    else:
        header = struct.pack("!BBQ", 0x81, 127, length)
    return header + payload


class SocketTransport:
    __slots__ = ("_protocol", "_transport")

    def __init__(self, protocol: Any) -> None:
        self._protocol = protocol
        self._transport = protocol.transport

    def write_text(self, text: str) -> bool:
        """Write one text frame now; False when the socket is not open (or not eligible)."""
        return self.write_wire(wire_text_frame(text))

    def write_wire(self, data: bytes) -> bool:
        """Write whole WebSocket frames (bytes from `wire_text_frame`, possibly several joined)."""
        protocol = self._protocol
        # Checked per write: compression is negotiated during the handshake, after this
        # object exists. Without it (and without auto-fragmentation) frames go out whole.
        if protocol.state != protocol.STATE_OPEN or protocol._perMessageCompress is not None:
            return False
        if protocol.autoFragmentSize:
            return False
        transport = self._transport
        if (
            transport._tempDataLen
            or len(transport.dataBuffer) != transport.offset
            or transport.disconnecting
            or transport.TLS
            or not transport.connected
        ):
            transport.write(data)  # behind what is queued, in order
            return True
        # Nothing queued: one send() now, as Twisted's own doWrite would do on the next loop
        # turn, without registering the socket for writability and unregistering it after
        # (two epoll_ctl calls and a loop turn per delivery, most of the remaining cost).
        try:
            sent = transport.socket.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            transport.write(data)  # Twisted meets the error on its next write and closes its way
            return True
        if sent < len(data):
            transport.write(data[sent:])
        return True

    def backlog(self) -> int:
        """Bytes accepted by `send` but not yet handed to the kernel (Twisted's write buffer)."""
        transport = self._transport
        return len(transport.dataBuffer) - transport.offset + transport._tempDataLen

    def close(self, code: int, reason: str) -> bool:
        """Send a close frame with a reason; False if the socket is not open any more."""
        protocol = self._protocol
        if protocol.state != protocol.STATE_OPEN:
            return False
        protocol.sendClose(code=code, reason=reason)
        return True

    def limit_send_buffer(self, size: int) -> None:
        handle = self._transport.getHandle()
        handle.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, size)


def transport_of(send: Any) -> SocketTransport | None:
    if isinstance(send, functools.partial) and send.args:
        protocol = send.args[0]
        transport = getattr(protocol, "transport", None)
        if transport is not None and hasattr(transport, "_tempDataLen") and hasattr(protocol, "sendClose"):
            return SocketTransport(protocol)
    return None


# --- The probe: does the direct write path work with the installed Daphne, Twisted, autobahn? --
def _sets(cls: type, attribute: str) -> bool:
    """The class has the attribute, copies it from its factory (autobahn's CONFIG_ATTRS), or its
    code (or its bases') assigns `self.<attribute>`."""
    if hasattr(cls, attribute) or attribute in getattr(cls, "CONFIG_ATTRS", ()):
        return True
    sources = [inspect.getsource(base) for base in cls.__mro__ if base is not object]
    return any(f"self.{attribute} =" in source or f"self.{attribute}:" in source for source in sources)


def direct_write_problems() -> list[str]:
    """What `SocketTransport` reads of Daphne's protocol and Twisted's TCP transport and the
    installed versions lack (empty when the direct write path can work). The integration
    suite checks the rest on live sockets (`oddstream_realtime_direct_write`)."""
    import daphne.server
    from daphne.ws_protocol import WebSocketProtocol
    from twisted.internet import tcp

    wanted = {
        daphne.server.Server: ("handle_reply",),
        WebSocketProtocol: ("state", "STATE_OPEN", "_perMessageCompress", "autoFragmentSize", "sendClose"),
        tcp.Connection: ("dataBuffer", "offset", "_tempDataLen", "TLS", "connected", "disconnecting", "socket"),
    }
    return [
        f"{cls.__module__}.{cls.__qualname__} has no {attribute}"
        for cls, attributes in wanted.items()
        for attribute in attributes
        if not _sets(cls, attribute)
    ]


class DirectWrite:
    """Whether this process writes frames straight to Daphne's transports: None until known,
    then True or False (exported as `oddstream_realtime_direct_write`)."""

    available: bool | None = None

    @classmethod
    def unavailable(cls, why: str) -> None:
        if cls.available is not False:
            logger.error(
                "Direct WebSocket writes are off under Daphne (%s): every frame takes the ASGI path, "
                "at several times the CPU per delivery, and backpressure is blind. Check the pinned "
                "Daphne, Twisted and autobahn versions against realtime/transport.py.",
                why,
            )
        cls.available = False


def under_daphne() -> bool:
    return "daphne.server" in sys.modules and "daphne.cli" in sys.modules


class DaphneTransportMiddleware:
    """Puts the socket's `SocketTransport` (or None) in `scope["oddstream.transport"]`."""

    def __init__(self, application: Any) -> None:
        self.application = application
        if under_daphne():
            problems = direct_write_problems()
            if problems:
                DirectWrite.unavailable("; ".join(problems))

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        transport = transport_of(send) if scope.get("type") == "websocket" else None
        if scope.get("type") == "websocket" and under_daphne():
            if transport is None:
                DirectWrite.unavailable("the probe found no transport behind ASGI `send`")
            elif DirectWrite.available is None:
                DirectWrite.available = True
        if transport is not None and settings.REALTIME_SOCKET_SNDBUF:
            try:
                transport.limit_send_buffer(settings.REALTIME_SOCKET_SNDBUF)
            except OSError:
                logger.debug("Could not set SO_SNDBUF", exc_info=True)
        return await self.application({**scope, SCOPE_KEY: transport}, receive, send)
