"""Every kind of Redis client the project makes follows a Sentinel failover, with only
REDIS_SENTINELS and REDIS_SENTINEL_MASTER set: the synchronous client (publisher, presence
reads), the asyncio client (the hub's publisher, presence writes), the hub's subscription (which
resubscribes on the new primary and asks its sockets to resync), the cache (django-redis's
SentinelClient) and Celery's broker (kombu's sentinel:// transport).

A real primary, replica and three sentinels (`sentinel.SentinelTopology`); the primary is
SIGKILLed and each client must reach the promoted replica within a bounded time.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Iterator
from typing import Any

import kombu
import pytest
import redis
from django.core.cache import caches
from django.test import override_settings

from config.redis_topology import broker_transport_options, broker_url, cache_settings, parse_sentinels
from realtime import connections
from realtime.reconnect import subscribe_forever
from tests.integration.faults.sentinel import MASTER_NAME, SentinelTopology, running_sentinel_topology

pytestmark = [pytest.mark.integration, pytest.mark.fault, pytest.mark.timeout(120)]

# Nobody listens on the host and port of this URL: under Sentinel only its database number counts.
URL = "redis://127.0.0.1:1/3"
FOLLOW_SECONDS = 15.0  # after the promotion, each client must have reached the new primary


@pytest.fixture
def topology() -> Iterator[SentinelTopology]:
    with running_sentinel_topology() as running:
        yield running


def sentinel_settings(topology: SentinelTopology) -> dict[str, Any]:
    sentinels = parse_sentinels(topology.sentinels.split(","))
    plain = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "KEY_PREFIX": "t", "OPTIONS": {}}
    return {
        "REDIS_URL": URL,
        "REDIS_SENTINELS": sentinels,
        "REDIS_SENTINEL_MASTER": MASTER_NAME,
        "CACHES": {"default": cache_settings(URL, sentinels, MASTER_NAME, plain)},
    }


def eventually(action: Any, timeout: float = FOLLOW_SECONDS) -> Any:
    """`action()`'s result once it stops raising a Redis or broker error."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return action()
        except (redis.RedisError, OSError, kombu.exceptions.KombuError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def direct(address: tuple[str, int]) -> redis.Redis:
    return redis.Redis(host=address[0], port=address[1], db=3, socket_timeout=2)


def test_every_client_follows_the_promoted_replica(topology: SentinelTopology) -> None:
    with override_settings(**sentinel_settings(topology)):
        sync = connections.sync_client()
        cache = caches.create_connection("default")
        broker = kombu.Connection(
            broker_url(URL, parse_sentinels(topology.sentinels.split(","))),
            transport_options=broker_transport_options(parse_sentinels(topology.sentinels.split(",")), MASTER_NAME, {}),
        )
        queue = broker.SimpleQueue(f"sentinel-{uuid.uuid4().hex[:8]}")
        before = topology.master_address()
        assert before is not None

        sync.set("written", "before")
        cache.set("cached", "before")
        queue.put({"n": 1})
        assert queue.get(timeout=5).payload == {"n": 1}
        assert direct(before).get("written") == b"before"  # the URL's database, on the primary

        topology.kill_primary()
        promoted_in = topology.wait_for_promotion(before)
        assert promoted_in is not None, "no replica was promoted"
        after = topology.master_address()
        assert after is not None and after != before

        eventually(lambda: sync.set("written", "after"))
        eventually(lambda: cache.set("cached", "after"))
        eventually(lambda: queue.put({"n": 2}))
        message = eventually(lambda: queue.get(timeout=5))
        message.ack()
        assert message.payload == {"n": 2}
        assert direct(after).get("written") == b"after"
        assert cache.get("cached") == "after"
        queue.close()
        broker.release()

        async def asyncio_client() -> Any:
            client = connections.async_client(URL)
            try:
                await client.set("async", "after")
                return await client.get("async")
            finally:
                await client.aclose()

        assert asyncio.run(asyncio_client()) == b"after"
        assert direct(after).get("async") == b"after"


def test_the_subscription_resubscribes_on_the_promoted_replica_and_resyncs(topology: SentinelTopology) -> None:
    """The hub's loop (`subscribe_forever`): the primary dies under it, and it comes back
    subscribed on the promoted replica, saying that messages may have been lost (after_loss),
    which is what makes the hub resync its sockets."""
    channel = f"sentinel-test-{uuid.uuid4().hex[:8]}"

    async def scenario() -> tuple[list[bool], list[bytes]]:
        subscribed: list[bool] = []
        received: list[bytes] = []
        ready = asyncio.Event()

        async def on_subscribed(pubsub: Any, after_loss: bool) -> None:
            subscribed.append(after_loss)
            ready.set()

        async def on_messages(batch: list[dict[str, Any]]) -> None:
            received.extend(m["data"] for m in batch)

        task = asyncio.create_task(
            subscribe_forever(
                "Test",
                url=URL,
                channels=lambda: [channel],
                on_subscribed=on_subscribed,
                on_messages=on_messages,
                on_lost=lambda: None,
            )
        )
        try:
            await asyncio.wait_for(ready.wait(), 10)
            before = topology.master_address()
            assert before is not None
            await asyncio.to_thread(topology.kill_primary)
            assert await asyncio.to_thread(topology.wait_for_promotion, before) is not None
            promoted = time.monotonic()
            publisher = connections.sync_client(URL)
            while time.monotonic() - promoted < FOLLOW_SECONDS and not (received and True in subscribed):
                with contextlib.suppress(redis.RedisError):  # until the publisher finds the new primary
                    await asyncio.to_thread(publisher.publish, channel, b"after")
                await asyncio.sleep(0.2)
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        return subscribed, received

    with override_settings(**sentinel_settings(topology)):
        subscribed, received = asyncio.run(scenario())
    assert subscribed[0] is False
    assert True in subscribed, f"never resubscribed after the loss: {subscribed}"
    assert b"after" in received
