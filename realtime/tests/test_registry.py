"""The hub's registry of channels, groups and sockets, alone: no Redis, no event loop work."""

from __future__ import annotations

from collections.abc import Hashable

import pytest

from realtime.counters import HubCounters
from realtime.groups import fast_group
from realtime.registry import Registry
from realtime.subscriber import Item

fast_group(r"registry_test_\d+")  # fast-path groups of these tests


class Socket:
    user_id = None
    presence_stream = "odds"
    wants_presence = False
    wants_heartbeat = True

    async def deliver(self, key: Hashable | None, version: int, frame: str) -> None: ...

    async def deliver_batch(self, items: list[Item], wire: bytes) -> None: ...

    async def drain(self, now: float) -> bool:
        return True

    async def resubscribed(self) -> None: ...


class NotToBeWalked(dict):
    """The registry's group index, which a socket's departure must not walk over."""

    def _walked(self, *args: object) -> None:
        raise AssertionError("a socket's departure visited every group of the process")

    __iter__ = items = keys = values = _walked  # type: ignore[assignment]


@pytest.fixture
def registry() -> Registry:
    return Registry("tok", capacity=3, counters=HubCounters())


def socket_in(registry: Registry, *groups: str) -> tuple[Socket, str]:
    socket, name = Socket(), registry.new_channel()
    registry.attach(name, socket)
    for group in groups:
        registry.join(group, name)
    return socket, name


def test_a_closing_socket_leaves_only_its_own_groups(registry: Registry) -> None:
    others = [socket_in(registry, f"registry_test_{n}")[0] for n in range(1000)]
    leaving, _ = socket_in(registry, "registry_test_1", "registry_test_2000")
    registry.fast = NotToBeWalked(registry.fast)
    assert registry.detach(leaving)
    assert not registry.detach(leaving)  # twice: nothing left to do
    assert dict.get(registry.fast, "registry_test_1") == {others[1]}
    assert "registry_test_2000" not in dict.keys(registry.fast)


def test_fast_groups_hold_sockets_and_ordinary_groups_hold_channels(registry: Registry) -> None:
    _, name = socket_in(registry, "registry_test_1")
    plain = registry.new_channel()
    assert registry.join("registry_test_1", plain) is False  # fast-path: no Redis channel of its own
    assert registry.join("chat", plain) is True  # its first member here: subscribe
    assert registry.join("chat", name) is False  # a socket in an ordinary group takes messages
    assert registry.group_sizes() == {"registry_test_1": 2, "chat": 2}
    assert registry.leave("chat", registry.channels[name]) is False
    assert registry.leave("chat", registry.channels[plain]) is True  # its last member: unsubscribe


def test_a_channel_that_joined_before_it_attached_moves_to_the_fast_path(registry: Registry) -> None:
    name = registry.new_channel()
    registry.join("registry_test_5", name)
    socket = Socket()
    registry.attach(name, socket)
    assert registry.fast["registry_test_5"] == {socket} and "registry_test_5" not in registry.queued


def test_dropping_a_channel_says_which_redis_channels_are_no_longer_needed(registry: Registry) -> None:
    first, second = registry.new_channel(), registry.new_channel()
    for name in (first, second):
        registry.join("chat", name)
    registry.join("news", first)
    assert registry.drop_channel(first)[1] == ["news"]
    assert registry.drop_channel(second)[1] == ["chat"]
    assert registry.drop_channel(second) == (None, [])


def test_a_full_channel_drops_and_counts(registry: Registry) -> None:
    name = registry.new_channel()
    assert all(registry.deliver(name, {"n": n}) for n in range(3))
    assert registry.is_full(name) and not registry.deliver(name, {"n": 3})
    assert (registry.counters.queued_deliveries, registry.counters.dropped_full) == (3, 1)
    assert registry.deliver("specific.tok!gone", {"n": 0})  # nobody listens: gone, not full


def test_only_ordinary_channels_expire(registry: Registry) -> None:
    _, socket_channel = socket_in(registry, "chat")
    plain = registry.new_channel()
    registry.join("chat", plain)
    assert [(group, channel.name) for group, channel in registry.expired(float("inf"))] == [("chat", plain)]
    assert registry.expired(0.0) == []
    assert socket_channel not in [channel.name for _, channel in registry.expired(float("inf"))]
