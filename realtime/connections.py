"""Every Redis client of the real-time layer is made here.

One place decides how a process reaches Redis (today a URL, `REDIS_URL` or the layer's
`hosts`), so a change of topology (Sentinel, TLS) is a change to this module only.

- `sync_client(url)`: the process's synchronous client for a URL, one thread-safe connection
  pool per process (made anew after a fork, which must not share sockets with its parent).
  Workers publish on it.
- `async_client(url, **options)`: a new asyncio client; its caller owns it and closes it.
- `process_cache()`: Django's default cache as one instance per process. Django keeps a cache
  instance per async context (`django.core.cache.cache`), and its Redis backend a connection
  pool per instance; code that runs for a WebSocket (a handshake's checks) would make a pool
  per socket and keep its connection for the socket's whole life: 10,000 sockets, 10,000
  Redis connections, past Redis's default limit.
"""

from __future__ import annotations

import functools
import os
import threading
from typing import Any

import redis
import redis.asyncio as aioredis
from django.conf import settings
from django.core.cache import BaseCache, caches

CONNECT_TIMEOUT_SECONDS = 2
COMMAND_TIMEOUT_SECONDS = 2

_sync_clients: dict[tuple[str, int], redis.Redis] = {}
_lock = threading.Lock()


def redis_url(url: str | None = None) -> str:
    return url or settings.REDIS_URL


def sync_client(url: str | None = None) -> redis.Redis:
    """The process's synchronous client for `url` (default REDIS_URL), with short timeouts: a
    Redis that does not answer costs a caller at most a few seconds, then an error."""
    key = (redis_url(url), os.getpid())
    with _lock:
        client = _sync_clients.get(key)
        if client is None:
            for stale in [k for k in _sync_clients if k[1] != key[1]]:
                del _sync_clients[stale]  # the parent's, before a fork: never used here
            client = _sync_clients[key] = redis.Redis.from_url(
                key[0],
                socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
                socket_timeout=COMMAND_TIMEOUT_SECONDS,
                health_check_interval=30,
            )
        return client


def async_client(url: str | None = None, **options: Any) -> aioredis.Redis:
    """A new asyncio client for `url` (default REDIS_URL); close it with `aclose()`."""
    return aioredis.Redis.from_url(redis_url(url), **options)


@functools.cache
def process_cache() -> BaseCache:
    """The default cache, one instance (one connection pool) for the whole process; its Redis
    client's pool is thread-safe and starts afresh in a forked child."""
    return caches.create_connection("default")
