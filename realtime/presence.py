"""How many sockets each stream has, summed over every web process.

Each web process (its hub) writes its own counts to a Redis hash that expires after
REALTIME_PRESENCE_TTL_SECONDS and refreshes it every REALTIME_PRESENCE_REFRESH_SECONDS, and
lists itself in a sorted set scored by that expiry. The total is the sum of the hashes of
the processes still listed. A process that dies stops refreshing: its hash expires and its
sockets stop counting, with no ghost. A process whose counts change publishes a note on the
layer's presence channel, so the other processes recompute the total at once instead of at their
next refresh.

`PresenceTracker` is the hub's side: it counts the process's sockets, writes and reads the
totals in its own task (`realtime.reconnect` rules: backoff on errors, stops when cancelled), and
tells the sockets that want them (`/ws/blog/`) a `presence` frame when their stream's total changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

import redis
import redis.asyncio as aioredis
from django.conf import settings

from realtime import connections
from realtime.counters import HubCounters, hub_counters_flush
from realtime.groups import encode_json
from realtime.reconnect import Backoff, keep_trying, raise_if_cancelling
from realtime.subscriber import Subscriber

PROCESS_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
DEBOUNCE_SECONDS = 0.05  # a burst of connects (a reconnect storm) becomes one write, not one per socket


def processes_key() -> str:
    return f"{settings.REALTIME_PREFIX}:presence:processes"


def process_key(process_id: str) -> str:
    return f"{settings.REALTIME_PREFIX}:presence:process:{process_id}"


async def presence_write(
    client: aioredis.Redis, process_id: str, local_counts: Mapping[str, int], channel: str
) -> None:
    """Store this process's counts (every stream, zeros included) and tell the other processes."""
    ttl = settings.REALTIME_PRESENCE_TTL_SECONDS
    key = process_key(process_id)
    async with client.pipeline(transaction=True) as pipe:
        pipe.delete(key)
        pipe.hset(key, mapping={stream: int(n) for stream, n in local_counts.items()} or {"-": 0})
        pipe.pexpire(key, int(ttl * 1000))
        pipe.zadd(processes_key(), {process_id: time.time() + ttl})
        pipe.publish(channel, process_id)
        await pipe.execute()


async def presence_remove(client: aioredis.Redis, process_id: str, channel: str) -> None:
    async with client.pipeline(transaction=True) as pipe:
        pipe.delete(process_key(process_id))
        pipe.zrem(processes_key(), process_id)
        pipe.publish(channel, process_id)
        await pipe.execute()


