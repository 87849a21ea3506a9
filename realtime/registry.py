"""The channels of one hub and their group memberships, in memory: no Redis, no event loop work.

A channel is a bounded queue that a consumer reads with `receive`. A channel that is a hub
socket (`attach`) takes the fast-path groups' frames straight (`fast` members); any other
member of a group takes messages in its queue (`queued` members). Every channel keeps the
groups it is in, so whatever a socket or a channel leaves costs in proportion to its own
groups, never to every group of the process: a mass disconnect of signed-in sockets, each in
a group of its user, stays cheap.

The registry says when a group's Redis channel must be subscribed or unsubscribed (an
ordinary group while it has a queued member here); the hub does the Redis side.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from realtime import groups as declared_groups
from realtime.counters import HubCounters
from realtime.subscriber import Subscriber
from realtime.wire import SPECIFIC_PREFIX


class LocalChannel:
    """A channel of this hub: its queue, its hub socket if it is one, the groups it is in."""

    __slots__ = ("groups", "name", "queue", "socket")

    def __init__(self, name: str) -> None:
        self.name = name
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.socket: Subscriber | None = None
        self.groups: dict[str, float] = {}  # group -> when it joined (for expiry)


def needs_own_subscription(group: str) -> bool:
    """An ordinary group has a Redis channel of its own; fast-path groups share one."""
    return declared_groups.route_of(group) is None


class Registry:
    def __init__(self, token: str, capacity: int, counters: HubCounters) -> None:
        self.token = token
        self.capacity = capacity
        self.counters = counters
        self.channels: dict[str, LocalChannel] = {}
        self.fast: dict[str, set[Subscriber]] = {}  # fast-path group -> member sockets
        self.queued: dict[str, set[str]] = {}  # group -> member channels that take messages
        self.sockets: dict[Subscriber, LocalChannel] = {}  # hub socket -> its channel

    # --- Channels ---------------------------------------------------------------
    def new_channel(self) -> str:
        name = f"{SPECIFIC_PREFIX}{self.token}!{uuid.uuid4().hex[:12]}"
        self.channels[name] = LocalChannel(name)
        return name

    def channel_for_receive(self, name: str) -> tuple[LocalChannel, bool]:
        """The channel, made if it did not exist; True when it was made just now."""
        channel = self.channels.get(name)
        if channel is not None:
            return channel, False
        channel = self.channels[name] = LocalChannel(name)
        return channel, True

    def deliver(self, name: str, message: dict[str, Any]) -> bool:
        """Put a message in a channel of this hub; False when the channel is full."""
        channel = self.channels.get(name)
        if channel is None:
            return True  # nobody listens: at most once means it is gone
        if channel.queue.qsize() >= self.capacity:
            self.counters.dropped_full += 1
            return False
        channel.queue.put_nowait(message)
        self.counters.queued_deliveries += 1
        return True

    def is_full(self, name: str) -> bool:
        channel = self.channels.get(name)
        return channel is not None and channel.queue.qsize() >= self.capacity

    def drop_channel(self, name: str) -> tuple[LocalChannel | None, list[str]]:
        """Forget a channel and its memberships; the groups whose Redis channel is no longer needed."""
        channel = self.channels.pop(name, None)
        if channel is None:
            return None, []
        unneeded = [group for group in list(channel.groups) if self.leave(group, channel)]
        if channel.socket is not None:
            self.detach(channel.socket)
        return channel, unneeded

    # --- Groups -----------------------------------------------------------------
    def join(self, group: str, name: str) -> bool:
        """Add the channel to the group; True when the group's own Redis channel must be
        subscribed now (its first queued member here)."""
        channel = self.channels.get(name)
        if channel is None:
            raise RuntimeError(f"{name} is not a channel of this process (made by new_channel()?)")
        channel.groups[group] = time.monotonic()
        if channel.socket is not None and not needs_own_subscription(group):
            self.fast.setdefault(group, set()).add(channel.socket)
            return False
        members = self.queued.setdefault(group, set())
        members.add(name)
        return len(members) == 1 and needs_own_subscription(group)

    def leave(self, group: str, channel: LocalChannel) -> bool:
        """Take the channel out of the group; True when the group's own Redis channel is no
        longer needed (its last queued member here left)."""
        channel.groups.pop(group, None)
        socket = channel.socket
        if socket is not None:
            sockets = self.fast.get(group)
            if sockets is not None and socket in sockets:
                sockets.discard(socket)
                if not sockets:
                    del self.fast[group]
                return False
        members = self.queued.get(group)
        if members is None or channel.name not in members:
            return False
        members.discard(channel.name)
        if members:
            return False
        del self.queued[group]
        return needs_own_subscription(group)

    def expired(self, deadline: float) -> list[tuple[str, LocalChannel]]:
        """Memberships of ordinary channels that joined before `deadline` (hub sockets stay
        members while they are open)."""
        return [
            (group, channel)
            for channel in self.channels.values()
            if channel.socket is None
            for group, joined in channel.groups.items()
            if joined < deadline
        ]

    def group_sizes(self) -> dict[str, int]:
        sizes = {group: len(sockets) for group, sockets in self.fast.items()}
        for group, members in self.queued.items():
            sizes[group] = sizes.get(group, 0) + len(members)
        return sizes

    def clear(self) -> None:
        self.channels.clear()
        self.fast.clear()
        self.queued.clear()
        self.sockets.clear()

    # --- Hub sockets ------------------------------------------------------------
    def attach(self, name: str, socket: Subscriber) -> None:
        """Make the channel a hub socket: its fast-path groups' frames go straight to `socket`."""
        channel = self.channels.get(name)
        if channel is None:
            raise RuntimeError(f"{name} is not a channel of this process")
        channel.socket = socket
        self.sockets[socket] = channel
        for group in channel.groups:  # joined before it attached: now on the fast path
            if needs_own_subscription(group):
                continue
            members = self.queued.get(group)
            if members is not None:
                members.discard(name)
                if not members:
                    del self.queued[group]
            self.fast.setdefault(group, set()).add(socket)

    def detach(self, socket: Subscriber) -> bool:
        """Take the socket out of its groups' fast path (its own groups only); False if it was
        not a socket here. The channel keeps its memberships until it is dropped."""
        channel = self.sockets.pop(socket, None)
        if channel is None:
            return False
        for group in channel.groups:
            sockets = self.fast.get(group)
            if sockets is not None:
                sockets.discard(socket)
                if not sockets:
                    del self.fast[group]
        channel.socket = None
        return True
