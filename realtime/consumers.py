"""WebSocket consumers: small protocol state machines over the process's hub.

`/ws/odds/` and `/ws/odds/<id>/` speak the versioned protocol of DESIGN.md (README
"WebSocket protocol"); `/ws/blog/` forwards the blog feed and the reader count;
`/ws/cotes/` and `/ws/cotes/<id>/` speak the seed's `cotes_update` shape for its existing
clients. Each client action has one handler; what every socket shares (authentication,
frame checks, rate limits, conflated delivery, closing with a reason) is in `StreamConsumer`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from betting import events
from betting.models import Match
from realtime import streams
from realtime.auth import AUTH_ERROR_KEY
from realtime.hub import ALL_MATCHES, Hub, get_hub
from realtime.outbox import Outbox
from realtime.shared_read import SharedRead
from realtime.transport import SCOPE_KEY, SocketTransport

logger = logging.getLogger(__name__)

# Close codes (4000-4999 are the application's): the README lists them for clients.
CLOSE_UNAUTHORIZED = 4401
CLOSE_NOT_FOUND = 4404
CLOSE_TOO_SLOW = 4408
CLOSE_TOO_MANY_BAD_FRAMES = 4429

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
    from betting.selectors import match_list_by_ids, match_list_listed

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


def parse_match_ids(value: Any) -> list[int]:
    limit = settings.REALTIME_MAX_SUBSCRIPTIONS
    if not isinstance(value, list) or not value:
        raise BadRequest("bad_request", "`matches` is a non-empty list of match ids.")
    if len(value) > limit:
        raise BadRequest("too_many_matches", f"At most {limit} matches per request.")
    if not all(isinstance(item, int) and not isinstance(item, bool) and item > 0 for item in value):
        raise BadRequest("bad_match_id", "Match ids are positive integers.")
    return sorted(set(value))


class StreamConsumer(AsyncWebsocketConsumer):
    """What every Oddstream socket does; subclasses add `open` and their action handlers."""

    presence_stream = "odds"
    wants_presence = False
    wants_private = False

    user_id: int | None = None
    hub: Hub | None = None
    outbox: Outbox | None = None
    transport: SocketTransport | None = None
    closing = False

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
        await self.open()

    async def open(self) -> None:
        raise NotImplementedError

    async def join_hub(self) -> Hub:
        self.hub = get_hub()
        self.hub.add(self)
        return self.hub

    async def disconnect(self, code: int) -> None:
        self.closing = True
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
                await self.base_send({"type": "websocket.send", "text": frame})
                return
            if transport.backlog() < settings.REALTIME_BACKLOG_HIGH_BYTES:
                if not transport.write_text(frame):
                    await self.base_send({"type": "websocket.send", "text": frame})
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
                    await self.base_send({"type": "websocket.send", "text": frame})
            return True
        if now - self.outbox.congested_since > settings.REALTIME_SLOW_CLOSE_SECONDS:
            await self.close_slow(f"behind for more than {settings.REALTIME_SLOW_CLOSE_SECONDS:g} s")
            return True
        return False

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
    wants_private = True

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
            hub.subscribe_odds(self, ALL_MATCHES)
        else:
            self.matches.add(int(raw_id))
            hub.subscribe_odds(self, int(raw_id))
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
        assert self.hub is not None
        for match_id in known - self.matches:
            self.hub.subscribe_odds(self, match_id)
        self.matches |= known
        await self.send_snapshot(sorted(known))

    async def action_unsubscribe(self, message: dict[str, Any]) -> None:
        unwanted = set(parse_match_ids(message.get("matches")))
        assert self.hub is not None
        for match_id in unwanted & self.matches:
            self.hub.unsubscribe_odds(self, match_id)
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
        hub = await self.join_hub()
        hub.subscribe_blog(self)
        # The `presence` frame follows from the hub as soon as the new count is summed.


def cotes_frame(state: dict[str, Any]) -> str:
    """The seed's `cotes_update` message for one match state."""
    odds = state["odds"]
    return streams.encode_frame(
        {
            "type": "cotes_update",
            "data": {
                "match_id": state["match"],
                "cote1": odds["home"],
                "coteN": odds["draw"],
                "cote2": odds["away"],
                "last_updated": state["ts"],
                "paris_count": state["bets"],
            },
        }
    )


class CotesConsumer(StreamConsumer):
    """The seed's protocol, unchanged: one `cotes_update` per match and per change."""

    presence_stream = "odds"

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
        hub.subscribe_odds(self, ALL_MATCHES if self.match_id is None else self.match_id)
        await hub.wait_connected(timeout=2.0)
        await self.send_snapshot()

    async def send_snapshot(self) -> None:
        states = await (listed_states.get() if self.match_id is None else load_states([self.match_id]))
        for state in states:
            await self.write(("odds", state["match"]), state["version"], cotes_frame(state))

    async def resubscribed(self) -> None:
        await self.send_snapshot()

    async def action_resync(self, message: dict[str, Any]) -> None:
        await self.send_snapshot()

    async def deliver_batch(self, items: list[tuple[Hashable | None, int, str]], wire: bytes) -> None:
        for key, version, frame in items:  # reshaped one by one: the shared bytes are not ours
            await self.deliver(key, version, frame)

    async def deliver(self, key: Hashable | None, version: int, frame: str) -> None:
        # Only odds changes exist in the seed's protocol (no heartbeat, status or private
        # frames). Re-encoding per socket is the price of the legacy shape; the versioned
        # endpoints forward the publisher's frame as is.
        if isinstance(key, tuple) and key[0] == "odds":
            await self.write(key, version, cotes_frame(json.loads(frame)))
