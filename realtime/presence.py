"""How many sockets each stream has, summed over every web process.

Each web process (its hub) writes its own counts to a Redis hash that expires after
REALTIME_PRESENCE_TTL_SECONDS and refreshes it every REALTIME_PRESENCE_REFRESH_SECONDS, and
lists itself in a sorted set scored by that expiry. The total is the sum of the hashes of
the processes still listed. A process that dies stops refreshing: its hash expires and its
sockets stop counting, with no ghost. A process whose counts change publishes a note on the
layer's presence channel, so the other processes recompute the total at once instead of at their
next refresh.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Mapping
from typing import Any, cast

import redis
import redis.asyncio as aioredis
from django.conf import settings

PROCESS_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


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
    client = client or redis.Redis.from_url(settings.REDIS_URL)
    now = time.time()
    client.zremrangebyscore(processes_key(), "-inf", now)
    process_ids: list[bytes] = client.zrange(processes_key(), 0, -1)  # type: ignore[assignment]
    pipe = client.pipeline(transaction=False)
    for process_id in process_ids:
        pipe.hgetall(process_key(process_id.decode()))
    return _sum(pipe.execute())
