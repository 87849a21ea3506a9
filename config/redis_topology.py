"""How every Redis client of the project is reached: one Redis at REDIS_URL, or the primary that
Redis Sentinel names.

The settings call these functions once (`config/settings/base.py`, and again in the test settings
after they change the database number); `realtime.connections` reads the result for the clients
it makes. With no sentinels nothing changes: Django's own Redis cache and a `redis://` broker.

With `REDIS_SENTINELS` set, each client asks the sentinels for the primary of
`REDIS_SENTINEL_MASTER` when it connects, and again after a failover broke its connection:

- the cache: django-redis's `SentinelClient` (Django's built-in Redis cache has no Sentinel
  support), reading from the primary too: throttles, revocations and the recompute flags must
  see the write made just before, which a replica may not have yet;
- Celery's broker: kombu's `sentinel://` transport, one URL per sentinel, with `master_name` in
  the transport options;
- the hub, the publisher, presence and revocations: redis-py's `Sentinel(...).master_for()`,
  synchronous and asyncio (`realtime.connections`).

REDIS_URL still gives the database number and the password (its host and port are not used).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

Sentinels = list[tuple[str, int]]

DEFAULT_SENTINEL_PORT = 26379


def parse_sentinels(entries: list[str]) -> Sentinels:
    """`["host:port", "host"]` -> `[("host", port), ("host", 26379)]`; refuses what is not one."""
    sentinels = []
    for entry in (e.strip() for e in entries):
        if not entry:
            continue
        host, colon, port = entry.rpartition(":")
        if not colon:
            host, port = entry, str(DEFAULT_SENTINEL_PORT)
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ImproperlyConfigured(f"REDIS_SENTINELS: {entry!r} is not host:port")
        sentinels.append((host, int(port)))
    return sentinels


def master_kwargs(url: str) -> dict[str, Any]:
    """What a connection to the primary takes from a Redis URL: database, user and password."""
    parsed = urlparse(url)
    kwargs: dict[str, Any] = {"db": int(parsed.path.lstrip("/") or 0)}
    if parsed.username:
        kwargs["username"] = unquote(parsed.username)
    if parsed.password:
        kwargs["password"] = unquote(parsed.password)
    return kwargs


def _userinfo(url: str) -> str:
    parsed = urlparse(url)
    if not parsed.password and not parsed.username:
        return ""
    user = quote(unquote(parsed.username or ""), safe="")
    password = quote(unquote(parsed.password or ""), safe="")
    return f"{user}:{password}@" if password else f"{user}@"


def cache_settings(url: str, sentinels: Sentinels, master: str, base: dict[str, Any]) -> dict[str, Any]:
    """CACHES["default"]: `base` (Django's Redis cache at `url`) when there are no sentinels, else
    the same prefix and timeouts through django-redis's SentinelClient."""
    if not sentinels:
        return {**base, "LOCATION": url}
    options = base.get("OPTIONS", {})
    database = master_kwargs(url)["db"]
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        # One location, the primary: the SentinelClient given a single URL would add a replica
        # pool and read from it (see the module's docstring).
        "LOCATION": [f"redis://{_userinfo(url)}{master}/{database}?is_master=1"],
        "KEY_PREFIX": base.get("KEY_PREFIX", ""),
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.SentinelClient",
            "CONNECTION_FACTORY": "django_redis.pool.SentinelConnectionFactory",
            "SENTINELS": sentinels,
            "SOCKET_CONNECT_TIMEOUT": options.get("socket_connect_timeout"),
            "SOCKET_TIMEOUT": options.get("socket_timeout"),
        },
    }


def broker_url(url: str, sentinels: Sentinels) -> str:
    """Celery's broker: `url` itself, or one `sentinel://` URL per sentinel (kombu tries them in
    turn), carrying the database and the primary's password."""
    if not sentinels:
        return url
    database = master_kwargs(url)["db"]
    return ";".join(f"sentinel://{_userinfo(url)}{host}:{port}/{database}" for host, port in sentinels)


def broker_transport_options(sentinels: Sentinels, master: str, base: dict[str, Any]) -> dict[str, Any]:
    return {**base, "master_name": master} if sentinels else dict(base)
