"""Every Redis client of the real-time layer is made here.

One place decides how a process reaches Redis: the one Redis at a URL (`REDIS_URL` or the
layer's `hosts`), or, with `REDIS_SENTINELS` set, the primary that Redis Sentinel names
`REDIS_SENTINEL_MASTER` (`config.redis_topology`), the URL giving only the database number and
the password. A Sentinel-managed connection asks the sentinels for the primary each time it
connects, so after a failover the next connection (a reconnect, or the next command of a pool)
reaches the new primary; a connection still open to the old one fails and is dropped.

- `sync_client(url)`: the process's synchronous client for a URL, one thread-safe connection
  pool per process (made anew after a fork, which must not share sockets with its parent).
  Workers publish on it.
- `async_client(url, **options)`: a new asyncio client; its caller owns it and closes it. With
  Sentinel its pool comes from one `redis.asyncio.sentinel.Sentinel` per event loop, whose
  connections to the sentinels belong to that loop.
- `process_cache()`: Django's default cache as one instance per process. Django keeps a cache
  instance per async context (`django.core.cache.cache`), and its Redis backend a connection
  pool per instance; code that runs for a WebSocket (a handshake's checks) would make a pool
  per socket and keep its connection for the socket's whole life: 10,000 sockets, 10,000
  Redis connections, past Redis's default limit.
"""

from __future__ import annotations

import asyncio
import functools
import os
import threading
import weakref
from typing import Any

import redis
import redis.asyncio as aioredis
import redis.asyncio.sentinel as aiosentinel
import redis.sentinel
from django.conf import settings
from django.core.cache import BaseCache, caches

from config.redis_topology import master_kwargs

CONNECT_TIMEOUT_SECONDS = 2
COMMAND_TIMEOUT_SECONDS = 2

_sync_clients: dict[tuple[str, int, str], redis.Redis] = {}
_lock = threading.Lock()
_async_sentinels: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiosentinel.Sentinel] = (
    weakref.WeakKeyDictionary()
)


def redis_url(url: str | None = None) -> str:
    return url or settings.REDIS_URL


def uses_sentinel() -> bool:
    return bool(settings.REDIS_SENTINELS)


def _sentinel_timeouts() -> dict[str, float]:
    """A sentinel that does not answer is skipped after this long, for the next one."""
    return {"socket_connect_timeout": CONNECT_TIMEOUT_SECONDS, "socket_timeout": COMMAND_TIMEOUT_SECONDS}


def sync_client(url: str | None = None) -> redis.Redis:
    """The process's synchronous client for `url` (default REDIS_URL), with short timeouts: a
    Redis that does not answer costs a caller at most a few seconds, then an error."""
    # The topology is part of the key: tests switch it with override_settings.
    key = (redis_url(url), os.getpid(), f"{settings.REDIS_SENTINELS}/{settings.REDIS_SENTINEL_MASTER}")
    with _lock:
        client = _sync_clients.get(key)
        if client is None:
            for stale in [k for k in _sync_clients if k[1] != key[1]]:
                del _sync_clients[stale]  # the parent's, before a fork: never used here
            options: dict[str, Any] = {
                "socket_connect_timeout": CONNECT_TIMEOUT_SECONDS,
                "socket_timeout": COMMAND_TIMEOUT_SECONDS,
                "health_check_interval": 30,
            }
            if uses_sentinel():
                sentinel = redis.sentinel.Sentinel(settings.REDIS_SENTINELS, sentinel_kwargs=_sentinel_timeouts())
                client = sentinel.master_for(
                    settings.REDIS_SENTINEL_MASTER, redis_class=redis.Redis, **master_kwargs(key[0]), **options
                )
            else:
                client = redis.Redis.from_url(key[0], **options)
            _sync_clients[key] = client
        return client


def async_client(url: str | None = None, **options: Any) -> aioredis.Redis:
    """A new asyncio client for `url` (default REDIS_URL); close it with `aclose()`."""
    if not uses_sentinel():
        return aioredis.Redis.from_url(redis_url(url), **options)
    loop = asyncio.get_running_loop()
    sentinel = _async_sentinels.get(loop)
    if sentinel is None:
        sentinel = _async_sentinels[loop] = aiosentinel.Sentinel(
            settings.REDIS_SENTINELS, sentinel_kwargs=_sentinel_timeouts()
        )
    return sentinel.master_for(
        settings.REDIS_SENTINEL_MASTER, redis_class=aioredis.Redis, **master_kwargs(redis_url(url)), **options
    )


@functools.cache
def process_cache() -> BaseCache:
    """The default cache, one instance (one connection pool) for the whole process; its Redis
    client's pool is thread-safe and starts afresh in a forked child."""
    return caches.create_connection("default")
