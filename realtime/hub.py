"""The fan-out hub of one web process (one per event loop): the engine of `realtime.layer`.

One Redis pub/sub connection subscribes to the layer's fixed channels (fast-path groups,
this hub's own channel, presence) and to the ordinary groups and named channels that have a
member here. The hub keeps the process's channels (a bounded queue each, which Channels'
consumers read with `receive`) and group membership. A message for a fast-path group
(`realtime.groups`) is a frame encoded once by its sender; the hub writes it straight to
every member socket (`Subscriber`), and puts the message in the channel of every other member.
No per-socket Redis channel, no per-socket JSON encoding, no Redis round trip per connect.

Overload never turns into silent loss or unbounded delay:

- the listener reads every message already waiting on the pub/sub connection as one batch
  and keeps only the newest frame per conflation key before fanning out, so when the
  process falls behind it skips superseded prices instead of queueing them;
- a socket whose unsent backlog is high gets its frames through a conflating `Outbox`; one
  drain loop flushes outboxes whose socket caught up and closes sockets that stay slow;
- a channel holds at most the layer's `capacity` messages; more are dropped and counted.

The hub also sends every socket one shared heartbeat frame at a fixed interval, and keeps
this process's socket counts per stream in Redis (`realtime.presence`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import Counter
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any, Protocol

import redis.asyncio as aioredis
from django.conf import settings

from realtime import groups as declared_groups
from realtime import presence
from realtime.counters import hub_counters_flush
from realtime.layer import decode_direct, decode_fast, deserialize
from realtime.transport import wire_text_frame

if TYPE_CHECKING:
    from realtime.layer import HubChannelLayer

logger = logging.getLogger(__name__)

MAX_BATCH = 2000  # messages read before fanning out, so one batch cannot starve the loop
DRAIN_INTERVAL_SECONDS = 0.05
PRESENCE_DEBOUNCE_SECONDS = 0.05
EXPIRY_SWEEP_SECONDS = 60.0

FastEvent = tuple[list[str], Hashable | None, int, str, bytes]  # groups, key, version, frame, packed message
Item = tuple[Hashable | None, int, str]  # key, version, frame


def raise_if_cancelling() -> None:
    """redis-py may turn a cancellation in the middle of a command into an error, or swallow it:
    a loop that goes on after errors must still stop when its task is being cancelled."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


class Subscriber(Protocol):
    """What the hub needs of a socket."""

    user_id: int | None
    presence_stream: str  # the stream this socket counts under
    wants_presence: bool  # told `presence` frames for its stream
    wants_heartbeat: bool

    async def deliver(self, key: Hashable | None, version: int, frame: str) -> None:
        """Send now, or queue (conflated by `key`) if the socket is congested."""

    async def deliver_batch(self, items: list[Item], wire: bytes) -> None:
        """Several frames at once; `wire` is all of them as WebSocket frames, joined."""

    async def drain(self, now: float) -> bool:
        """Flush a congested socket's outbox if it caught up; True when no longer congested."""

    async def resubscribed(self) -> None:
        """The hub lost events (Redis went away and came back): bring the client up to date."""


class LocalChannel:
    """A channel of this hub: its queue, its hub socket if it is one, the groups it is in."""

    __slots__ = ("groups", "name", "queue", "socket")

    def __init__(self, name: str) -> None:
        self.name = name
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.socket: Subscriber | None = None
        self.groups: dict[str, float] = {}  # group -> when it joined (for expiry)


