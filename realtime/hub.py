"""The fan-out hub of one web process.

One Redis pub/sub connection per process subscribes to every stream; each event is routed
to the local sockets that asked for it and sent as the frame text its publisher encoded.
No per-socket Redis channel, no per-socket JSON encoding, no Redis round trip per connect.

Overload never turns into silent loss or unbounded delay:

- the listener reads every message already waiting on the pub/sub connection as one batch
  and keeps only the newest `odds` / `match` frame per match before fanning out, so when the
  process falls behind it skips superseded prices instead of queueing them;
- a socket whose unsent backlog is high gets its frames through a conflating `Outbox`; one
  drain loop flushes outboxes whose socket caught up and closes sockets that stay slow.

The hub also sends every socket one shared heartbeat frame at a fixed interval, and keeps
this process's socket counts per stream in Redis (`realtime.presence`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Hashable
from typing import Any, Protocol

import redis.asyncio as aioredis
from django.conf import settings

from realtime import presence, streams
from realtime.transport import wire_text_frame

logger = logging.getLogger(__name__)

ALL_MATCHES = "*"
MAX_BATCH = 2000  # messages read before fanning out, so one batch cannot starve the loop
DRAIN_INTERVAL_SECONDS = 0.05
PRESENCE_DEBOUNCE_SECONDS = 0.05


class Subscriber(Protocol):
    """What the hub needs of a socket."""

    user_id: int | None
    presence_stream: str  # the stream this socket counts under
    wants_presence: bool  # told `presence` frames for its stream
    wants_private: bool  # gets its user's private `bet` / `wallet` events

    async def deliver(self, key: Hashable | None, version: int, frame: str) -> None:
        """Send now, or queue (conflated by `key`) if the socket is congested."""

    async def deliver_batch(self, items: list[tuple[Hashable | None, int, str]], wire: bytes) -> None:
        """Several frames at once; `wire` is all of them as WebSocket frames, joined."""

    async def drain(self, now: float) -> bool:
        """Flush a congested socket's outbox if it caught up; True when no longer congested."""

    async def resubscribed(self) -> None:
        """The hub lost events (Redis went away and came back): bring the client up to date."""


def conflation_key(stream: str, header: dict[str, Any]) -> Hashable | None:
    """Frames with the same key supersede each other; None = every one must arrive."""
    if stream == streams.ODDS and "match" in header:
        return (header.get("type"), header["match"])
    return None


