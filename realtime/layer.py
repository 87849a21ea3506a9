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
import json
import logging
import os
import threading
import uuid
import weakref
from collections.abc import Hashable, Iterable, Mapping, Sequence
from importlib import import_module
from typing import Any

import msgpack
import redis
from channels.exceptions import ChannelFull
from channels.layers import BaseChannelLayer
from django.conf import settings

from realtime import groups as declared_groups

logger = logging.getLogger(__name__)

ENVELOPE_SEPARATOR = b"\n"


# --- Wire format on Redis ------------------------------------------------------------------
def serialize(message: Mapping[str, Any]) -> bytes:
    return msgpack.packb(message, use_bin_type=True)


def deserialize(data: bytes) -> dict[str, Any]:
    return msgpack.unpackb(data, raw=False)


def encode_fast(groups: Sequence[str], route: declared_groups.FastGroup, message: Mapping[str, Any]) -> bytes:
    """A fast-path envelope: a JSON header (groups, key, version, frame length), the frame
    text, then the message itself for members that are not hub sockets."""
    frame = route.frame(message).encode()
    key = route.key(message)
    header = {"g": list(groups), "k": key, "v": route.version(message), "n": len(frame)}
    return json.dumps(header, separators=(",", ":")).encode() + ENVELOPE_SEPARATOR + frame + serialize(message)


def decode_fast(data: bytes) -> tuple[list[str], Hashable | None, int, str, bytes]:
    """(groups, conflation key, version, frame text, the packed message)."""
    end = data.index(ENVELOPE_SEPARATOR)
    header = json.loads(data[:end])
    start = end + 1
    stop = start + header["n"]
    key = header["k"]
    return (
        header["g"],
        tuple(key) if isinstance(key, list) else key,
        header["v"],
        data[start:stop].decode(),
        data[stop:],
    )


def encode_direct(channel: str, message: Mapping[str, Any]) -> bytes:
    return channel.encode() + ENVELOPE_SEPARATOR + serialize(message)


def decode_direct(data: bytes) -> tuple[str, dict[str, Any]]:
    end = data.index(ENVELOPE_SEPARATOR)
    return data[:end].decode(), deserialize(data[end + 1 :])


class RedisNames:
    """The Redis pub/sub channels of one layer prefix."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.fast = f"{prefix}:fast"
        self.presence = f"{prefix}:presence"

    def hub(self, token: str) -> str:
        return f"{self.prefix}:hub:{token}"

    def group(self, name: str) -> str:
        return f"{self.prefix}:group:{name}"

    def channel(self, name: str) -> str:
        return f"{self.prefix}:channel:{name}"


SPECIFIC_PREFIX = "specific."


def hub_token_of(channel: str) -> str | None:
    """The hub that owns a process-specific channel (`specific.<hub>!<id>`), or None."""
    if channel.startswith(SPECIFIC_PREFIX) and "!" in channel:
        return channel[len(SPECIFIC_PREFIX) : channel.index("!")]
    return None


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
        self._hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = weakref.WeakKeyDictionary()
        self._hubs_by_token: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()
        self._sync_client: redis.Redis | None = None
        self._sync_pid: int | None = None
        self._lock = threading.Lock()

    # --- Configuration ------------------------------------------------------------------
    @property
    def url(self) -> str:
        return self._url or settings.REDIS_URL

    @property
    def names(self) -> RedisNames:
        return RedisNames(self._prefix or settings.REALTIME_PREFIX)

    # --- The hub of the running loop ----------------------------------------------------
    def hub(self) -> Any:
        """The hub of the running event loop, started at first use."""
        from realtime.hub import Hub

        loop = asyncio.get_running_loop()
        hub = self._hubs.get(loop)
        if hub is None:
            hub = Hub(self, token=uuid.uuid4().hex[:12])
            self._hubs[loop] = hub
            self._hubs_by_token[hub.token] = hub
            hub.start()
        return hub

    def _running_hub(self) -> Any:
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
        with self._lock:
            if self._sync_client is None or self._sync_pid != os.getpid():  # a pool must not cross a fork
                self._sync_client = redis.Redis.from_url(
                    self.url, socket_connect_timeout=2, socket_timeout=2, health_check_interval=30
                )
                self._sync_pid = os.getpid()
            return self._sync_client

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
        if token is not None:
            local = self._hubs_by_token.get(token)
            if local is not None:
                if not local.deliver_local(channel, message):
                    raise ChannelFull(channel)
                return
            await self._publish([(self.names.hub(token), encode_direct(channel, message))])
            return
        await self._publish([(self.names.channel(channel), serialize(message))])

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
        await self._hub_of(channel).group_add(group, channel)

    async def group_discard(self, group: str, channel: str) -> None:
        self.require_valid_group_name(group)
        self.require_valid_channel_name(channel)
        await self._hub_of(channel).group_discard(group, channel)

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        assert isinstance(message, dict), "message is not a dict"
        await self._publish(self.encode_group_send([group], message))

    async def group_send_many(self, groups: Sequence[str], message: dict[str, Any]) -> None:
        """`group_send` to several groups in one round trip; a socket in several gets it once."""
        await self._publish(self.encode_group_send(groups, message))

    async def flush(self) -> None:
        for hub in list(self._hubs.values()):
            await hub.flush()

    def _hub_of(self, channel: str) -> Any:
        token = hub_token_of(channel)
        hub = self._hubs_by_token.get(token) if token is not None else None
        if hub is None:
            raise RuntimeError(
                "group_add() and group_discard() take channels of this process: "
                "self.channel_layer.group_add(group, self.channel_name)"
            )
        return hub

    # --- The fast path ------------------------------------------------------------------
    def attach(self, channel: str, socket: Any) -> Any:
        """Make `channel` a hub socket: fast-path group messages go straight to `socket`."""
        hub = self._hub_of(channel)
        hub.attach(channel, socket)
        return hub
