"""WebSocket consumers: small protocol state machines over the process's hub.

`/ws/odds/` and `/ws/odds/<id>/` speak the versioned protocol of docs/websocket-protocol.md;
`/ws/blog/` forwards the blog feed and the reader count;
`/ws/cotes/` and `/ws/cotes/<id>/` speak the seed's `cotes_update` shape for its existing
clients. Each client action has one handler; what every socket shares (authentication,
frame checks, rate limits, conflated delivery, closing with a reason) is in `StreamConsumer`.

They join channel-layer groups the Channels way (`group_add(group, self.channel_name)`),
after attaching themselves to the layer's hub as sockets: messages of the fast-path groups
(`realtime.streams`) are then written straight to the socket, encoded once for all of them,
with no handler call per socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from autobahn.exception import Disconnected
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from betting import events
from betting.models import Match
from betting.selectors import match_list_by_ids, match_list_listed
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
from realtime.shared_read import SharedRead
from realtime.transport import SCOPE_KEY, SocketTransport

logger = logging.getLogger(__name__)

# Close codes (4000-4999 are the application's), listed for clients in
# docs/websocket-protocol.md, "Errors, limits and close codes".
CLOSE_UNAUTHORIZED = 4401
CLOSE_NOT_FOUND = 4404
CLOSE_TOO_SLOW = 4408
CLOSE_TOO_MANY_BAD_FRAMES = 4429
CLOSE_TOO_MANY_SOCKETS = 4429

MAX_FRAME_BYTES = 4096
BAD_FRAMES_REFILL_PER_SECOND = 1.0


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


# --- Reads (ORM behind database_sync_to_async) ---------------------------------
@database_sync_to_async
def load_states(match_ids: list[int] | None) -> list[dict[str, Any]]:
    """The current state of the listed matches, or (None) of every match on the front page."""

    matches = match_list_listed() if match_ids is None else match_list_by_ids(match_ids)
    return [events.match_state(m) for m in sorted(matches, key=lambda m: m.pk)]


# Every socket on /ws/odds/ and /ws/cotes/ starts with this snapshot: reconnect storms share reads.
listed_states: SharedRead[list[dict[str, Any]]] = SharedRead(lambda: load_states(None))


@database_sync_to_async
def existing_match_ids(match_ids: list[int]) -> set[int]:
    return set(Match.objects.filter(pk__in=match_ids).values_list("pk", flat=True))


class BadRequest(Exception):
    def __init__(self, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra


# Ids are BigAutoField values: a larger integer is no match, and would overflow the database's
# integer in the query (an unhandled error, found by the WebSocket fuzzer).
MAX_MATCH_ID = 2**63 - 1


def parse_match_ids(value: Any) -> list[int]:
    limit = settings.REALTIME_MAX_SUBSCRIPTIONS
    if not isinstance(value, list) or not value:
        raise BadRequest("bad_request", "`matches` is a non-empty list of match ids.")
    if len(value) > limit:
        raise BadRequest("too_many_matches", f"At most {limit} matches per request.")
    if not all(isinstance(item, int) and not isinstance(item, bool) and 0 < item <= MAX_MATCH_ID for item in value):
        raise BadRequest("bad_match_id", "Match ids are positive integers.")
    return sorted(set(value))


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

    async def disconnect(self, code: int) -> None:
        self.closing = True
        if self.credential_end is not None and self.credential_end is not asyncio.current_task():
            self.credential_end.cancel()
        if self.watched:
            revocations.remove(self)
        if self.counted:
            socket_caps.release(self.user_id, self.client_ip)
            self.counted = False
        if self.hub is not None:
            self.hub.remove(self)

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
                self.hub.events_superseded += outbox.superseded
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
        try:
            message = json.loads(text_data)
        except json.JSONDecodeError:
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
        """Answer with an `error`; a socket that keeps sending bad frames is closed (4429)."""
        if not self.bad_frames.take():
            logger.info("Closing a WebSocket flooding bad frames (user %s)", self.user_id)
            await self.refuse(CLOSE_TOO_MANY_BAD_FRAMES, "too_many_bad_frames", "too many bad frames")
            return
        await self.send_error(code, message, **extra)

    async def action_ping(self, message: dict[str, Any]) -> None:
        await self.send_frame({"type": "pong", "ts": time.time()})


class OddsConsumer(StreamConsumer):
    """The versioned odds protocol: `snapshot`, then `odds` / `match` / `heartbeat` frames.

    `/ws/odds/` follows every match; `/ws/odds/<id>/` starts with one. Either can subscribe
    to more matches and unsubscribe from the ones it named.
    """

    presence_stream = "odds"

    follow_all = False

    def actions(self) -> dict[str, Callable[[dict[str, Any]], Awaitable[None]]]:
        return {
            "ping": self.action_ping,
            "subscribe": self.action_subscribe,
            "unsubscribe": self.action_unsubscribe,
            "resync": self.action_resync,
        }

    async def open(self) -> None:
        self.matches: set[int] = set()
        raw_id = self.scope["url_route"]["kwargs"].get("match_id")
        if raw_id is not None and not await existing_match_ids([int(raw_id)]):
            await self.accept()
            await self.refuse(CLOSE_NOT_FOUND, "match_not_found", f"Match {raw_id} does not exist.")
            return
        await self.accept()
        hub = await self.join_hub()
        if raw_id is None:
            self.follow_all = True
            await self.join(streams.ODDS_ALL)
        else:
            self.matches.add(int(raw_id))
            await self.join(streams.odds_group(int(raw_id)))
        if self.user_id is not None:
            await self.join(streams.user_group(self.user_id))  # the user's private events
        # Subscribed before the snapshot is read, so no change falls between the two; the
        # client drops an update whose version is not above what it holds.
        await hub.wait_connected(timeout=2.0)
        await self.send_snapshot(None)

    async def send_snapshot(self, match_ids: list[int] | None, **extra: Any) -> None:
        """The state of the listed matches, or (None) of everything the socket follows."""
        if match_ids is None:
            states = list(await listed_states.get()) if self.follow_all else await load_states(sorted(self.matches))
            if self.follow_all and self.matches:
                listed = {state["match"] for state in states}
                states += await load_states(sorted(self.matches - listed))
        else:
            states = await load_states(match_ids)
        await self.send_frame({"type": "snapshot", "matches": states, **extra})

    async def resubscribed(self) -> None:
        await self.send_snapshot(None)

    async def action_subscribe(self, message: dict[str, Any]) -> None:
        wanted = parse_match_ids(message.get("matches"))
        known = await existing_match_ids(wanted)
        unknown = sorted(set(wanted) - known)
        if unknown:
            raise BadRequest("unknown_match", f"No such matches: {unknown}.", matches=unknown)
        if len(self.matches | known) > settings.REALTIME_MAX_SUBSCRIPTIONS:
            raise BadRequest("too_many_matches", f"At most {settings.REALTIME_MAX_SUBSCRIPTIONS} subscriptions.")
        for match_id in known - self.matches:
            await self.join(streams.odds_group(match_id))
        self.matches |= known
        await self.send_snapshot(sorted(known))

    async def action_unsubscribe(self, message: dict[str, Any]) -> None:
        unwanted = set(parse_match_ids(message.get("matches")))
        for match_id in unwanted & self.matches:
            await self.leave(streams.odds_group(match_id))
        self.matches -= unwanted
        await self.send_frame({"type": "unsubscribed", "matches": sorted(unwanted), "following": sorted(self.matches)})

    async def action_resync(self, message: dict[str, Any]) -> None:
        """Everything the client needs to converge: the current state (full frames, so the
        newest state is all that is missing after any gap)."""
        match_id = message.get("match")
        since = message.get("since")
        if since is not None and (not isinstance(since, int) or isinstance(since, bool) or since < 0):
            raise BadRequest("bad_request", "`since` is the last version the client holds (an integer).")
        if match_id is None:
            await self.send_snapshot(None, resync=True)
            return
        (match_id,) = parse_match_ids([match_id])
        if not self.follow_all and match_id not in self.matches:
            raise BadRequest("not_subscribed", f"Not subscribed to match {match_id}.", matches=[match_id])
        states = await load_states([match_id])
        if not states:
            raise BadRequest("unknown_match", f"No such match: {match_id}.", matches=[match_id])
        await self.send_frame({"type": "snapshot", "matches": states, "resync": True, "since": since})


class BlogConsumer(StreamConsumer):
    """The blog feed (drafts only to their author) and the live reader count (`presence`)."""

    presence_stream = "blog"
    wants_presence = True

    async def open(self) -> None:
        await self.accept()
        await self.join_hub()
        await self.join(streams.BLOG_FEED)
        if self.user_id is not None:
            await self.join(streams.blog_drafts_group(self.user_id))  # the user's own drafts
        # The `presence` frame follows from the hub as soon as the new count is summed.


def cotes_frame(state: dict[str, Any]) -> str:
    """The seed's `cotes_update` message for one match state."""
    return streams.cotes_frame_of({"data": streams.cotes_data(state)})


