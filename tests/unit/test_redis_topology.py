"""REDIS_SENTINELS switches every Redis client to Sentinel; without it nothing changes.

What is checked here needs no Redis: the settings each topology produces, and that the libraries
accept them (django-redis builds a Sentinel pool, kombu picks its sentinel transport, redis-py's
clients ask the sentinels for the primary). Following a real failover: tests/integration/faults.
"""

from __future__ import annotations

import asyncio
import os
import runpy
from pathlib import Path

import kombu
import pytest
import redis.asyncio.sentinel
import redis.sentinel
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from config.redis_topology import (
    broker_transport_options,
    broker_url,
    cache_settings,
    master_kwargs,
    parse_sentinels,
)
from config.settings import base as base_settings
from realtime import connections

PLAIN = {
    "BACKEND": "django.core.cache.backends.redis.RedisCache",
    "KEY_PREFIX": "oddstream",
    "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
}
SENTINELS = [("10.0.0.1", 26379), ("10.0.0.2", 26380)]


def test_sentinels_are_read_as_host_and_port_with_the_default_port() -> None:
    assert parse_sentinels(["10.0.0.1:26379", " s2 ", "", "s3:1"]) == [("10.0.0.1", 26379), ("s2", 26379), ("s3", 1)]


@pytest.mark.parametrize("entry", ["host:", ":26379", "host:port", "host:70000"])
def test_a_malformed_sentinel_is_refused(entry: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="REDIS_SENTINELS"):
        parse_sentinels([entry])


def test_the_url_gives_the_primary_its_database_and_credentials() -> None:
    assert master_kwargs("redis://u:p%40ss@ignored:1/4") == {"db": 4, "username": "u", "password": "p@ss"}
    assert master_kwargs("redis://127.0.0.1:6379") == {"db": 0}


def test_without_sentinels_the_cache_and_broker_are_unchanged() -> None:
    assert cache_settings("redis://h:6379/2", [], "m", PLAIN) == {**PLAIN, "LOCATION": "redis://h:6379/2"}
    assert broker_url("redis://h:6379/2", []) == "redis://h:6379/2"
    assert broker_transport_options([], "m", {"visibility_timeout": 3600}) == {"visibility_timeout": 3600}


def test_with_sentinels_the_cache_is_django_redis_reading_and_writing_the_primary() -> None:
    cache = cache_settings("redis://:secret@ignored/2", SENTINELS, "oddstream", PLAIN)
    assert cache["LOCATION"] == ["redis://:secret@oddstream/2?is_master=1"]
    assert cache["KEY_PREFIX"] == "oddstream"
    assert cache["OPTIONS"]["SOCKET_TIMEOUT"] == 1
    with override_settings(CACHES={"default": cache}):
        backend = caches.create_connection("default")
        client = backend.client.get_client(write=False)
        pool = client.connection_pool
    assert isinstance(pool, redis.sentinel.SentinelConnectionPool)
    assert pool.is_master and pool.service_name == "oddstream"
    assert pool.connection_kwargs["db"] == 2 and pool.connection_kwargs["password"] == "secret"
    assert [(s.connection_pool.connection_kwargs["host"]) for s in pool.sentinel_manager.sentinels] == [
        "10.0.0.1",
        "10.0.0.2",
    ]


def test_with_sentinels_the_broker_is_kombus_sentinel_transport() -> None:
    url = broker_url("redis://:secret@ignored/2", SENTINELS)
    assert url == "sentinel://:secret@10.0.0.1:26379/2;sentinel://:secret@10.0.0.2:26380/2"
    options = broker_transport_options(SENTINELS, "oddstream", {"visibility_timeout": 3600})
    assert options == {"visibility_timeout": 3600, "master_name": "oddstream"}
    connection = kombu.Connection(url, transport_options=options)
    assert connection.transport_cls == "sentinel"
    assert len(connection.alt) == 2


def test_with_sentinels_every_client_of_the_realtime_layer_asks_them_for_the_primary() -> None:
    with override_settings(REDIS_SENTINELS=SENTINELS, REDIS_SENTINEL_MASTER="oddstream", REDIS_URL="redis://x:1/5"):
        pool = connections.sync_client().connection_pool
        assert isinstance(pool, redis.sentinel.SentinelConnectionPool)
        assert pool.service_name == "oddstream" and pool.connection_kwargs["db"] == 5

        async def async_pool() -> object:
            client = connections.async_client(max_connections=4)
            try:
                return client.connection_pool
            finally:
                await client.aclose()

        apool = asyncio.run(async_pool())
    assert isinstance(apool, redis.asyncio.sentinel.SentinelConnectionPool)
    assert apool.service_name == "oddstream" and apool.max_connections == 4


def test_without_sentinels_the_clients_connect_to_the_url() -> None:
    with override_settings(REDIS_SENTINELS=[], REDIS_URL="redis://127.0.0.1:1/5"):
        pool = connections.sync_client().connection_pool
    assert not isinstance(pool, redis.sentinel.SentinelConnectionPool)
    assert pool.connection_kwargs["port"] == 1 and pool.connection_kwargs["db"] == 5


def settings_under(monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]) -> dict[str, object]:
    """The Redis settings config/settings/base.py makes from this environment (run afresh)."""
    for name in [k for k in os.environ if k.startswith(("REDIS_", "CELERY_"))]:
        monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    loaded = runpy.run_path(str(Path(base_settings.__file__)))
    return {
        "cache": loaded["CACHES"]["default"]["BACKEND"],
        "broker": loaded["CELERY_BROKER_URL"],
        "options": loaded["CELERY_BROKER_TRANSPORT_OPTIONS"],
    }


def test_one_setting_switches_the_settings_a_deployment_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = settings_under(monkeypatch, {"REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert plain == {
        "cache": "django.core.cache.backends.redis.RedisCache",
        "broker": "redis://127.0.0.1:6379/0",
        "options": {"visibility_timeout": 3600},
    }
    sentinel = settings_under(
        monkeypatch, {"REDIS_SENTINELS": "10.0.0.1:26379,10.0.0.2:26379", "REDIS_SENTINEL_MASTER": "prod"}
    )
    assert sentinel == {
        "cache": "django_redis.cache.RedisCache",
        "broker": "sentinel://10.0.0.1:26379/0;sentinel://10.0.0.2:26379/0",
        "options": {"visibility_timeout": 3600, "master_name": "prod"},
    }
