"""The fan-out hub of one web process (one per event loop): the engine of `realtime.layer`.

One Redis pub/sub subscription (`realtime.reconnect.subscribe_forever`) to the layer's fixed
channels (fast-path groups, this hub's own channel, presence) and to the ordinary groups and
named channels that have a member here. What the hub holds, each piece readable and testable
alone:

- `Registry` (`realtime.registry`): the channels of this process (a bounded queue each, which
  Channels' consumers read with `receive`), group membership, and which channels are sockets;
- `FanOut` (`realtime.fanout`): a batch of pub/sub messages to sockets and channels, conflated;
- `Congestion` (`realtime.congestion`): the sockets that fell behind, and the loop draining them;
- `heartbeat_forever` (`realtime.heartbeat`): one shared heartbeat frame at a fixed interval;
- `PresenceTracker` (`realtime.presence`): this process's socket counts per stream in Redis;
- `HubCounters` (`realtime.counters`): what it did, for /metrics, the ops page and benchmarks.

The hub itself wires them together, owns the Redis side of membership (subscribe and
unsubscribe ordinary groups) and the tasks of its event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from typing import Any

import redis.asyncio as aioredis
from django.conf import settings

from realtime import connections
from realtime.congestion import Congestion
from realtime.counters import HubCounters
from realtime.fanout import MAX_BATCH, FanOut
from realtime.heartbeat import heartbeat_forever
from realtime.presence import PROCESS_ID, PresenceTracker
from realtime.reconnect import subscribe_forever
from realtime.registry import LocalChannel, Registry
from realtime.subscriber import Subscriber
from realtime.wire import RedisNames

logger = logging.getLogger(__name__)

EXPIRY_SWEEP_SECONDS = 60.0


class Hub:
    def __init__(
        self,
        *,
        url: str | None,
        names: RedisNames,
        capacity: int = 100,
        group_expiry: float = 86400,
        token: str | None = None,
        heartbeat_seconds: float | None = None,
    ) -> None:
        self.token = token or uuid.uuid4().hex[:12]
        self.names = names
        self.url = url
        self.group_expiry = group_expiry
        self.heartbeat_seconds = heartbeat_seconds or settings.REALTIME_HEARTBEAT_SECONDS
        self.process_id = PROCESS_ID
        self.loop: asyncio.AbstractEventLoop | None = None  # the loop it runs on, once started
        self.counters = HubCounters()
        self.registry = Registry(self.token, capacity, self.counters)
        self.congestion = Congestion()
        self.presence = PresenceTracker(
            url=url, channel=names.presence, sockets=lambda: self.registry.sockets, counters=self.counters
        )
        self.fan_out = FanOut(self.registry, self.counters, names, self.token, self.presence.note_received)
        self._subscribed: set[str] = set()  # Redis channels beyond the fixed ones
        self._pubsub: Any = None
        self._publisher: aioredis.Redis | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._connected = asyncio.Event()

    # --- Channels ---------------------------------------------------------------
    def new_channel(self) -> str:
        return self.registry.new_channel()

    async def receive(self, name: str) -> dict[str, Any]:
        channel, made = self.registry.channel_for_receive(name)
        if made and "!" not in name:  # a named channel: any process may send to it
            await self._subscribe(self.names.channel(name))
        try:
            return await channel.queue.get()
        except (asyncio.CancelledError, TimeoutError, GeneratorExit):
            # Channels cancels `receive` when its consumer ends: the channel goes with it.
            await self._drop_channel(name)
            raise

    def deliver_local(self, name: str, message: dict[str, Any]) -> bool:
        """Put a message in a channel of this hub (from the hub's loop); False when it is full."""
        return self.registry.deliver(name, message)

    def is_full(self, name: str) -> bool:
        return self.registry.is_full(name)

    async def _drop_channel(self, name: str) -> None:
        held = self.registry.channels.get(name)
        if held is not None and held.socket is not None:
            # A consumer cancelled (or failed) drops its channel before it releases its socket:
            # the socket leaves here, with its presence and congestion, not in the registry only
            # (its `remove` then finds nothing to do, and presence counts it once).
            self.remove(held.socket)
        channel, unneeded = self.registry.drop_channel(name)
        if channel is None:
            return
        for group in unneeded:
            await self._unsubscribe(self.names.group(group))
        if "!" not in name:
            await self._unsubscribe(self.names.channel(name))

    # --- Groups -----------------------------------------------------------------
    async def group_add(self, group: str, name: str) -> None:
        if self.registry.join(group, name):
            await self._subscribe(self.names.group(group))

    async def group_discard(self, group: str, name: str) -> None:
        channel = self.registry.channels.get(name)
        if channel is not None and group in channel.groups:
            await self._leave(group, channel)

    async def _leave(self, group: str, channel: LocalChannel) -> None:
        if self.registry.leave(group, channel):
            await self._unsubscribe(self.names.group(group))

    async def flush(self) -> None:
        """Forget every channel and group (Channels' `flush` extension); sockets stay open."""
        self.registry.clear()
        for name in list(self._subscribed):
            await self._unsubscribe(name)

    def group_sizes(self) -> dict[str, int]:
        return self.registry.group_sizes()

    async def expire_memberships(self) -> None:
        """Ordinary channels leave their groups after `group_expiry` (hub sockets: when they close)."""
        for group, channel in self.registry.expired(time.monotonic() - self.group_expiry):
            await self._leave(group, channel)

    async def _expire_forever(self) -> None:
        while True:
            await asyncio.sleep(min(EXPIRY_SWEEP_SECONDS, self.group_expiry))
            await self.expire_memberships()

    # --- Sockets ----------------------------------------------------------------
    def attach(self, name: str, socket: Subscriber) -> None:
        """Make the channel a hub socket: fast-path messages of its groups go straight to it."""
        self.registry.attach(name, socket)
        self.counters.sockets_opened += 1
        self.presence.socket_opened(socket)

    def remove(self, socket: Subscriber) -> None:
        """The socket closed: it leaves its own groups' fast path (nothing else is visited)."""
        if self.registry.detach(socket):
            self.congestion.discard(socket)
            self.presence.socket_closed(socket)

    def mark_congested(self, socket: Subscriber) -> None:
        self.congestion.mark(socket)

    def superseded(self, count: int) -> None:
        self.counters.events_superseded += count

    def slow_socket_closed(self) -> None:
        self.counters.slow_closed += 1

    @property
    def socket_count(self) -> int:
        return len(self.registry.sockets)

    def local_counts(self) -> dict[str, int]:
        return self.presence.counts()

    def stats(self) -> dict[str, Any]:
        return {
            "process": self.process_id,
            "sockets": len(self.registry.sockets),
            "channels": len(self.registry.channels),
            "congested": len(self.congestion),
            **self.counters.as_dict(),
            "presence": self.presence.totals,
        }

    # --- Redis ------------------------------------------------------------------
    async def _subscribe(self, name: str) -> None:
        if name in self._subscribed:
            return
        self._subscribed.add(name)
        if self._pubsub is not None:
            try:
                await self._pubsub.subscribe(name)
            except Exception:  # the subscription resubscribes everything when it reconnects
                logger.warning("Could not subscribe to %s now", name, exc_info=True)

    async def _unsubscribe(self, name: str) -> None:
        if name not in self._subscribed:
            return
        self._subscribed.discard(name)
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.unsubscribe(name)

    async def publish(self, sent: list[tuple[str, bytes]]) -> None:
        if self._publisher is None:
            self._publisher = connections.async_client(
                self.url,
                socket_connect_timeout=connections.CONNECT_TIMEOUT_SECONDS,
                socket_timeout=connections.COMMAND_TIMEOUT_SECONDS,
                max_connections=20,
            )
        if len(sent) == 1:
            await self._publisher.publish(*sent[0])
            return
        async with self._publisher.pipeline(transaction=False) as pipe:
            for channel, payload in sent:
                pipe.publish(channel, payload)
            await pipe.execute()

    # --- Lifecycle --------------------------------------------------------------
    def start(self) -> None:
        if self._tasks:
            return
        self.loop = loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._listen()),
            loop.create_task(heartbeat_forever(lambda: self.registry.sockets, self.heartbeat_seconds)),
            loop.create_task(self.congestion.drain_forever()),
            loop.create_task(self.presence.run()),
            loop.create_task(self._expire_forever()),
        ]

    async def wait_connected(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self._connected.wait(), timeout)
            return True
        except TimeoutError:
            return False

    async def _listen(self) -> None:
        fixed = [self.names.fast, self.names.presence, self.names.hub(self.token)]
        await subscribe_forever(
            "Hub",
            url=self.url,
            channels=lambda: [*fixed, *self._subscribed],
            on_subscribed=self._subscribed_now,
            on_messages=self.fan_out.dispatch_batch,
            on_lost=self._lost,
            max_batch=MAX_BATCH,
            client_name=self.names.hub(self.token),  # CLIENT LIST tells each process's hub apart
        )

    async def _subscribed_now(self, pubsub: Any, after_loss: bool) -> None:
        self._pubsub = pubsub
        self._connected.set()
        logger.info("Hub subscribed to %s", self.names.prefix)
        if after_loss:
            logger.info("Hub resubscribed: bringing %s sockets up to date", self.socket_count)
            await self._resync_all()

    def _lost(self) -> None:
        self._pubsub = None
        self._connected.clear()

    async def _resync_all(self) -> None:
        """Every socket resends its state, all at once: their snapshot reads are single-flight
        (`realtime.shared_read`), so a thousand sockets share one database read. One after
        another, each would read alone while the subscription reads nothing: a thousand
        sequential reads kept the sockets of a Redis failover stale for over 30 seconds."""
        sockets = list(self.registry.sockets)
        results = await asyncio.gather(*(socket.resubscribed() for socket in sockets), return_exceptions=True)
        for result in results:
            if isinstance(result, Exception):
                logger.error("Resync of a socket failed", exc_info=result)