class CotesConsumer(StreamConsumer):
    """The seed's protocol, unchanged: one `cotes_update` per match and per change."""

    presence_stream = "odds"
    wants_heartbeat = False  # the seed's protocol has no heartbeat

    def actions(self) -> dict[str, Callable[[dict[str, Any]], Awaitable[None]]]:
        return {"ping": self.action_ping, "resync": self.action_resync}

    async def open(self) -> None:
        raw_id = self.scope["url_route"]["kwargs"].get("match_id")
        self.match_id = int(raw_id) if raw_id is not None else None
        if self.match_id is not None and not await existing_match_ids([self.match_id]):
            await self.accept()
            await self.refuse(CLOSE_NOT_FOUND, "match_not_found", f"Match {self.match_id} does not exist.")
            return
        await self.accept()
        hub = await self.join_hub()
        await self.join(streams.COTES_ALL if self.match_id is None else streams.cotes_group(self.match_id))
        await hub.wait_connected(timeout=2.0)
        await self.send_snapshot()

    async def send_snapshot(self) -> None:
        states = await (listed_states.get() if self.match_id is None else load_states([self.match_id]))
        for state in states:
            # Version 0 like the live frames (the seed's data has none): the newest arrival wins.
            await self.write(("cotes", state["match"]), 0, cotes_frame(state))

    async def resubscribed(self) -> None:
        await self.send_snapshot()

    async def action_resync(self, message: dict[str, Any]) -> None:
        await self.send_snapshot()
