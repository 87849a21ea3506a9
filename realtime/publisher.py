"""The one way events leave the service layer for the browsers: through the channel layer.

`publish_on_commit` publishes after the surrounding transaction commits (never for a
rolled-back one). An event of a stream reaches the groups `realtime.streams` names for it,
through `HubChannelLayer.publish_encoded`: from synchronous code, one pipelined PUBLISH round
trip on the process's connection pool (about 0.1 ms), where `async_to_sync(channel_layer.group_send)`
builds a thread and an event loop per message. A PUBLISH never waits for subscribers: Redis
buffers per subscriber and drops a subscriber that falls too far behind, so a slow browser
cannot block a worker. A stream with no groups (a control stream such as the credentials'
revocations) is one envelope on its own Redis channel, on the same pool.

`REALTIME_PUBLISHER = "memory"` (the fast unit run, which has no Redis) keeps the frames in
the process instead, in order, still encoded as they would cross the wire.
"""

import logging
import os
import threading
from typing import Any, Protocol

import redis
from channels.layers import get_channel_layer
from django.conf import settings

from config.after_commit import on_commit_robust
from realtime import streams
from realtime.layer import HubChannelLayer

logger = logging.getLogger(__name__)


def get_layer() -> HubChannelLayer:
    layer = get_channel_layer()
    if not isinstance(layer, HubChannelLayer):
        raise RuntimeError("CHANNEL_LAYERS['default'] must be realtime.layer.HubChannelLayer")
    return layer


# One event of a batch: its frame and its routing (e.g. `{"user": 7}` on the private stream).
Routed = tuple[dict[str, Any], dict[str, Any]]


class EventPublisher(Protocol):
    def publish(self, stream: str, frame: dict[str, Any], **routing: Any) -> int: ...

    def publish_many(self, stream: str, events: list[Routed]) -> None: ...


class LayerPublisher:
    def __init__(self, layer: HubChannelLayer) -> None:
        self.layer = layer

    def publish(self, stream: str, frame: dict[str, Any], **routing: Any) -> int:
        """Publish now; returns the number of web processes that received it."""
        if streams.is_control_stream(stream):
            envelope = streams.encode_envelope(frame, **routing)
            return self.layer.publish_encoded([(streams.channel_name(stream), envelope.encode())])[0]
        return min(self.layer.publish_encoded(self._encoded(stream, frame, routing)))

    def publish_many(self, stream: str, events: list[Routed]) -> None:
        """Publish a batch of events of one stream in one round trip (one pipeline), where
        `publish` each would cost a round trip each: e.g. every open bet's cash-out value
        after a new price."""
        sent = []
        for frame, routing in events:
            if streams.is_control_stream(stream):
                sent.append((streams.channel_name(stream), streams.encode_envelope(frame, **routing).encode()))
            else:
                sent.extend(self._encoded(stream, frame, routing))
        if sent:
            self.layer.publish_encoded(sent)

    def _encoded(self, stream: str, frame: dict[str, Any], routing: dict[str, Any]) -> list[tuple[str, bytes]]:
        return [
            pair
            for groups, message in streams.group_messages(stream, frame, routing)
            for pair in self.layer.encode_group_send(groups, message)
        ]


class MemoryPublisher:
    """Keeps every event it is given, as (stream, envelope): a process with no Redis."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def publish(self, stream: str, frame: dict[str, Any], **routing: Any) -> int:
        self.sent.append((stream, streams.encode_envelope(frame, **routing)))
        return 0  # no web process listens

    def publish_many(self, stream: str, events: list[Routed]) -> None:
        for frame, routing in events:
            self.publish(stream, frame, **routing)


_publisher: EventPublisher | None = None
_publisher_pid: int | None = None
_lock = threading.Lock()


def get_publisher() -> EventPublisher:
    """The process's publisher (the layer keeps one pool per process, made anew after a fork)."""
    global _publisher, _publisher_pid
    with _lock:
        if _publisher is None or _publisher_pid != os.getpid():
            memory = settings.REALTIME_PUBLISHER == "memory"
            _publisher = MemoryPublisher() if memory else LayerPublisher(get_layer())
            _publisher_pid = os.getpid()
        return _publisher


def publish(stream: str, frame: dict[str, Any], **routing: Any) -> int:
    """Publish now (raises if Redis is unreachable)."""
    return get_publisher().publish(stream, frame, **routing)


def publish_now(stream: str, frame: dict[str, Any], **routing: Any) -> None:
    try:
        receivers = publish(stream, frame, **routing)
        # With the request id of the bet that caused it (ops.request_id): a bet followed end to end.
        logger.info(
            "Published %s %s to %s web processes",
            stream,
            frame.get("type"),
            receivers,
            extra={
                "stream": stream,
                "event": frame.get("type"),
                "match": frame.get("match"),
                "version": frame.get("version"),
            },
        )
    except redis.RedisError:
        # The state is committed in the database; clients catch up by snapshot or resync.
        logger.exception("Could not publish a %s event", stream)


def publish_on_commit(stream: str, frame: dict[str, Any], **routing: Any) -> None:
    """Publish once the transaction commits. Redis down is logged by `publish_now`; any other
    failure is logged and counted by `on_commit_robust`: neither reaches the committed request."""
    on_commit_robust(f"publish_{stream}", lambda: publish_now(stream, frame, **routing))


def publish_many_now(stream: str, events: list[Routed]) -> None:
    """`publish_now` for a batch: one round trip, and Redis down is logged, not raised."""
    try:
        get_publisher().publish_many(stream, events)
        logger.info("Published %s %s events", len(events), stream, extra={"stream": stream})
    except redis.RedisError:
        logger.exception("Could not publish %s %s events", len(events), stream)


def publish_many_on_commit(stream: str, events: list[Routed]) -> None:
    """A batch of events of one stream, published once the transaction commits, in one round
    trip. Failures are handled as `publish_on_commit`'s: logged (and counted), never raised."""
    if events:
        on_commit_robust(f"publish_{stream}", lambda: publish_many_now(stream, events))