def _sum(hashes: list[Any]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for values in hashes:
        for stream, n in (values or {}).items():
            name = stream.decode() if isinstance(stream, bytes) else stream
            if name != "-":
                totals[name] = totals.get(name, 0) + int(n)
    return totals


async def presence_totals(client: aioredis.Redis) -> dict[str, int]:
    now = time.time()
    await client.zremrangebyscore(processes_key(), "-inf", now)
    process_ids = cast(list[bytes], await client.zrange(processes_key(), 0, -1))  # no withscores
    async with client.pipeline(transaction=False) as pipe:
        for process_id in process_ids:
            pipe.hgetall(process_key(process_id.decode()))
        hashes = await pipe.execute()
    return _sum(hashes)


def counts(client: redis.Redis | None = None) -> dict[str, int]:
    """Sockets per stream over every live web process, e.g. `{"odds": 1200, "blog": 35}` (sync: ops page)."""
    client = client or connections.sync_client()
    now = time.time()
    client.zremrangebyscore(processes_key(), "-inf", now)
    process_ids: list[bytes] = client.zrange(processes_key(), 0, -1)  # type: ignore[assignment]
    pipe = client.pipeline(transaction=False)
    for process_id in process_ids:
        pipe.hgetall(process_key(process_id.decode()))
    return _sum(pipe.execute())


class PresenceTracker:
    """This process's sockets per stream, the totals over every process, and who was told what."""

    def __init__(
        self,
        *,
        url: str | None,
        channel: str,
        sockets: Callable[[], Iterable[Subscriber]],
        counters: HubCounters,
        process_id: str = PROCESS_ID,
    ) -> None:
        self.url = url
        self.channel = channel  # the layer's presence channel: "my counts changed" notes
        self.sockets = sockets
        self.counters = counters
        self.process_id = process_id
        self.local_counts: Counter[str] = Counter()
        self.totals: dict[str, int] = {}
        self._told: dict[Subscriber, int] = {}
        self._due = asyncio.Event()  # set when either flag below is
        self._write_due = False
        self._read_due = False
        self._next_refresh = 0.0
        self._counters_flushed: dict[str, int] = {}

    def socket_opened(self, subscriber: Subscriber) -> None:
        self.local_counts[subscriber.presence_stream] += 1
        self.changed(write=True)

    def socket_closed(self, subscriber: Subscriber) -> None:
        self.local_counts[subscriber.presence_stream] -= 1
        self._told.pop(subscriber, None)
        self.changed(write=True)

    def note_received(self) -> None:
        """A process (this one included) said its counts changed: read the totals again."""
        self.changed(read=True)

    def changed(self, *, write: bool = False, read: bool = False) -> None:
        self._write_due |= write
        self._read_due |= read
        self._due.set()

    def counts(self) -> dict[str, int]:
        return {stream: n for stream, n in self.local_counts.items() if n > 0}

    async def run(self) -> None:
        client = connections.async_client(self.url, max_connections=4)
        try:
            await keep_trying("Presence", lambda backoff: self._serve(client, backoff))
        finally:
            # Stopping: the other processes stop counting this one's sockets now, not at expiry.
            with contextlib.suppress(Exception):
                await presence_remove(client, self.process_id, self.channel)
            with contextlib.suppress(Exception):
                await hub_counters_flush(client, self.counters.as_dict(), self._counters_flushed)
            with contextlib.suppress(Exception):
                await client.aclose()

    async def _serve(self, client: aioredis.Redis, backoff: Backoff) -> None:
        """Write this process's counts when they change (debounced) and at every refresh;
        recompute the totals when any process says its counts changed, and at every refresh."""
        refresh = settings.REALTIME_PRESENCE_REFRESH_SECONDS
        self.changed(write=True, read=True)  # (re)connected: whatever failed before, again
        while True:
            raise_if_cancelling()
            # A timer sets the event, rather than `asyncio.wait_for`, which on Python 3.11
            # can swallow the task's cancellation and keep this loop alive at shutdown.
            timer = asyncio.get_running_loop().call_later(
                max(0.0, self._next_refresh - time.monotonic()), self._due.set
            )
            try:
                await self._due.wait()
            finally:
                timer.cancel()
            self._due.clear()
            await asyncio.sleep(DEBOUNCE_SECONDS)
            periodic = time.monotonic() >= self._next_refresh
            if periodic:
                self._next_refresh = time.monotonic() + refresh
            if periodic or self._write_due:
                self._write_due = False
                await presence_write(client, self.process_id, self.local_counts, self.channel)
                self._read_due = True  # our own note also comes back over pub/sub
            if periodic:
                await hub_counters_flush(client, self.counters.as_dict(), self._counters_flushed)
            if self._read_due:
                self._read_due = False
                self.totals = await presence_totals(client)
                await self._tell()
            backoff.reset()

    async def _tell(self) -> None:
        for subscriber in list(self.sockets()):
            if not subscriber.wants_presence:
                continue
            stream = subscriber.presence_stream
            count = self.totals.get(stream, 0)
            if self._told.get(subscriber) == count:
                continue
            self._told[subscriber] = count
            frame = encode_json({"type": "presence", "stream": stream, "count": count})
            await subscriber.deliver(("presence", stream), int(time.time() * 1000), frame)