class Hub:
    def __init__(
        self, layer: HubChannelLayer, token: str | None = None, heartbeat_seconds: float | None = None
    ) -> None:
        self.layer = layer
        self.token = token or uuid.uuid4().hex[:12]
        self.names = layer.names
        self._redis_url = layer.url
        self._capacity = layer.capacity
        self._heartbeat_seconds = heartbeat_seconds or settings.REALTIME_HEARTBEAT_SECONDS
        self._channels: dict[str, LocalChannel] = {}
        self._fast: dict[str, set[Subscriber]] = {}  # fast-path group -> member sockets
        self._queued: dict[str, set[str]] = {}  # group -> member channels that take messages
        self._subscribed: set[str] = set()  # Redis channels beyond the fixed ones
        self._pubsub: Any = None
        self._publisher: aioredis.Redis | None = None
        self._sockets: set[Subscriber] = set()
        self._congested: set[Subscriber] = set()
        self._local_counts: Counter[str] = Counter()
        self._told_presence: dict[Subscriber, int] = {}
        self.presence_totals: dict[str, int] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._connected = asyncio.Event()
        self._presence_due = asyncio.Event()  # set when either flag below is
        self._presence_write_due = False
        self._presence_read_due = False
        self.process_id = presence.PROCESS_ID
        # Counters for /metrics (added up over every process in Redis), the ops page and the benchmark.
        self.sockets_opened = 0
        self._counters_flushed: dict[str, int] = {}
        self.events_received = 0
        self.events_superseded = 0
        self.deliveries = 0
        self.queued_deliveries = 0
        self.dropped_full = 0
        self.slow_closed = 0

    # --- Channels ---------------------------------------------------------------
    def new_channel(self) -> str:
        name = f"specific.{self.token}!{uuid.uuid4().hex[:12]}"
        self._channels[name] = LocalChannel(name)
        return name

    async def receive(self, name: str) -> dict[str, Any]:
        channel = self._channels.get(name)
        if channel is None:
            channel = self._channels[name] = LocalChannel(name)
            if "!" not in name:  # a named channel: any process may send to it
                await self._subscribe(self.names.channel(name))
        try:
            return await channel.queue.get()
        except (asyncio.CancelledError, TimeoutError, GeneratorExit):
            # Channels cancels `receive` when its consumer ends: the channel goes with it.
            await self._drop_channel(name)
            raise

    def deliver_local(self, name: str, message: dict[str, Any]) -> bool:
        """Put a message in a channel of this hub; False when the channel is full."""
        channel = self._channels.get(name)
        if channel is None:
            return True  # nobody listens: at most once means it is gone
        if channel.queue.qsize() >= self._capacity:
            self.dropped_full += 1
            return False
        channel.queue.put_nowait(message)
        self.queued_deliveries += 1
        return True

    async def _drop_channel(self, name: str) -> None:
        channel = self._channels.pop(name, None)
        if channel is None:
            return
        for group in list(channel.groups):
            await self._leave(group, channel)
        if channel.socket is not None:
            self.remove(channel.socket)
        if "!" not in name:
            await self._unsubscribe(self.names.channel(name))

    # --- Groups -----------------------------------------------------------------
    async def group_add(self, group: str, name: str) -> None:
        channel = self._channels.get(name)
        if channel is None:
            raise RuntimeError(f"{name} is not a channel of this process (made by new_channel()?)")
        channel.groups[group] = time.monotonic()
        route = declared_groups.route_of(group)
        if route is not None and channel.socket is not None:
            self._fast.setdefault(group, set()).add(channel.socket)
            return
        members = self._queued.setdefault(group, set())
        members.add(name)
        if route is None and len(members) == 1:
            await self._subscribe(self.names.group(group))

    async def group_discard(self, group: str, name: str) -> None:
        channel = self._channels.get(name)
        if channel is not None and group in channel.groups:
            await self._leave(group, channel)

    async def _leave(self, group: str, channel: LocalChannel) -> None:
        channel.groups.pop(group, None)
        if channel.socket is not None:
            sockets = self._fast.get(group)
            if sockets is not None and channel.socket in sockets:
                sockets.discard(channel.socket)
                if not sockets:
                    del self._fast[group]
                return
        members = self._queued.get(group)
        if members is None:
            return
        members.discard(channel.name)
        if not members:
            del self._queued[group]
            if declared_groups.route_of(group) is None:
                await self._unsubscribe(self.names.group(group))

    async def flush(self) -> None:
        """Forget every channel and group (Channels' `flush` extension); sockets stay open."""
        self._channels.clear()
        self._fast.clear()
        self._queued.clear()
        for name in list(self._subscribed):
            await self._unsubscribe(name)

    def group_sizes(self) -> dict[str, int]:
        sizes = {group: len(sockets) for group, sockets in self._fast.items()}
        for group, members in self._queued.items():
            sizes[group] = sizes.get(group, 0) + len(members)
        return sizes

    async def _expire_memberships(self) -> None:
        """Ordinary channels leave their groups after `group_expiry` (hub sockets: when they close)."""
        while True:
            await asyncio.sleep(min(EXPIRY_SWEEP_SECONDS, self.layer.group_expiry))
            deadline = time.monotonic() - self.layer.group_expiry
            for channel in list(self._channels.values()):
                if channel.socket is None:
                    for group, joined in list(channel.groups.items()):
                        if joined < deadline:
                            await self._leave(group, channel)

    # --- Sockets ----------------------------------------------------------------
    def attach(self, name: str, socket: Subscriber) -> None:
        """Make the channel a hub socket: fast-path messages of its groups go straight to it."""
        channel = self._channels.get(name)
        if channel is None:
            raise RuntimeError(f"{name} is not a channel of this process")
        channel.socket = socket
        self.add(socket)

    def add(self, socket: Subscriber) -> None:
        self._sockets.add(socket)
        self.sockets_opened += 1
        self._local_counts[socket.presence_stream] += 1
        self._presence_changed(write=True)

    def remove(self, socket: Subscriber) -> None:
        if socket not in self._sockets:
            return
        self._sockets.discard(socket)
        self._congested.discard(socket)
        self._told_presence.pop(socket, None)
        for group, sockets in list(self._fast.items()):
            sockets.discard(socket)
            if not sockets:
                del self._fast[group]
        self._local_counts[socket.presence_stream] -= 1
        self._presence_changed(write=True)

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
            "channels": len(self._channels),
            "sockets_opened": self.sockets_opened,
            "congested": len(self._congested),
            "events_received": self.events_received,
            "events_superseded": self.events_superseded,
            "deliveries": self.deliveries,
            "queued_deliveries": self.queued_deliveries,
            "dropped_full": self.dropped_full,
            "slow_closed": self.slow_closed,
            "presence": self.presence_totals,
        }

    # --- Redis ------------------------------------------------------------------
    async def _subscribe(self, name: str) -> None:
        if name in self._subscribed:
            return
        self._subscribed.add(name)
        if self._pubsub is not None:
            try:
                await self._pubsub.subscribe(name)
            except Exception:  # the listener resubscribes everything when it reconnects
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
            self._publisher = aioredis.Redis.from_url(
                self._redis_url, socket_connect_timeout=2, socket_timeout=2, max_connections=20
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
        if not self._tasks:
            loop = asyncio.get_running_loop()
            self._tasks = [
                loop.create_task(self._listen()),
                loop.create_task(self._heartbeat()),
                loop.create_task(self._drain()),
                loop.create_task(self._presence()),
                loop.create_task(self._expire_memberships()),
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
        fixed = [self.names.fast, self.names.presence, self.names.hub(self.token)]
        while True:
            client = aioredis.Redis.from_url(self._redis_url, health_check_interval=10)
            try:
                async with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(*fixed, *self._subscribed)
                    # redis-py can swallow a cancellation that lands during the subscribe (the
                    # task stays `cancelling`): stop here, or this loop would outlive its loop.
                    raise_if_cancelling()
                    self._pubsub = pubsub
                    self._connected.set()
                    backoff = 0.2
                    if lost_events:
                        logger.info("Hub resubscribed: bringing %s sockets up to date", len(self._sockets))
                        await self._resync_all()
                    lost_events = True
                    logger.info("Hub subscribed to %s", fixed)
                    while True:
                        message = await pubsub.get_message(timeout=5.0)
                        raise_if_cancelling()
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
                raise_if_cancelling()
                self._connected.clear()
                logger.warning("Hub lost Redis (%s); retrying in %.1fs", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                self._pubsub = None
                await client.aclose()

    async def _resync_all(self) -> None:
        for socket in list(self._sockets):
            try:
                await socket.resubscribed()
            except Exception:
                logger.exception("Resync of a socket failed")

    async def _dispatch_batch(self, batch: list[dict[str, Any]]) -> None:
        fast = self.names.fast.encode()
        events: dict[Hashable, FastEvent] = {}
        for position, message in enumerate(batch):
            self.events_received += 1
            channel: bytes = message["channel"]
            data: bytes = message["data"]
            if channel == fast:
                event = decode_fast(data)
                key = event[1]
                if key is None:
                    events[("queued", position)] = event
                    continue
                slot = (tuple(event[0]), key)
                waiting = events.get(slot)
                if waiting is not None:
                    self.events_superseded += 1
                    if waiting[2] > event[2]:
                        continue
                    del events[slot]  # re-inserted at the end: the order it became current
                events[slot] = event
            else:
                self._dispatch_other(channel.decode(), data)
        if events:
            await self._fan_out(list(events.values()))

    def _dispatch_other(self, channel: str, data: bytes) -> None:
        names = self.names
        if channel == names.presence:
            self._presence_changed(read=True)
        elif channel == names.hub(self.token):
            target, message = decode_direct(data)
            self.deliver_local(target, message)
        elif channel.startswith(names.group("")):
            members = self._queued.get(channel.removeprefix(names.group("")))
            if members:
                message = deserialize(data)
                for name in list(members):
                    self.deliver_local(name, message)
        elif channel.startswith(names.channel("")):
            self.deliver_local(channel.removeprefix(names.channel("")), deserialize(data))

    async def _fan_out(self, events: list[FastEvent]) -> None:
        """Give each socket every event of the batch it wants, in one `deliver_batch`: sockets
        that want the same events share one joined buffer of WebSocket frames, built once, so
        a socket costs one send() per batch however many events the batch holds. Members that
        are not hub sockets get the message in their channel."""
        plan: dict[Subscriber, list[int]] = {}
        fast = self._fast
        for index, (groups, _, _, _, packed) in enumerate(events):
            for group in groups:
                for socket in fast.get(group, ()):
                    wanted = plan.get(socket)
                    if wanted is None:
                        plan[socket] = [index]
                    elif wanted[-1] != index:  # in two of the groups: once
                        wanted.append(index)
                queued = self._queued.get(group)
                if queued:
                    message = deserialize(packed)
                    for name in list(queued):
                        self.deliver_local(name, message)
        items: list[Item] = [(key, version, frame) for _, key, version, frame, _ in events]
        shared: dict[tuple[int, ...], tuple[list[Item], bytes]] = {}
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

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self._heartbeat_seconds)
            now = time.time()
            frame = declared_groups.encode_json({"type": "heartbeat", "ts": now})
            items: list[tuple[Hashable | None, int, str]] = [("heartbeat", int(now * 1000), frame)]
            wire = wire_text_frame(frame)  # framed once for every socket
            for count, socket in enumerate([s for s in self._sockets if s.wants_heartbeat], 1):
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
            raise_if_cancelling()
            try:
                # A timer sets the event, rather than `asyncio.wait_for`, which on Python 3.11
                # can swallow the task's cancellation and keep this loop alive at shutdown.
                timer = asyncio.get_running_loop().call_later(
                    max(0.0, next_refresh - time.monotonic()), self._presence_due.set
                )
                try:
                    await self._presence_due.wait()
                finally:
                    timer.cancel()
                self._presence_due.clear()
                # A burst of connects (a reconnect storm) becomes one write, not one per socket.
                await asyncio.sleep(PRESENCE_DEBOUNCE_SECONDS)
                periodic = time.monotonic() >= next_refresh
                if periodic:
                    next_refresh = time.monotonic() + refresh
                if periodic or self._presence_write_due:
                    self._presence_write_due = False
                    await presence.presence_write(client, self.process_id, self._local_counts, self.names.presence)
                    self._presence_read_due = True  # our own note also comes back over pub/sub
                if periodic:
                    await hub_counters_flush(client, self.stats(), self._counters_flushed)
                if self._presence_read_due:
                    self._presence_read_due = False
                    self.presence_totals = await presence.presence_totals(client)
                    await self._tell_presence()
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    await presence.presence_remove(client, self.process_id, self.names.presence)
                with contextlib.suppress(Exception):
                    await hub_counters_flush(client, self.stats(), self._counters_flushed)
                raise
            except Exception as exc:
                raise_if_cancelling()
                logger.warning("Presence update failed (%s)", exc)
                await asyncio.sleep(1.0)

    def _presence_changed(self, *, write: bool = False, read: bool = False) -> None:
        self._presence_write_due |= write
        self._presence_read_due |= read
        self._presence_due.set()

    async def _tell_presence(self) -> None:
        for socket in list(self._sockets):
            if not socket.wants_presence:
                continue
            count = self.presence_totals.get(socket.presence_stream, 0)
            if self._told_presence.get(socket) == count:
                continue
            self._told_presence[socket] = count
            frame = declared_groups.encode_json({"type": "presence", "stream": socket.presence_stream, "count": count})
            await socket.deliver(("presence", socket.presence_stream), int(time.time() * 1000), frame)


def get_hub() -> Hub:
    """The hub of the running loop (the default channel layer's)."""
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None or not hasattr(layer, "hub"):
        raise RuntimeError("CHANNEL_LAYERS['default'] is not realtime.layer.HubChannelLayer")
    return layer.hub()
