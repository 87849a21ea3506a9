"""From a batch of Redis pub/sub messages to the sockets and channels of one hub.

The hub's subscription reads every message already waiting as one batch (up to `MAX_BATCH`).
Fast-path envelopes (`realtime.wire`) are conflated first: per (groups, key), only the newest
version is kept, so when the process falls behind it skips superseded prices instead of
queueing them. Then each socket gets every event of the batch it wants in one
`deliver_batch`: sockets that want the same events share one joined buffer of WebSocket
frames, built once, so a socket costs one send() per batch however many events it holds.
Members that are not hub sockets get the message in their channel. Other messages (ordinary
groups, named channels, this hub's own channel, presence notes) go to their channels.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Hashable
from typing import Any

from realtime.counters import HubCounters
from realtime.registry import Registry
from realtime.subscriber import Item, Subscriber
from realtime.transport import wire_text_frame
from realtime.wire import FastEvent, RedisNames, decode_direct, decode_fast, deserialize

logger = logging.getLogger(__name__)

MAX_BATCH = 2000  # messages read before fanning out, so one batch cannot starve the loop
YIELD_EVERY_SOCKETS = 1000  # let Twisted write, and the listener read, between slices


class FanOut:
    def __init__(
        self,
        registry: Registry,
        counters: HubCounters,
        names: RedisNames,
        token: str,
        presence_note: Callable[[], None],
    ) -> None:
        self.registry = registry
        self.counters = counters
        self._fast = names.fast.encode()
        self._own = names.hub(token)
        self._presence = names.presence
        self._group_prefix = names.group_prefix
        self._channel_prefix = names.channel_prefix
        self._presence_note = presence_note

    async def dispatch_batch(self, batch: list[dict[str, Any]]) -> None:
        events: dict[Hashable, FastEvent] = {}
        for position, message in enumerate(batch):
            self.counters.events_received += 1
            channel: bytes = message["channel"]
            data: bytes = message["data"]
            if channel != self._fast:
                self._dispatch_other(channel.decode(), data)
                continue
            event = decode_fast(data)
            key = event[1]
            if key is None:
                events[("queued", position)] = event
                continue
            slot = (tuple(event[0]), key)
            waiting = events.get(slot)
            if waiting is not None:
                self.counters.events_superseded += 1
                if waiting[2] > event[2]:
                    continue
                del events[slot]  # re-inserted at the end: the order it became current
            events[slot] = event
        if events:
            await self.fan_out(list(events.values()))

    def _dispatch_other(self, channel: str, data: bytes) -> None:
        registry = self.registry
        if channel == self._presence:
            self._presence_note()
        elif channel == self._own:
            target, message = decode_direct(data)
            registry.deliver(target, message)
        elif channel.startswith(self._group_prefix):
            members = registry.queued.get(channel.removeprefix(self._group_prefix))
            if members:
                message = deserialize(data)
                for name in list(members):
                    registry.deliver(name, message)
        elif channel.startswith(self._channel_prefix):
            registry.deliver(channel.removeprefix(self._channel_prefix), deserialize(data))

    async def fan_out(self, events: list[FastEvent]) -> None:
        registry = self.registry
        plan: dict[Subscriber, list[int]] = {}
        fast = registry.fast
        for index, (groups, _, _, _, packed) in enumerate(events):
            for group in groups:
                for socket in fast.get(group, ()):
                    wanted = plan.get(socket)
                    if wanted is None:
                        plan[socket] = [index]
                    elif wanted[-1] != index:  # in two of the groups: once
                        wanted.append(index)
                queued = registry.queued.get(group)
                if queued:
                    message = deserialize(packed)
                    for name in list(queued):
                        registry.deliver(name, message)
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
            self.counters.deliveries += len(indices)
            if count % YIELD_EVERY_SOCKETS == 0:
                await asyncio.sleep(0)
        await asyncio.sleep(0)
