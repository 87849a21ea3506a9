"""The hub's routing and conflation, and the outbox, with fake sockets (no server; only the
presence count reads a real Redis)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Hashable

import pytest
import redis
from websockets.frames import Frame, Opcode

from betting import streams as odds_streams
from blog import streams as blog_streams
from realtime import presence, streams
from realtime.consumers import TokenBucket
from realtime.hub import Hub
from realtime.layer import HubChannelLayer
from realtime.outbox import Outbox
from realtime.shared_read import SharedRead
from realtime.transport import wire_text_frame


class FakeSocket:
    def __init__(self, user_id: int | None = None, stream: str = "odds") -> None:
        self.user_id = user_id
        self.presence_stream = stream
        self.wants_presence = stream == "blog"
        self.wants_heartbeat = True
        self.channel = ""
        self.frames: list[str] = []

        self.batches: list[bytes] = []

    async def deliver(self, key: Hashable | None, version: int, frame: str) -> None:
        self.frames.append(frame)

    async def deliver_batch(self, items: list[tuple[Hashable | None, int, str]], wire: bytes) -> None:
        self.batches.append(wire)
        for key, version, frame in items:
            await self.deliver(key, version, frame)

    async def drain(self, now: float) -> bool:
        return True

    async def resubscribed(self) -> None:
        pass


# --- Outbox ---------------------------------------------------------------------------
def test_outbox_keeps_only_the_newest_version_per_key() -> None:
    outbox = Outbox(max_frames=10, now=0.0)
    assert outbox.put(("odds", 1), 3, "m1v3")
    assert outbox.put(("odds", 2), 7, "m2v7")
    assert outbox.put(("odds", 1), 4, "m1v4")
    assert outbox.put(("odds", 1), 2, "m1v2")  # late and older: ignored
    assert outbox.take() == ["m2v7", "m1v4"]
    assert outbox.superseded == 1
    assert len(outbox) == 0


def test_outbox_queues_frames_that_cannot_be_conflated_up_to_a_bound() -> None:
    outbox = Outbox(max_frames=2, now=0.0)
    assert outbox.put(None, 0, "bet-1")
    assert outbox.put(("odds", 1), 1, "odds")
    assert outbox.put(None, 0, "bet-2")
    assert not outbox.put(None, 0, "bet-3")  # the client is not keeping up at all
    assert outbox.take() == ["bet-1", "odds", "bet-2"]


def test_token_bucket_allows_a_burst_then_the_rate() -> None:
    bucket = TokenBucket(rate=0.0001, burst=3)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]


# --- Hub routing --------------------------------------------------------------------
@pytest.fixture
def layer() -> HubChannelLayer:
    return HubChannelLayer(hosts=["redis://127.0.0.1:1/0"], prefix="unit")


@pytest.fixture
def hub(layer: HubChannelLayer) -> Hub:
    return Hub(url=layer.url, names=layer.names, heartbeat_seconds=60)  # not started: batches are fed by hand


def sent(layer: HubChannelLayer, stream: str, frame: dict, **routing: object) -> list[dict]:
    """What the hub's pub/sub connection reads for one published event."""
    return [
        {"channel": channel.encode(), "data": payload}
        for groups, group_message in streams.group_messages(stream, frame, routing)
        for channel, payload in layer.encode_group_send(groups, group_message)
    ]


def odds(layer: HubChannelLayer, match: int, version: int) -> list[dict]:
    frame = {"type": "odds", "match": match, "version": version}
    groups = [odds_streams.ODDS_ALL, odds_streams.odds_group(match)]
    return [
        {"channel": channel.encode(), "data": payload}
        for channel, payload in layer.encode_group_send(groups, {"type": odds_streams.ODDS_EVENT, "data": frame})
    ]


async def socket_in(hub: Hub, *groups: str, user_id: int | None = None, stream: str = "odds") -> FakeSocket:
    socket = FakeSocket(user_id, stream)
    channel = hub.new_channel()
    hub.attach(channel, socket)
    for group in groups:
        await hub.group_add(group, channel)
    socket.channel = channel
    return socket


async def test_odds_reach_the_match_and_all_matches_subscribers_once(layer, hub: Hub) -> None:
    everything = await socket_in(
        hub, odds_streams.ODDS_ALL, odds_streams.odds_group(1)
    )  # followed twice, delivered once
    one = await socket_in(hub, odds_streams.odds_group(1))
    other = await socket_in(hub, odds_streams.odds_group(2))
    await hub.fan_out.dispatch_batch(odds(layer, 1, 5))
    assert len(everything.frames) == 1 and len(one.frames) == 1 and other.frames == []
    assert one.frames[0] == streams.encode_frame({"type": "odds", "match": 1, "version": 5})  # the publisher's text


