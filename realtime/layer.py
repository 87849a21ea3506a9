"""The Channels channel layer of the project: Channels' API over the process's fan-out hub.

`CHANNEL_LAYERS["default"]` is `HubChannelLayer`, so `get_channel_layer()`, `group_add`,
`group_send` and handlers per message type work as Channels documents them, the seeds' code
included. Its cross-process semantics are those of channels_redis' pub/sub layer
(`RedisPubSubChannelLayer`): a message sent to a channel or a group in any process reaches the
consumers of every web process, at most once, in order per sender, through Redis pub/sub.
What it adds:

- One Redis pub/sub connection per process and event loop (the hub's, `realtime.hub`),
  subscribed to fixed channels: the fast-path groups' channel, this hub's own channel
  (`send` to a channel of this process never leaves it) and the presence channel. An ordinary
  group gets its own Redis channel, subscribed while the process has a member, as in
  channels_redis; a fast-path group costs no Redis command per member.
- Fast-path groups (`realtime.groups`, declared by the modules in the `ROUTES` option): the
  sending process encodes the frame once; each web process writes it straight to its member
  sockets, with conflation by key, backpressure and slow-socket closing (`realtime.hub`).
  A member that is not a hub socket (any consumer written the Channels way) gets the message
  in its channel and its handler runs, as with any layer.
- A synchronous `publish` for workers: one pipelined round trip on a process-wide
  connection pool, no event loop, no thread (about 0.1 ms, `bench publish`).
- Redis restarts: the hub reconnects with backoff and resubscribes. Messages published
  while it was away are lost, as in channels_redis; instead of leaving clients stale, every hub
  socket is told to resend its state (a snapshot), so the project's clients converge.
  Ordinary consumers see the gap as lost messages (at-most-once, as the spec allows).
- Bounded channels: a channel holds at most `capacity` messages (default 100); `send` to a
  full channel of this process raises `ChannelFull`, and a group message for a full channel
  is dropped and counted (`group_send` drops silently, per the spec).
- Group membership of ordinary channels expires after `group_expiry` seconds (86,400, as in
  the spec); a hub socket stays a member while it is open.
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from collections.abc import Iterable, Mapping, Sequence
from importlib import import_module
from typing import Any

import redis
from channels.exceptions import ChannelFull
from channels.layers import BaseChannelLayer
from django.conf import settings

from realtime import connections
from realtime import groups as declared_groups
from realtime.hub import Hub
from realtime.wire import SPECIFIC_PREFIX, RedisNames, encode_direct, encode_fast, hub_token_of, serialize


class HubChannelLayer(BaseChannelLayer):
    extensions = ["groups", "flush"]

    def __init__(
        self,
        hosts: Sequence[str] | None = None,
        prefix: str | None = None,
        capacity: int = 100,
        group_expiry: int = 86400,
        routes: Iterable[str] = ("realtime.streams",),
        **kwargs: Any,
    ) -> None:
        super().__init__(capacity=capacity, **kwargs)
        self._url = hosts[0] if hosts else None
        self._prefix = prefix
        self.group_expiry = group_expiry
        for module in routes:
            import_module(module)  # its `fast_group` declarations
        self._hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()
        self._hubs_by_token: weakref.WeakValueDictionary[str, Hub] = weakref.WeakValueDictionary()

    # --- Configuration ------------------------------------------------------------------
    @property
    def url(self) -> str:
        return self._url or settings.REDIS_URL

    @property
    def names(self) -> RedisNames:
        return RedisNames(self._prefix or settings.REALTIME_PREFIX)

    # --- The hub of the running loop ----------------------------------------------------
    def hub(self) -> Hub:
        """The hub of the running event loop, started at first use."""
        loop = asyncio.get_running_loop()
        hub = self._hubs.get(loop)
        if hub is None:
            hub = Hub(
                url=self.url,
                names=self.names,
                capacity=self.capacity,
                group_expiry=self.group_expiry,
                token=uuid.uuid4().hex[:12],
            )
            self._hubs[loop] = hub
            self._hubs_by_token[hub.token] = hub
            hub.start()
        return hub

    def _running_hub(self) -> Hub | None:
        try:
            return self._hubs.get(asyncio.get_running_loop())
        except RuntimeError:
            return None

    # --- Publishing ---------------------------------------------------------------------
    def encode_group_send(self, groups: Sequence[str], message: Mapping[str, Any]) -> list[tuple[str, bytes]]:
        """The Redis (channel, payload) pairs that deliver `message` to every member of `groups`.
        Fast-path groups of the same declaration share one envelope (its members get one frame
        even when they are in several of the groups)."""
        names = self.names
        by_route: dict[declared_groups.FastGroup, list[str]] = {}
        sent: list[tuple[str, bytes]] = []
        packed: bytes | None = None
        for group in groups:
            self.require_valid_group_name(group)
            route = declared_groups.route_of(group)
            if route is not None:
                by_route.setdefault(route, []).append(group)
            else:
                packed = packed or serialize(message)
                sent.append((names.group(group), packed))
        sent.extend((names.fast, encode_fast(members, route, message)) for route, members in by_route.items())
        return sent

    def _sync_redis(self) -> redis.Redis:
        return connections.sync_client(self.url)

    def publish(self, groups: Sequence[str], message: Mapping[str, Any]) -> list[int]:
        """`group_send` to several groups at once, from synchronous code (a Celery task, a view,
        `manage.py shell`): one round trip on the process's pool, no event loop."""
        return self.publish_encoded(self.encode_group_send(groups, message))

    def publish_encoded(self, sent: list[tuple[str, bytes]]) -> list[int]:
        """PUBLISH (channel, payload) pairs from `encode_group_send`, in one round trip; returns
        how many subscribers (web processes) each reached."""
        client = self._sync_redis()
        if len(sent) == 1:
            return [int(client.publish(*sent[0]))]
        pipe = client.pipeline(transaction=False)
        for channel, payload in sent:
            pipe.publish(channel, payload)
        return [int(n) for n in pipe.execute()]

    async def _publish(self, sent: list[tuple[str, bytes]]) -> None:
        hub = self._running_hub()
        if hub is None:
            # A loop without a hub is most often `async_to_sync`'s loop of one call: a new
            # asyncio connection there would cost a connect per message. The process's pool
            # answers in about 0.1 ms.
            self.publish_encoded(sent)
            return
        await hub.publish(sent)

    # --- Channel layer API --------------------------------------------------------------
    async def send(self, channel: str, message: dict[str, Any]) -> None:
        assert isinstance(message, dict), "message is not a dict"
        self.require_valid_channel_name(channel)
        token = hub_token_of(channel)
        if token is None:
            await self._publish([(self.names.channel(channel), serialize(message))])
            return
        local = self._hubs_by_token.get(token)
        if local is None or local.loop is None or local.loop.is_closed():
            await self._publish([(self.names.hub(token), encode_direct(channel, message))])
            return
        if local.loop is asyncio.get_running_loop():
            if not local.deliver_local(channel, message):
                raise ChannelFull(channel)
            return
        # A channel of this process on another event loop (a sync view's `async_to_sync`, a
        # thread of its own): its queue belongs to that loop, which only that loop may touch.
        if local.is_full(channel):
            raise ChannelFull(channel)
        local.loop.call_soon_threadsafe(local.deliver_local, channel, message)

    async def receive(self, channel: str) -> dict[str, Any]:
        self.require_valid_channel_name(channel)
        token = hub_token_of(channel)
        hub = self._hubs_by_token.get(token) if token is not None else self.hub()
        if hub is None:
            raise RuntimeError(f"{channel} belongs to another process or event loop")
        return await hub.receive(channel)

    async def new_channel(self, prefix: str = SPECIFIC_PREFIX) -> str:
        hub = self.hub()
        return hub.new_channel()

    async def group_add(self, group: str, channel: str) -> None:
        self.require_valid_group_name(group)
        self.require_valid_channel_name(channel)
        hub = self._hub_of(channel)
        await self._on_loop_of(hub, hub.group_add(group, channel))

    async def group_discard(self, group: str, channel: str) -> None:
        self.require_valid_group_name(group)
        self.require_valid_channel_name(channel)
        hub = self._hub_of(channel)
        await self._on_loop_of(hub, hub.group_discard(group, channel))

    @staticmethod
    async def _on_loop_of(hub: Hub, work: Any) -> None:
        """Run a hub's coroutine on the hub's own event loop, from whichever loop calls."""
        if hub.loop is None or hub.loop is asyncio.get_running_loop():
            await work
            return
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, hub.loop))

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        assert isinstance(message, dict), "message is not a dict"
        await self._publish(self.encode_group_send([group], message))

    async def flush(self) -> None:
        for hub in list(self._hubs.values()):
            await hub.flush()

    def _hub_of(self, channel: str) -> Hub:
        token = hub_token_of(channel)
        hub = self._hubs_by_token.get(token) if token is not None else None
        if hub is None:
            raise RuntimeError(
                "group_add() and group_discard() take channels of this process: "
                "self.channel_layer.group_add(group, self.channel_name)"
            )
        return hub

    # --- The fast path ------------------------------------------------------------------
    def attach(self, channel: str, socket: Any) -> Hub:
        """Make `channel` a hub socket: fast-path group messages go straight to `socket`."""
        hub = self._hub_of(channel)
        hub.attach(channel, socket)
        return hub
