"""Waiting on a condition rather than for a fixed time: a test on a busy machine waits as long as
the condition takes (up to a bound), and on a quiet one no longer than it must."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis


async def until(condition: Callable[[], bool | Awaitable[bool]], timeout: float = 10, what: str = "") -> None:
    """Return once `condition()` is true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {timeout} s: {what or condition}")
        await asyncio.sleep(0.01)


async def subscribed(redis_url: str, channel: str, count: int = 1, timeout: float = 10) -> None:
    """Return once `count` connections are subscribed to the Redis pub/sub `channel`."""
    client = aioredis.Redis.from_url(redis_url)
    try:

        async def subscribers() -> bool:
            return dict(await client.pubsub_numsub(channel)).get(channel.encode(), 0) == count

        await until(subscribers, timeout, f"{count} subscribers of {channel}")
    finally:
        await client.aclose()


async def kill_connections(redis_url: str, name: str) -> int:
    """Kill the Redis connections named `name` (CLIENT SETNAME) as a restart would; how many."""
    client = aioredis.Redis.from_url(redis_url)
    try:
        killed = 0
        for info in await client.client_list():
            if info.get("name") == name:
                killed += int(await client.client_kill_filter(_id=info["id"]))
        return killed
    finally:
        await client.aclose()


async def next_second() -> None:
    """Return once the wall clock has entered a new whole second (JWT times are whole seconds)."""
    start = int(time.time())
    await until(lambda: int(time.time()) > start, timeout=2)
