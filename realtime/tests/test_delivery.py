"""The hub's routing and conflation, and the outbox, with fake sockets (no Redis, no server)."""

from __future__ import annotations

import time
from collections.abc import Hashable

import pytest

from realtime import presence, streams
from realtime.consumers import TokenBucket
from realtime.hub import ALL_MATCHES, Hub
from realtime.outbox import Outbox
from realtime.transport import wire_text_frame


class FakeSocket:
    def __init__(self, user_id: int | None = None, stream: str = "odds", private: bool = True) -> None:
        self.user_id = user_id
        self.presence_stream = stream
        self.wants_presence = stream == "blog"
        self.wants_private = private
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


def message(stream: str, frame: dict, **routing: object) -> dict:
    return {
        "channel": streams.channel_name(stream).encode(),
        "data": streams.encode_envelope(frame, **routing).encode(),
    }


def odds(match: int, version: int) -> dict:
    return message(streams.ODDS, {"type": "odds", "match": match, "version": version}, match=match, version=version)


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
def hub() -> Hub:
    return Hub("redis://127.0.0.1:1/0", heartbeat_seconds=60)


async def test_odds_reach_the_match_and_all_matches_subscribers_once(hub: Hub) -> None:
    everything, one, other = FakeSocket(), FakeSocket(), FakeSocket()
    for socket in (everything, one, other):
        hub.add(socket)
    hub.subscribe_odds(everything, ALL_MATCHES)
    hub.subscribe_odds(everything, 1)  # followed twice, delivered once
    hub.subscribe_odds(one, 1)
    hub.subscribe_odds(other, 2)
    await hub._dispatch_batch([odds(1, 5)])
    assert len(everything.frames) == 1 and len(one.frames) == 1 and other.frames == []
    assert one.frames[0] == streams.encode_frame({"type": "odds", "match": 1, "version": 5})  # the publisher's text


async def test_a_batch_keeps_only_the_newest_version_of_each_match(hub: Hub) -> None:
    socket = FakeSocket()
    hub.add(socket)
    hub.subscribe_odds(socket, ALL_MATCHES)
    await hub._dispatch_batch([odds(1, 1), odds(2, 1), odds(1, 2), odds(1, 3)])
    assert socket.frames == [
        streams.encode_frame({"type": "odds", "match": 2, "version": 1}),
        streams.encode_frame({"type": "odds", "match": 1, "version": 3}),
    ]
    assert hub.events_superseded == 2
    assert socket.batches == [b"".join(wire_text_frame(f) for f in socket.frames)]  # one write for the batch


async def test_sockets_wanting_the_same_events_share_one_buffer(hub: Hub) -> None:
    sockets = [FakeSocket() for _ in range(3)]
    for socket in sockets:
        hub.add(socket)
        hub.subscribe_odds(socket, ALL_MATCHES)
    await hub._dispatch_batch([odds(1, 1), odds(2, 1)])
    assert sockets[0].batches[0] is sockets[1].batches[0] is sockets[2].batches[0]
    assert hub.deliveries == 6


async def test_private_events_reach_only_the_users_sockets_that_take_them(hub: Hub) -> None:
    mine, mine_too, blog_tab, theirs, anonymous = (
        FakeSocket(7),
        FakeSocket(7),
        FakeSocket(7, stream="blog", private=False),
        FakeSocket(8),
        FakeSocket(None),
    )
    for socket in (mine, mine_too, blog_tab, theirs, anonymous):
        hub.add(socket)
    await hub._dispatch_batch([message(streams.PRIVATE, {"type": "wallet", "balance": "1.00"}, user=7)])
    assert len(mine.frames) == len(mine_too.frames) == 1
    assert blog_tab.frames == theirs.frames == anonymous.frames == []


async def test_drafts_reach_only_their_authors_blog_sockets(hub: Hub) -> None:
    author, reader, author_odds_tab = FakeSocket(3, "blog"), FakeSocket(None, "blog"), FakeSocket(3)
    for socket in (author, reader, author_odds_tab):
        hub.add(socket)
    hub.subscribe_blog(author)
    hub.subscribe_blog(reader)
    draft = {"type": "post_created", "id": 1, "status": "draft"}
    await hub._dispatch_batch([message(streams.BLOG, draft, user=3), message(streams.BLOG, {"type": "post_created"})])
    assert len(author.frames) == 2 and len(reader.frames) == 1 and author_odds_tab.frames == []


def test_membership_counts_per_stream_and_forgets_removed_sockets(hub: Hub) -> None:
    a, b, c = FakeSocket(1), FakeSocket(None, "blog"), FakeSocket(None, "blog")
    for socket in (a, b, c):
        hub.add(socket)
    hub.subscribe_odds(a, 4)
    hub.remove(c)
    hub.remove(c)  # twice: harmless
    hub.remove(a)
    assert hub.local_counts() == {"blog": 1}
    assert hub._odds == {} and hub._users == {}


def test_presence_sums_the_hashes_of_live_processes() -> None:
    assert presence._sum([{b"odds": b"3", b"blog": b"1"}, {b"odds": b"2", b"-": b"0"}, {}]) == {"odds": 5, "blog": 1}


def test_presence_counts_sum_processes_and_drop_expired_ones(settings) -> None:
    import redis

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
    from websockets.frames import OP_TEXT, Frame

    text = "é" * (size // 2) + "x" * (size % 2)
    assert wire_text_frame(text) == Frame(OP_TEXT, text.encode()).serialize(mask=False, extensions=[])


async def test_shared_reads_join_only_reads_that_started_after_the_ask() -> None:
    import asyncio

    from realtime.shared_read import SharedRead

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
