"""The channel layer's interface semantics, against the real Redis, with two layers standing
for two processes (each has its own hub, its own pub/sub connection and its own channels).

The semantics are channels_redis' pub/sub layer's (`tests/test_pubsub.py` there) and the
channel layer spec's: at most once, FIFO per sender, groups across processes, bounded channels.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from asgiref.sync import async_to_sync
from channels.exceptions import ChannelFull
from django.conf import settings

from blog import streams as blog_streams
from realtime.layer import HubChannelLayer
from realtime.tests.cancellation import tasks_left_after_cancelling
from tests.waiting import kill_connections, subscribed, until

pytestmark = pytest.mark.redis


@pytest.fixture
async def layers() -> AsyncIterator[tuple[HubChannelLayer, HubChannelLayer]]:
    prefix = f"layer-test-{uuid.uuid4().hex[:8]}"
    first = HubChannelLayer(hosts=[settings.REDIS_URL], prefix=prefix, capacity=5)
    second = HubChannelLayer(hosts=[settings.REDIS_URL], prefix=prefix, capacity=5)
    for layer in (first, second):
        assert await layer.hub().wait_connected(timeout=5)
    yield first, second
    for layer in (first, second):
        await layer.flush()


async def receive(layer: HubChannelLayer, channel: str, timeout: float = 3) -> dict:
    return await asyncio.wait_for(layer.receive(channel), timeout)


async def nothing(layer: HubChannelLayer, channel: str, wait: float = 0.3) -> bool:
    try:
        await asyncio.wait_for(asyncio.shield(layer.hub().registry.channels[channel].queue.get()), wait)
    except TimeoutError:
        return True
    return False


async def test_send_and_receive_in_one_process(layers) -> None:
    layer, _ = layers
    channel = await layer.new_channel()
    assert channel.startswith("specific.") and "!" in channel
    await layer.send(channel, {"type": "test.message", "text": "Ahoy-hoy!"})
    assert await receive(layer, channel) == {"type": "test.message", "text": "Ahoy-hoy!"}


async def test_send_reaches_a_channel_of_another_process_in_order(layers) -> None:
    first, second = layers
    channel = await second.new_channel()
    for n in range(3):
        await first.send(channel, {"type": "test.message", "n": n, "bytes": b"\x00\x01"})
    assert [(await receive(second, channel))["n"] for _ in range(3)] == [0, 1, 2]


async def test_a_named_channel_receives_from_any_process(layers) -> None:
    first, second = layers
    receiving = asyncio.ensure_future(receive(second, "worker-jobs"))
    await subscribed(settings.REDIS_URL, second.names.channel("worker-jobs"))  # on the first receive
    await first.send("worker-jobs", {"type": "job", "id": 1})
    assert (await receiving)["id"] == 1


async def test_group_send_reaches_members_in_every_process_once(layers) -> None:
    first, second = layers
    here, there, elsewhere = await first.new_channel(), await second.new_channel(), await second.new_channel()
    await first.group_add("chat", here)
    await second.group_add("chat", there)
    await second.group_add("other", elsewhere)
    await subscribed(settings.REDIS_URL, first.names.group("chat"), count=2)  # on its first member
    await first.group_send("chat", {"type": "chat.message", "text": "hi"})
    assert (await receive(first, here))["text"] == "hi"
    assert (await receive(second, there))["text"] == "hi"
    assert await nothing(second, elsewhere)


async def test_group_discard_stops_delivery_and_is_harmless_twice(layers) -> None:
    first, second = layers
    channel = await second.new_channel()
    await second.group_add("chat", channel)
    await second.group_discard("chat", channel)
    await second.group_discard("chat", channel)
    await first.group_send("chat", {"type": "chat.message"})
    assert await nothing(second, channel)


async def test_fast_path_groups_reach_ordinary_consumers_as_messages(layers) -> None:
    """A consumer written the Channels way (no hub socket) in a fast-path group gets the
    message itself, and its handler runs: the seeds' `BlogConsumer`."""
    first, second = layers
    channel = await second.new_channel()
    await second.group_add(blog_streams.BLOG_FEED, channel)
    message = {"type": "blog_event", "data": {"event": "post_created", "id": 1, "title": "t", "status": "published"}}
    await first.group_send(blog_streams.BLOG_FEED, message)
    assert await receive(second, channel) == message


async def test_send_to_a_full_channel_raises_and_group_messages_are_dropped(layers) -> None:
    layer, _ = layers
    channel = await layer.new_channel()
    await layer.group_add("chat", channel)
    for n in range(5):
        await layer.send(channel, {"type": "test.message", "n": n})
    with pytest.raises(ChannelFull):
        await layer.send(channel, {"type": "test.message", "n": 5})
    await subscribed(settings.REDIS_URL, layer.names.group("chat"))
    await layer.group_send("chat", {"type": "test.message", "n": 6})
    await until(lambda: layer.hub().counters.dropped_full >= 2, what="the group message dropped")
    assert [(await receive(layer, channel))["n"] for _ in range(5)] == [0, 1, 2, 3, 4]


async def test_names_are_validated(layers) -> None:
    layer, _ = layers
    with pytest.raises(TypeError):
        await layer.group_add("bad name!", await layer.new_channel())
    with pytest.raises(TypeError):
        await layer.send("x" * 101, {"type": "test"})