class Hub:
    def __init__(self, redis_url: str, heartbeat_seconds: float) -> None:
        self._redis_url = redis_url
        self._heartbeat_seconds = heartbeat_seconds
        self._odds: dict[object, set[Subscriber]] = defaultdict(set)  # match id or ALL_MATCHES
        self._blog: set[Subscriber] = set()
        self._users: dict[int, set[Subscriber]] = defaultdict(set)
        self._sockets: set[Subscriber] = set()
        self._congested: set[Subscriber] = set()
        self._local_counts: Counter[str] = Counter()
        self._told_presence: dict[Subscriber, int] = {}
        self.presence_totals: dict[str, int] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._connected = asyncio.Event()
        self._presence_write_due = asyncio.Event()
        self._presence_read_due = asyncio.Event()
        self.process_id = presence.PROCESS_ID
        # Counters for the ops page and the benchmark.
        self.events_received = 0
        self.events_superseded = 0
        self.deliveries = 0
        self.slow_closed = 0

    # --- Membership -------------------------------------------------------------
    def add(self, socket: Subscriber) -> None:
        self._sockets.add(socket)
        if socket.user_id is not None:
            self._users[socket.user_id].add(socket)
        self._local_counts[socket.presence_stream] += 1
        self._presence_write_due.set()

    def remove(self, socket: Subscriber) -> None:
        if socket not in self._sockets:
            return
        self._sockets.discard(socket)
        self._blog.discard(socket)
        self._congested.discard(socket)
        self._told_presence.pop(socket, None)
        for key in list(self._odds):
            self.unsubscribe_odds(socket, key)
        if socket.user_id is not None and socket.user_id in self._users:
            self._users[socket.user_id].discard(socket)
            if not self._users[socket.user_id]:
                del self._users[socket.user_id]
        self._local_counts[socket.presence_stream] -= 1
        self._presence_write_due.set()

    def subscribe_odds(self, socket: Subscriber, key: object) -> None:
        self._odds[key].add(socket)

    def unsubscribe_odds(self, socket: Subscriber, key: object) -> None:
        members = self._odds.get(key)
        if members is not None:
            members.discard(socket)
            if not members:
                del self._odds[key]

    def subscribe_blog(self, socket: Subscriber) -> None:
        self._blog.add(socket)

    def mark_congested(self, socket: Subscriber) -> None:
        self._congested.add(socket)

    def slow_socket_closed(self) -> None:
        self.slow_closed += 1

    @property
    def socket_count(self) -> int:
        return len(self._sockets)

    def local_counts(self) -> dict[str, int]:
        return {stream: n for stream, n in self._local_counts.items() if n > 0}

    def stats(self) -> dict[str, Any]:
        return {
            "process": self.process_id,
            "sockets": len(self._sockets),
            "congested": len(self._congested),
            "events_received": self.events_received,
            "events_superseded": self.events_superseded,
            "deliveries": self.deliveries,
            "slow_closed": self.slow_closed,
            "presence": self.presence_totals,
        }

    # --- Lifecycle --------------------------------------------------------------
    def start(self) -> None:
        if not self._tasks:
            loop = asyncio.get_running_loop()
            self._tasks = [
                loop.create_task(self._listen()),
                loop.create_task(self._heartbeat()),
                loop.create_task(self._drain()),
                loop.create_task(self._presence()),
            ]

    async def wait_connected(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self._connected.wait(), timeout)
            return True
        except TimeoutError:
            return False

    async def _listen(self) -> None:
        backoff = 0.2
        lost_events = False
        channels = [streams.channel_name(stream) for stream in streams.ALL_STREAMS]
        while True:
            client = aioredis.Redis.from_url(self._redis_url, health_check_interval=10)
            try:
                async with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(*channels)
                    self._connected.set()
                    backoff = 0.2
                    if lost_events:
                        logger.info("Hub resubscribed: bringing %s sockets up to date", len(self._sockets))
                        await self._resync_all()
                    lost_events = True
                    logger.info("Hub subscribed to %s", channels)
                    while True:
                        message = await pubsub.get_message(timeout=5.0)
                        if message is None:
                            continue
                        batch = [message]
                        # Whatever else already waits is read now, so superseded prices are
                        # dropped here rather than fanned out to every socket.
                        while len(batch) < MAX_BATCH:
                            more = await pubsub.get_message(timeout=0)
                            if more is None:
                                break
                            batch.append(more)
                        await self._dispatch_batch(batch)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis down or restarted: retry with backoff
                self._connected.clear()
                logger.warning("Hub lost Redis (%s); retrying in %.1fs", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                await client.aclose()

    async def _resync_all(self) -> None:
        for socket in list(self._sockets):
            try:
                await socket.resubscribed()
            except Exception:
                logger.exception("Resync of a socket failed")

    async def _dispatch_batch(self, batch: list[dict[str, Any]]) -> None:
        events: dict[Hashable, tuple[str, dict[str, Any], str]] = {}
        for position, message in enumerate(batch):
            self.events_received += 1
            stream = streams.stream_of_channel(message["channel"].decode())
            data = message["data"].decode()
            if stream == streams.PRESENCE:
                self._presence_read_due.set()
                continue
            header, frame = streams.decode_envelope(data)
            key = conflation_key(stream, header)
            if key is None:
                events[("queued", position)] = (stream, header, frame)
                continue
            waiting = events.get(key)
            if waiting is not None:
                if int(waiting[1].get("version", 0)) > int(header.get("version", 0)):
                    self.events_superseded += 1
                    continue
                self.events_superseded += 1
                del events[key]
            events[key] = (stream, header, frame)
        await self._fan_out(list(events.values()))

    async def _fan_out(self, events: list[tuple[str, dict[str, Any], str]]) -> None:
        """Give each socket every event of the batch it wants, in one `deliver_batch`: sockets
        that want the same events share one joined buffer of WebSocket frames, built once, so
        a socket costs one send() per batch however many events the batch holds."""
        items = [
            (conflation_key(stream, header), int(header.get("version") or 0), frame) for stream, header, frame in events
        ]
        plan: dict[Subscriber, list[int]] = {}
        for index, (stream, header, _) in enumerate(events):
            for socket in self._targets(stream, header):
                wanted = plan.get(socket)
                if wanted is None:
                    plan[socket] = [index]
                else:
                    wanted.append(index)
        shared: dict[tuple[int, ...], tuple[list[tuple[Hashable | None, int, str]], bytes]] = {}
        for count, (socket, indices) in enumerate(plan.items(), 1):
            signature = tuple(indices)
            entry = shared.get(signature)
            if entry is None:
                chosen = [items[i] for i in indices]
                entry = shared[signature] = (chosen, b"".join(wire_text_frame(item[2]) for item in chosen))
            try:
                await socket.deliver_batch(*entry)
            except Exception:
                logger.exception("Delivery to a socket failed")
            self.deliveries += len(indices)
            if count % 1000 == 0:
                await asyncio.sleep(0)  # let Twisted write, and the listener read, between slices
        await asyncio.sleep(0)

    def _targets(self, stream: str, header: dict[str, Any]) -> set[Subscriber]:
        if stream == streams.ODDS:
            everyone = self._odds.get(ALL_MATCHES)
            one = self._odds.get(header.get("match"))
            if everyone and one:
                return everyone | one
            return set(everyone or one or ())
        if stream == streams.BLOG:
            only_user = header.get("user")
            if only_user is None:
                return set(self._blog)
            return self._blog & self._users.get(int(only_user), set())  # a draft: its author only
        if stream == streams.PRIVATE:
            return {s for s in self._users.get(int(header.get("user") or 0), ()) if s.wants_private}
        return set()

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self._heartbeat_seconds)
            now = time.time()
            frame = streams.encode_frame({"type": "heartbeat", "ts": now})
            items: list[tuple[Hashable | None, int, str]] = [("heartbeat", int(now * 1000), frame)]
            wire = wire_text_frame(frame)  # framed once for every socket
            for count, socket in enumerate(list(self._sockets), 1):
                try:
                    await socket.deliver_batch(items, wire)
                except Exception:
                    logger.debug("Heartbeat to a socket failed", exc_info=True)
                if count % 1000 == 0:
                    await asyncio.sleep(0)

    async def _drain(self) -> None:
        """Flush congested sockets that caught up; their `drain` closes the ones that stay slow."""
        while True:
            await asyncio.sleep(DRAIN_INTERVAL_SECONDS)
            if not self._congested:
                continue
            now = time.monotonic()
            for socket in list(self._congested):
                try:
                    if await socket.drain(now):
                        self._congested.discard(socket)
                except Exception:
                    logger.exception("Draining a socket failed")
                    self._congested.discard(socket)

    # --- Presence ---------------------------------------------------------------
    async def _presence(self) -> None:
        """Write this process's counts when they change (debounced) and at every refresh;
        recompute the totals when any process says its counts changed, and at every refresh."""
        client = aioredis.Redis.from_url(self._redis_url, max_connections=4)
        refresh = settings.REALTIME_PRESENCE_REFRESH_SECONDS
        next_refresh = 0.0
        while True:
            try:
                wait_for = max(0.0, next_refresh - time.monotonic())
                waits = [
                    asyncio.ensure_future(self._presence_write_due.wait()),
                    asyncio.ensure_future(self._presence_read_due.wait()),
                ]
                await asyncio.wait(waits, timeout=wait_for, return_when=asyncio.FIRST_COMPLETED)
                for waiter in waits:
                    waiter.cancel()
                # A burst of connects (a reconnect storm) becomes one write, not one per socket.
                await asyncio.sleep(PRESENCE_DEBOUNCE_SECONDS)
                periodic = time.monotonic() >= next_refresh
                if periodic:
                    next_refresh = time.monotonic() + refresh
                if periodic or self._presence_write_due.is_set():
                    self._presence_write_due.clear()
                    await presence.presence_write(client, self.process_id, self._local_counts)
                    self._presence_read_due.set()  # our own note also comes back over pub/sub
                if self._presence_read_due.is_set():
                    self._presence_read_due.clear()
                    self.presence_totals = await presence.presence_totals(client)
                    await self._tell_presence()
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    await presence.presence_remove(client, self.process_id)
                raise
            except Exception as exc:
                logger.warning("Presence update failed (%s)", exc)
                await asyncio.sleep(1.0)

    async def _tell_presence(self) -> None:
        for socket in list(self._sockets):
            if not socket.wants_presence:
                continue
            count = self.presence_totals.get(socket.presence_stream, 0)
            if self._told_presence.get(socket) == count:
                continue
            self._told_presence[socket] = count
            frame = streams.encode_frame({"type": "presence", "stream": socket.presence_stream, "count": count})
            await socket.deliver(("presence", socket.presence_stream), int(time.time() * 1000), frame)


_hub: Hub | None = None
_hub_loop: asyncio.AbstractEventLoop | None = None


def get_hub() -> Hub:
    """The process's hub, started on the running loop at first use."""
    global _hub, _hub_loop
    loop = asyncio.get_running_loop()
    if _hub is None or _hub_loop is not loop:
        _hub = Hub(settings.REDIS_URL, settings.REALTIME_HEARTBEAT_SECONDS)
        _hub_loop = loop
        _hub.start()
    return _hub