async def test_a_batch_keeps_only_the_newest_version_of_each_match(layer, hub: Hub) -> None:
    socket = await socket_in(hub, odds_streams.ODDS_ALL)
    batch = [*odds(layer, 1, 1), *odds(layer, 2, 1), *odds(layer, 1, 2), *odds(layer, 1, 3)]
    await hub.fan_out.dispatch_batch(batch)
    assert socket.frames == [
        streams.encode_frame({"type": "odds", "match": 2, "version": 1}),
        streams.encode_frame({"type": "odds", "match": 1, "version": 3}),
    ]
    assert hub.counters.events_superseded == 2
    assert socket.batches == [b"".join(wire_text_frame(f) for f in socket.frames)]  # one write for the batch


async def test_sockets_wanting_the_same_events_share_one_buffer(layer, hub: Hub) -> None:
    sockets = [await socket_in(hub, odds_streams.ODDS_ALL) for _ in range(3)]
    await hub.fan_out.dispatch_batch([*odds(layer, 1, 1), *odds(layer, 2, 1)])
    assert sockets[0].batches[0] is sockets[1].batches[0] is sockets[2].batches[0]
    assert hub.counters.deliveries == 6


async def test_odds_reach_the_seeds_cotes_groups_in_the_seeds_shape(layer, hub: Hub) -> None:
    cotes = await socket_in(hub, odds_streams.COTES_ALL)
    frame = {"type": "odds", "match": 4, "version": 2, "odds": {"home": 2.1, "draw": 3.4, "away": 3.5}}
    await hub.fan_out.dispatch_batch(
        sent(layer, odds_streams.ODDS, {**frame, "bets": 3, "ts": "t"}, match=4, version=2)
    )
    assert [json.loads(f) for f in cotes.frames] == [
        {
            "type": "cotes_update",
            "data": {"match_id": 4, "cote1": 2.1, "coteN": 3.4, "cote2": 3.5, "last_updated": "t", "paris_count": 3},
        }
    ]


async def test_private_events_reach_only_the_users_sockets(layer, hub: Hub) -> None:
    mine, mine_too = await socket_in(hub, streams.user_group(7)), await socket_in(hub, streams.user_group(7))
    theirs, anonymous = await socket_in(hub, streams.user_group(8)), await socket_in(hub, odds_streams.ODDS_ALL)
    await hub.fan_out.dispatch_batch(sent(layer, streams.PRIVATE, {"type": "wallet", "balance": "1.00"}, user=7))
    assert len(mine.frames) == len(mine_too.frames) == 1
    assert theirs.frames == anonymous.frames == []


async def test_drafts_reach_only_their_authors_blog_sockets(layer, hub: Hub) -> None:
    author = await socket_in(hub, blog_streams.BLOG_FEED, blog_streams.blog_drafts_group(3), user_id=3, stream="blog")
    reader = await socket_in(hub, blog_streams.BLOG_FEED, stream="blog")
    draft = {"type": "post_created", "id": 1, "status": "draft"}
    batch = [*sent(layer, blog_streams.BLOG, draft, user=3), *sent(layer, blog_streams.BLOG, {"type": "post_created"})]
    await hub.fan_out.dispatch_batch(batch)
    assert len(author.frames) == 2 and len(reader.frames) == 1


async def test_a_member_that_is_not_a_hub_socket_gets_the_message_in_its_channel(layer, hub: Hub) -> None:
    socket = await socket_in(hub, blog_streams.BLOG_FEED, stream="blog")
    plain = hub.new_channel()  # a consumer written the Channels way
    await hub.group_add(blog_streams.BLOG_FEED, plain)
    await hub.fan_out.dispatch_batch(sent(layer, blog_streams.BLOG, {"type": "post_created", "id": 9}))
    assert json.loads(socket.frames[0]) == {"type": "post_created", "id": 9}
    assert await hub.receive(plain) == {"type": "blog_event", "data": {"type": "post_created", "id": 9}}


async def test_membership_counts_per_stream_and_forgets_removed_sockets(hub: Hub) -> None:
    a = await socket_in(hub, odds_streams.odds_group(4), user_id=1)
    b = await socket_in(hub, blog_streams.BLOG_FEED, stream="blog")
    c = await socket_in(hub, blog_streams.BLOG_FEED, stream="blog")
    hub.remove(c)
    hub.remove(c)  # twice: harmless
    hub.remove(a)
    assert hub.local_counts() == {"blog": 1}
    assert hub.group_sizes() == {blog_streams.BLOG_FEED: 1}
    assert b.frames == []