async def test_a_cancelled_receive_ends_the_channel_and_its_memberships(layers) -> None:
    layer, _ = layers
    channel = await layer.new_channel()
    await layer.group_add("chat", channel)
    waiting = asyncio.ensure_future(layer.receive(channel))
    await asyncio.sleep(0.05)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert layer.hub().group_sizes() == {}


async def test_memberships_of_ordinary_channels_expire(layers) -> None:
    layer, _ = layers
    channel = await layer.new_channel()
    await layer.group_add("chat", channel)
    hub = layer.hub()
    await hub.expire_memberships()
    assert hub.group_sizes() == {"chat": 1}  # joined just now
    hub.group_expiry = 0
    await hub.expire_memberships()
    assert hub.group_sizes() == {}


async def test_flush_forgets_channels_and_groups(layers) -> None:
    layer, _ = layers
    channel = await layer.new_channel()
    await layer.group_add("chat", channel)
    await layer.flush()
    assert layer.hub().group_sizes() == {} and layer.hub().stats()["channels"] == 0


class ResyncedSocket:
    """A hub socket that only notes when the hub tells it to bring its client up to date."""

    user_id = None
    presence_stream = "test"
    wants_presence = False
    wants_heartbeat = False

    def __init__(self) -> None:
        self.resynced = asyncio.Event()

    async def deliver(self, key, version, frame) -> None:
        pass

    async def deliver_batch(self, items, wire) -> None:
        pass

    async def drain(self, now: float) -> bool:
        return True

    async def resubscribed(self) -> None:
        self.resynced.set()


async def test_the_layer_reconnects_after_redis_drops_its_connection(layers) -> None:
    first, second = layers
    channel = await second.new_channel()
    await second.group_add("chat", channel)
    socket = ResyncedSocket()
    second.attach(await second.new_channel(), socket)
    # Redis restarting looks the same to the hub as its connection being killed. Only this
    # test's hubs: other runs on the same Redis keep theirs.
    for layer in (first, second):
        assert await kill_connections(settings.REDIS_URL, layer.names.hub(layer.hub().token)) == 1
    # Back and resubscribed by its own loop: the sockets are told to resync. (Not the subscriber
    # count alone: redis-py resubscribes for a moment by itself before the error reaches the loop.)
    await asyncio.wait_for(socket.resynced.wait(), 10)
    await subscribed(settings.REDIS_URL, second.names.group("chat"))
    await first.group_send("chat", {"type": "chat.message", "text": "back"})
    assert (await receive(second, channel))["text"] == "back"


def test_the_seeds_sync_group_send_works_without_a_running_loop(settings) -> None:
    """`async_to_sync(group_send)` runs on a loop of its own per call: the layer publishes on
    the process's pool there instead of opening a connection per message."""
    layer = HubChannelLayer(hosts=[settings.REDIS_URL], prefix=f"layer-test-{uuid.uuid4().hex[:8]}")
    for _ in range(3):
        async_to_sync(layer.group_send)("cotes_1", {"type": "cotes_update", "data": {"match_id": 1}})
    assert len(layer._hubs) == 0  # no hub (no subscription) was started for a publish


def test_a_hub_cancelled_at_any_point_of_its_start_up_stops() -> None:
    """A loop that closes (a test's, or a worker's at shutdown) cancels the hub's tasks while its
    subscribe may be in flight. redis-py can swallow that cancellation; the listener must still
    stop, or the loop's shutdown waits for it forever (one in twenty start-ups did, before)."""
    layer = HubChannelLayer(hosts=[settings.REDIS_URL], prefix=f"layer-test-{uuid.uuid4().hex[:8]}")
    assert tasks_left_after_cancelling(layer.hub, runs=200) == []


def test_send_from_another_event_loop_goes_through_the_channels_own_loop(settings) -> None:
    """A sync view's `async_to_sync(layer.send)` runs on a loop of its own, in another thread: the
    message must reach the channel through the channel's own loop (in debug mode asyncio raises
    on any other way) and wake the consumer waiting on it."""
    layer = HubChannelLayer(hosts=[settings.REDIS_URL], prefix=f"layer-test-{uuid.uuid4().hex[:8]}")

    async def scenario() -> list[dict]:
        asyncio.get_running_loop().set_debug(True)
        channel = await layer.new_channel()
        waiting = asyncio.ensure_future(layer.receive(channel))
        await asyncio.sleep(0)  # the consumer waits on its channel

        def from_a_thread() -> None:
            for n in range(3):
                async_to_sync(layer.send)(channel, {"type": "test.message", "n": n})

        await asyncio.to_thread(from_a_thread)
        received = [await asyncio.wait_for(waiting, 2)]
        received += [await asyncio.wait_for(layer.receive(channel), 2) for _ in range(2)]
        hub_tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in hub_tasks:
            task.cancel()
        await asyncio.wait(hub_tasks, timeout=6)
        return received

    loop = asyncio.new_event_loop()
    try:
        received = loop.run_until_complete(scenario())
    finally:
        loop.close()
    assert [message["n"] for message in received] == [0, 1, 2]
