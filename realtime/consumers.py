"""The base of every Oddstream WebSocket consumer: a small protocol state machine over the hub.

`StreamConsumer` holds what every socket shares: authentication and the socket caps, frame
checks, rate limits, conflated delivery through the hub, closing with a code and a reason. The
endpoints are the domains': `betting.consumers` (`/ws/odds/`, and the seed's `/ws/cotes/`),
`blog.consumers` (`/ws/blog/`); `config.routing` lists them.

A consumer attaches itself to the layer's hub as a socket, then joins channel-layer groups the
Channels way (`group_add(group, self.channel_name)`): messages of the fast-path groups are then
written straight to the socket, encoded once for all of them, with no handler call per socket.

Whatever ends a consumer (a disconnect, a close, an exception anywhere in it), it gives back what
it holds: its places in the socket caps, its credential watch, its place in the hub.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from autobahn.exception import Disconnected
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from realtime import streams
from realtime.auth import AUTH_ERROR_KEY
from realtime.caps import socket_caps
from realtime.credentials import (
    CHECKED_AT_KEY,
    EXPIRES_AT_KEY,
    ISSUED_AT_KEY,
    private_feed_refusal,
    revocations,
    session_expires_at,
)
from realtime.hub import Hub
from realtime.outbox import Outbox
from realtime.transport import SCOPE_KEY, SocketTransport

logger = logging.getLogger(__name__)

# Close codes (4000-4999 are the application's); docs/websocket-protocol.md lists them for clients.
CLOSE_TOO_MANY_BAD_FRAMES = 4400  # the client keeps sending frames it should not
CLOSE_UNAUTHORIZED = 4401
CLOSE_NOT_FOUND = 4404
CLOSE_TOO_SLOW = 4408
CLOSE_TOO_MANY_SOCKETS = 4429

MAX_FRAME_BYTES = 4096
MAX_FRAME_DEPTH = 32  # nested arrays and objects; the protocol's frames nest two or three deep
BAD_FRAMES_REFILL_PER_SECOND = 1.0

_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def nested_deeper_than(text: str, limit: int) -> bool:
    """Whether the JSON text nests arrays and objects deeper than `limit` (brackets inside
    strings do not count). Python's parser recurses once per level: a frame of a few thousand
    brackets raises RecursionError, so the depth is checked before parsing, never by it."""
    if text.count("[") + text.count("{") <= limit:
        return False  # the frames of the protocol: no scan
    depth = 0
    for bracket in _JSON_BRACKET.finditer(_JSON_STRING.sub("", text)):
        depth += 1 if bracket.group() in "[{" else -1
        if depth > limit:
            return True
    return False


class TokenBucket:
    """`rate` tokens a second up to `burst`; `take` spends one if there is one."""

    __slots__ = ("_burst", "_rate", "_stamp", "_tokens")

    def __init__(self, rate: float, burst: int) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


class BadRequest(Exception):
    def __init__(self, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra


class StreamConsumer(AsyncWebsocketConsumer):
    """What every Oddstream socket does; subclasses add `open` and their action handlers."""

    presence_stream = "odds"
    wants_presence = False
    wants_heartbeat = True

    user_id: int | None = None
    hub: Hub | None = None
    outbox: Outbox | None = None
    transport: SocketTransport | None = None
    closing = False
    # The credential (realtime.credentials) and the caps (realtime.caps).
    session_key: str | None = None
    checked_at = 0.0
    issued_at = 0.0
    client_ip: str | None = None
    counted = False
    watched = False
    credential_end: asyncio.Task[None] | None = None

    def actions(self) -> dict[str, Callable[[dict[str, Any]], Awaitable[None]]]:
        return {"ping": self.action_ping}

    # --- Lifecycle --------------------------------------------------------------
    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            # Whatever ended the consumer: a disconnect, or an exception in any handler (then
            # Daphne closes the socket 1011 and `disconnect` never runs). What it holds goes back.
            self.release()

    async def connect(self) -> None:
        self.transport = self.scope.get(SCOPE_KEY)
        self.requests = TokenBucket(settings.REALTIME_CLIENT_FRAMES_PER_SECOND, settings.REALTIME_CLIENT_FRAMES_BURST)
        self.bad_frames = TokenBucket(BAD_FRAMES_REFILL_PER_SECOND, settings.REALTIME_BAD_FRAMES_BURST)
        user = self.scope.get("user")
        self.user_id = user.pk if user is not None and user.is_authenticated else None
        auth_error = self.scope.get(AUTH_ERROR_KEY)
        if auth_error:
            # Accept first: a handshake refused with 403 tells the client nothing.
            await self.accept()
            logger.info("WebSocket %s refused: %s", self.scope.get("path"), auth_error)
            await self.refuse(CLOSE_UNAUTHORIZED, "unauthorized", auth_error)
            return
        if self.user_id is not None:
            refused = await database_sync_to_async(private_feed_refusal)(self.user_id)
            if refused is not None:
                # The account may not follow its own events now (a break): public streams only.
                logger.info("WebSocket of user %s opens without private events: %s", self.user_id, refused)
                self.user_id = None
        refusal = await self.credentials_bind()
        if refusal is not None:
            await self.accept()
            logger.info("WebSocket %s refused: %s", self.scope.get("path"), refusal[2])
            await self.refuse(*refusal)
            return
        await self.open()

    async def credentials_bind(self) -> tuple[int, str, str] | None:
        """Count the socket against the caps, and bind it to its credential: closed when the
        credential is revoked (on any process) or expires. (close code, error code, reason)
        when the socket may not open."""
        client = self.scope.get("client")
        self.client_ip = str(client[0]) if client else None
        too_many = socket_caps.admit(self.user_id, self.client_ip)
        if too_many is not None:
            return CLOSE_TOO_MANY_SOCKETS, "too_many_sockets", too_many
        self.counted = True
        if self.user_id is None:
            return None
        self.checked_at = self.scope.get(CHECKED_AT_KEY, time.monotonic())
        if ISSUED_AT_KEY in self.scope:  # a JWT
            self.issued_at, expires_at, expired = self.scope[ISSUED_AT_KEY], self.scope[EXPIRES_AT_KEY], "token expired"
        else:  # the session
            session = self.scope["session"]
            self.session_key, self.issued_at = session.session_key, time.time()
            expires_at, expired = await session_expires_at(session), "session expired"
        revocations.listen()
        # Listening before the socket opens: no revocation can fall between the two.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(revocations.connected.wait(), timeout=2.0)
        revoked = revocations.add(self)
        if revoked is not None:
            return CLOSE_UNAUTHORIZED, "credentials_revoked", revoked
        self.watched = True
        self.credential_end = asyncio.create_task(self.credentials_expire(expires_at, expired))
        return None

    async def credentials_expire(self, at: float, reason: str) -> None:
        await asyncio.sleep(max(0.0, at - time.time()))
        await self.credentials_ended(reason, code=reason.replace(" ", "_"))

    async def credentials_ended(self, reason: str, code: str = "credentials_revoked") -> None:
        """The socket's credential expired or was revoked: close it with 4401 and the reason."""
        if not self.closing:
            logger.info("Closing a WebSocket of user %s: %s", self.user_id, reason)
            await self.refuse(CLOSE_UNAUTHORIZED, code, reason)

    async def open(self) -> None:
        raise NotImplementedError

    async def join_hub(self) -> Hub:
        """Become a socket of the layer's hub; then `join` fast-path groups."""
        self.hub = self.channel_layer.attach(self.channel_name, self)
        return self.hub

    async def join(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)

    async def leave(self, group: str) -> None:
        await self.channel_layer.group_discard(group, self.channel_name)

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels' dispatch first hops to its one database thread to close stale connections
        # (`aclose_old_connections`), for every message, and its `websocket_disconnect` hops
        # there again. A disconnect touches no database: in a mass disconnect those hops queue
        # by the thousand on that one thread, each a round trip through the event loop. The
        # database work of every other handler goes through `database_sync_to_async`, which
        # closes stale connections itself. (The sockets join groups through the hub, not
        # Channels' `groups` attribute: nothing to discard here.)
        if message["type"] == "websocket.disconnect":
            await self.disconnect(message.get("code", 1000))
            raise StopConsumer()
        await super().dispatch(message)

    async def disconnect(self, code: int) -> None:
        self.release()

    def release(self) -> None:
        """Give back what the socket holds: its places in the caps, its credential watch, its
        place in the hub. Runs once, however the consumer ends (see `__call__`)."""
        self.closing = True
        if self.credential_end is not None and self.credential_end is not asyncio.current_task():
            self.credential_end.cancel()
        if self.watched:
            self.watched = False
            revocations.remove(self)
        if self.counted:
            self.counted = False
            socket_caps.release(self.user_id, self.client_ip)
        if self.hub is not None:
            hub, self.hub = self.hub, None
            hub.remove(self)

    async def resubscribed(self) -> None:
        """Redis came back after the hub lost events: subclasses resend their state."""

    # --- Sending ----------------------------------------------------------------
    async def deliver(self, key: Hashable | None, version: int, frame: str) -> None:
        """A frame from the hub (subclasses may filter or reshape it)."""
        await self.write(key, version, frame)

    async def deliver_batch(self, items: list[tuple[Hashable | None, int, str]], wire: bytes) -> None:
        """Several frames from the hub; `wire` is all of them framed and joined, built once for
        every socket that gets the same ones: one send() for the lot while the socket keeps up."""
        if self.closing:
            return
        transport = self.transport
        if (
            self.outbox is None
            and transport is not None
            and transport.backlog() < settings.REALTIME_BACKLOG_HIGH_BYTES
            and transport.write_wire(wire)
        ):
            return
        for key, version, frame in items:
            await self.deliver(key, version, frame)

    async def write(self, key: Hashable | None, version: int, frame: str) -> None:
        """Write the frame now, or keep it in the conflating outbox while the socket is behind."""
        if self.closing:
            return
        if self.outbox is None:
            transport = self.transport
            if transport is None:
                await self.send_asgi(frame)
                return
            if transport.backlog() < settings.REALTIME_BACKLOG_HIGH_BYTES:
                if not transport.write_text(frame):
                    await self.send_asgi(frame)
                return
            self.outbox = Outbox(settings.REALTIME_OUTBOX_MAX_FRAMES, time.monotonic())
            if self.hub is not None:
                self.hub.mark_congested(self)
        if not self.outbox.put(key, version, frame):
            await self.close_slow(f"more than {settings.REALTIME_OUTBOX_MAX_FRAMES} frames waiting")

    async def drain(self, now: float) -> bool:
        if self.closing or self.outbox is None:
            return True
        transport = self.transport
        if transport is None or transport.backlog() <= settings.REALTIME_BACKLOG_LOW_BYTES:
            outbox, self.outbox = self.outbox, None
            if self.hub is not None:
                self.hub.superseded(outbox.superseded)
            for frame in outbox.take():
                if transport is None or not transport.write_text(frame):
                    await self.send_asgi(frame)
            return True
        if now - self.outbox.congested_since > settings.REALTIME_SLOW_CLOSE_SECONDS:
            await self.close_slow(f"behind for more than {settings.REALTIME_SLOW_CLOSE_SECONDS:g} s")
            return True
        return False

    async def send_asgi(self, frame: str) -> None:
        """Send through ASGI. A client gone between the state check and this send makes
        Daphne's protocol raise; its `websocket.disconnect` is on its way, so stop writing."""
        try:
            await self.base_send({"type": "websocket.send", "text": frame})
        except Disconnected:
            self.closing = True

    async def send_frame(self, frame: dict[str, Any]) -> None:
        await self.write(None, 0, streams.encode_frame(frame))

    async def send_error(self, code: str, message: str, **extra: Any) -> None:
        await self.send_frame({"type": "error", "code": code, "message": message, **extra})

    async def refuse(self, close_code: int, error_code: str, reason: str) -> None:
        """Tell the client why in an `error` frame, then close with the code and the reason."""
        await self.send_error(error_code, reason)
        await self.close_with_reason(close_code, reason)

    async def close_with_reason(self, code: int, reason: str) -> None:
        self.closing = True
        reason = reason.encode()[:120].decode(errors="ignore")  # a close reason is at most 123 bytes
        # Daphne's ASGI close drops the reason; its protocol's own close keeps it.
        if self.transport is not None:
            self.transport.close(code, reason)
        else:
            await self.close(code=code, reason=reason)

    async def close_slow(self, why: str) -> None:
        logger.warning("Closing a slow WebSocket (user %s): %s", self.user_id, why)
        if self.hub is not None:
            self.hub.slow_socket_closed()
        self.outbox = None
        # The close frame queues behind the backlog; a client that never reads it is dropped
        # by the close-handshake timeout, which frees the buffer.
        await self.close_with_reason(CLOSE_TOO_SLOW, f"too slow: {why}")

    # --- Receiving --------------------------------------------------------------
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closing:
            return
        if not self.requests.take():
            await self.bad_frame("rate_limited", "Too many frames; slow down.")
            return
        if text_data is None:
            await self.bad_frame("bad_frame", "Send JSON text frames.")
            return
        if len(text_data) > MAX_FRAME_BYTES or len(text_data.encode()) > MAX_FRAME_BYTES:
            await self.bad_frame("frame_too_large", f"Frames are limited to {MAX_FRAME_BYTES} bytes.")
            return
        if nested_deeper_than(text_data, MAX_FRAME_DEPTH):
            await self.bad_frame("frame_too_deep", f"Frames nest at most {MAX_FRAME_DEPTH} levels deep.")
            return
        try:
            message = json.loads(text_data)
        except ValueError:  # JSONDecodeError, and numbers past Python's digit limit
            await self.bad_frame("bad_json", "The frame is not valid JSON.")
            return
        if not isinstance(message, dict):
            await self.bad_frame("bad_frame", "A frame is a JSON object with an `action`.")
            return
        action = message.get("action")
        handler = self.actions().get(action) if isinstance(action, str) else None
        if handler is None:
            await self.bad_frame("unknown_action", f"Unknown action {action!r}.")
            return
        try:
            await handler(message)
        except BadRequest as exc:
            await self.bad_frame(exc.code, exc.message, **exc.extra)

    async def bad_frame(self, code: str, message: str, **extra: Any) -> None:
        """Answer with an `error`; a socket that keeps sending bad frames is closed (4400)."""
        if not self.bad_frames.take():
            logger.info("Closing a WebSocket flooding bad frames (user %s)", self.user_id)
            await self.refuse(CLOSE_TOO_MANY_BAD_FRAMES, "too_many_bad_frames", "too many bad frames")
            return
        await self.send_error(code, message, **extra)

    async def action_ping(self, message: dict[str, Any]) -> None:
        await self.send_frame({"type": "pong", "ts": time.time()})