def test_presence_sums_the_hashes_of_live_processes() -> None:
    assert presence._sum([{b"odds": b"3", b"blog": b"1"}, {b"odds": b"2", b"-": b"0"}, {}]) == {"odds": 5, "blog": 1}


@pytest.mark.redis
def test_presence_counts_sum_processes_and_drop_expired_ones(settings) -> None:
    client = redis.Redis.from_url(settings.REDIS_URL)
    settings.REALTIME_PREFIX = f"presence-unit-{time.time_ns()}"
    client.hset(presence.process_key("a"), mapping={"odds": 3, "blog": 2})
    client.hset(presence.process_key("b"), mapping={"blog": 1})
    client.zadd(presence.processes_key(), {"a": time.time() + 30, "b": time.time() + 30, "dead": time.time() - 1})
    try:
        assert presence.counts(client) == {"odds": 3, "blog": 3}
        assert client.zscore(presence.processes_key(), "dead") is None
    finally:
        client.delete(presence.process_key("a"), presence.process_key("b"), presence.processes_key())


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536])
def test_wire_frames_are_what_a_websocket_library_builds(size: int) -> None:
    text = "é" * (size // 2) + "x" * (size % 2)
    assert wire_text_frame(text) == Frame(Opcode.TEXT, text.encode()).serialize(mask=False, extensions=[])


async def test_shared_reads_join_only_reads_that_started_after_the_ask() -> None:
    gate = asyncio.Event()
    calls = 0

    async def read() -> int:
        nonlocal calls
        calls += 1
        number = calls
        await gate.wait()
        return number

    shared = SharedRead(read)
    first = asyncio.create_task(shared.get())
    await asyncio.sleep(0)  # the first read is running
    late = [asyncio.create_task(shared.get()) for _ in range(50)]  # asked after it started
    await asyncio.sleep(0)
    gate.set()
    assert await first == 1
    assert {await task for task in late} == {2}  # one more read, shared by all fifty
    assert shared.reads == 2


async def test_after_a_loss_every_socket_resyncs_at_once_and_one_failure_stops_none(hub: Hub) -> None:
    """The hub's resync after Redis came back runs the sockets' resyncs together, so their
    single-flight snapshot reads can be one read; a socket whose resync fails is logged."""
    snapshot = SharedRead(lambda: asyncio.sleep(0.01, result={"version": 1}))
    started: list[int] = []
    got: list[object] = []

    class Resyncing(FakeSocket):
        def __init__(self, number: int) -> None:
            super().__init__()
            self.number = number

        async def resubscribed(self) -> None:
            started.append(self.number)
            if self.number == 3:
                raise RuntimeError("this one fails")
            got.append(await snapshot.get())

    sockets = [Resyncing(n) for n in range(100)]
    for socket in sockets:
        hub.registry.attach(hub.new_channel(), socket)
    await hub._subscribed_now(pubsub=None, after_loss=True)
    assert sorted(started) == list(range(100))
    assert len(got) == 99
    assert snapshot.reads <= 2  # the first socket's read, and one that every later one joined


# --- Heartbeat --------------------------------------------------------------------------
class SlowSocket(FakeSocket):
    async def deliver_batch(self, items: list[tuple[Hashable | None, int, str]], wire: bytes) -> None:
        time.sleep(0.001)  # a send() on a loaded machine
        await super().deliver_batch(items, wire)


@pytest.mark.asyncio
async def test_the_heartbeat_lets_the_loop_run_once_it_held_it_for_a_slice(settings) -> None:
    from realtime.heartbeat import heartbeat_send

    async def turns_during(send: asyncio.Task[None]) -> int:
        turns = 0
        while not send.done():
            turns += 1
            await asyncio.sleep(0)
        return turns

    sockets = [SlowSocket() for _ in range(60)]
    settings.REALTIME_WALK_SLICE_MS = 5
    sliced = await turns_during(asyncio.ensure_future(heartbeat_send(sockets)))
    settings.REALTIME_WALK_SLICE_MS = 0
    whole = await turns_during(asyncio.ensure_future(heartbeat_send(sockets)))
    assert all(len(socket.frames) == 2 for socket in sockets)  # every socket got both
    assert whole <= 2  # 60 sockets in one go (it yields every 1,000)
    assert sliced >= 60 // 6  # about one turn per 5 ms of 1 ms sends
