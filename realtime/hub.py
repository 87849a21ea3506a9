"""The fan-out hub of one web process.

One Redis pub/sub connection per process subscribes to every stream; each event is routed
to the local sockets that asked for it and sent as the frame text its publisher encoded.
No per-socket Redis channel, no per-socket JSON encoding, no Redis round trip per connect.
The hub also sends every socket one shared heartbeat frame at a fixed interval.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from typing import Any, Protocol

import redis.asyncio as aioredis
from django.conf import settings

from realtime import streams

logger = logging.getLogger(__name__)

ALL_MATCHES = "*"


class Subscriber(Protocol):
    """What the hub needs of a socket."""

    user_id: int | None

    async def deliver(self, stream: str, header: dict[str, Any], frame: str) -> None: ...

    async def resubscribed(self) -> None:
        """The hub lost events (Redis went away and came back): bring the client up to date."""


class Hub:
    def __init__(self, redis_url: str, heartbeat_seconds: float) -> None:
        self._redis_url = redis_url
        self._heartbeat_seconds = heartbeat_seconds
        self._odds: dict[object, set[Subscriber]] = defaultdict(set)  # match id or ALL_MATCHES
        self._blog: set[Subscriber] = set()
        self._users: dict[int, set[Subscriber]] = defaultdict(set)
        self._sockets: set[Subscriber] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._connected = asyncio.Event()
        self.events_received = 0

    # --- Membership -------------------------------------------------------------
    def add(self, socket: Subscriber) -> None:
        self._sockets.add(socket)
        if socket.user_id is not None:
            self._users[socket.user_id].add(socket)

    def remove(self, socket: Subscriber) -> None:
        self._sockets.discard(socket)
        self._blog.discard(socket)
        for key in list(self._odds):
            members = self._odds[key]
            members.discard(socket)
            if not members:
                del self._odds[key]
        if socket.user_id is not None and socket.user_id in self._users:
            self._users[socket.user_id].discard(socket)
            if not self._users[socket.user_id]:
                del self._users[socket.user_id]

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

    @property
    def socket_count(self) -> int:
        return len(self._sockets)

    # --- Lifecycle --------------------------------------------------------------
    def start(self) -> None:
        if not self._tasks:
            loop = asyncio.get_running_loop()
            self._tasks = [loop.create_task(self._listen()), loop.create_task(self._heartbeat())]

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
                        if message is not None:
                            await self._dispatch(message["channel"].decode(), message["data"].decode())
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

    async def _dispatch(self, channel: str, data: str) -> None:
        self.events_received += 1
        stream = streams.stream_of_channel(channel)
        header, frame = streams.decode_envelope(data)
        if stream == streams.ODDS:
            targets = self._odds.get(ALL_MATCHES, set()) | self._odds.get(header.get("match"), set())
        elif stream == streams.BLOG:
            only_user = header.get("user")
            targets = self._blog if only_user is None else {s for s in self._blog if s.user_id == only_user}
        elif stream == streams.PRIVATE:
            targets = set(self._users.get(int(header.get("user") or 0), ()))
        else:
            return
        for socket in list(targets):
            try:
                await socket.deliver(stream, header, frame)
            except Exception:
                logger.exception("Delivery to a socket failed")

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self._heartbeat_seconds)
            frame = streams.encode_frame({"type": "heartbeat", "ts": time.time()})
            for socket in list(self._sockets):
                try:
                    await socket.deliver("heartbeat", {}, frame)
                except Exception:
                    logger.debug("Heartbeat to a socket failed", exc_info=True)


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
