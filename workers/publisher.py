"""The one way events leave the service layer for the browsers.

`publish_on_commit` publishes after the surrounding transaction commits (never for a
rolled-back one). Each process keeps one Redis connection pool for its whole life: a
PUBLISH is one round trip on a warm connection (about 0.1 ms), where
`async_to_sync(channel_layer.group_send)` would build a thread, an event loop and a Redis
connection per message (2-3 ms). A PUBLISH never waits for subscribers: Redis buffers per
subscriber and drops a subscriber that falls too far behind, so a slow browser cannot block
a worker.
"""

import logging
import os
import threading
from typing import Any

import redis
from django.conf import settings
from django.db import transaction

from realtime import streams

logger = logging.getLogger(__name__)


class Publisher:
    def __init__(self, url: str) -> None:
        self._client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2, health_check_interval=30)

    def publish(self, stream: str, frame: dict[str, Any], **routing: Any) -> int:
        """Publish now; returns the number of web processes that received it."""
        receivers = self._client.publish(streams.channel_name(stream), streams.encode_envelope(frame, **routing))
        return int(receivers)  # type: ignore[arg-type]  # a sync client returns an int


_publisher: Publisher | None = None
_publisher_pid: int | None = None
_lock = threading.Lock()


def get_publisher() -> Publisher:
    """The process's publisher, made anew after a fork (a pool must not cross a fork)."""
    global _publisher, _publisher_pid
    with _lock:
        if _publisher is None or _publisher_pid != os.getpid():
            _publisher = Publisher(settings.REDIS_URL)
            _publisher_pid = os.getpid()
        return _publisher


def publish_now(stream: str, frame: dict[str, Any], **routing: Any) -> None:
    try:
        get_publisher().publish(stream, frame, **routing)
    except redis.RedisError:
        # The state is committed in the database; clients catch up by snapshot or resync.
        logger.exception("Could not publish a %s event", stream)


def publish_on_commit(stream: str, frame: dict[str, Any], **routing: Any) -> None:
    transaction.on_commit(lambda: publish_now(stream, frame, **routing))
