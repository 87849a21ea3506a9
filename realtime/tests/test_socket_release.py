"""However a socket ends, it gives back what it held: its places in the per-user and per-address
caps, its credential watch, its place in the hub. In-process ASGI stack (every endpoint), the hub
on the real Redis; the frames are every kind of message the WebSocket fuzzer sends
(tests/integration/wsfuzz.py), signed-in sockets from one address."""

from __future__ import annotations

import asyncio
import contextlib
import random

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework_simplejwt.tokens import AccessToken

from betting.consumers import OddsConsumer
from betting.tests.factories import MatchFactory, UserFactory
from config.asgi import application
from config.routing import websocket_urlpatterns
from realtime.caps import socket_caps
from realtime.credentials import revocations
from tests.integration.wsfuzz import MESSAGE_KINDS, TEXT, hostile_message

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio, pytest.mark.redis]

ADDRESS = "198.51.100.7"
FRAMES_PER_KIND = 5


def endpoints(match_id: int) -> list[str]:
    return ["/" + str(route.pattern).replace("<int:match_id>", str(match_id)) for route in websocket_urlpatterns]


async def open_signed_in(path: str, token: str) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, f"{path}?token={token}")
    communicator.scope["client"] = (ADDRESS, 50000)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def ended(communicator: WebsocketCommunicator) -> None:
    """Disconnect if the server has not closed it; an error the consumer raised counts as ended."""
    with contextlib.suppress(Exception):
        await communicator.disconnect()


def held(user_id: int) -> tuple[int, int, int]:
    return socket_caps.count(user_id=user_id), socket_caps.count(ip=ADDRESS), revocations.watched()


async def test_every_hostile_message_of_the_fuzzer_leaves_the_caps_as_they_were(settings) -> None:
    settings.REALTIME_BAD_FRAMES_BURST = 1000  # every frame reaches the consumer, none closes it early
    settings.REALTIME_CLIENT_FRAMES_BURST = 1000
    match = await database_sync_to_async(MatchFactory)()
    user = await database_sync_to_async(UserFactory)()
    token = str(AccessToken.for_user(user))
    rng = random.Random(20261206)
    for path in endpoints(match.pk):
        communicator = await open_signed_in(path, token)
        assert held(user.pk)[:2] == (1, 1)
        for kind in MESSAGE_KINDS:
            for _ in range(FRAMES_PER_KIND):
                opcode, payload = hostile_message(rng, kind)
                if opcode == TEXT:
                    await communicator.send_to(text_data=payload.decode())
                else:
                    await communicator.send_to(bytes_data=payload)
        await communicator.send_json_to({"action": "ping"})
        while (await communicator.receive_json_from(timeout=5))["type"] != "pong":
            pass  # the socket is still open and answering after all of them
        await ended(communicator)
        assert held(user.pk) == (0, 0, 0), path


async def test_a_nested_frame_gets_an_error_and_the_socket_stays_open() -> None:
    user = await database_sync_to_async(UserFactory)()
    communicator = await open_signed_in("/ws/odds/", str(AccessToken.for_user(user)))
    await communicator.send_to(text_data="[" * 2000 + "]" * 2000)
    frames: list[dict] = []
    while not frames or frames[-1]["type"] != "error":
        frames.append(await communicator.receive_json_from(timeout=5))
    assert frames[-1]["code"] == "frame_too_deep"
    await communicator.send_json_to({"action": "ping"})
    while (await communicator.receive_json_from(timeout=5))["type"] != "pong":
        pass
    await communicator.disconnect()
    assert held(user.pk) == (0, 0, 0)


async def test_an_exception_in_a_handler_releases_the_socket(monkeypatch) -> None:
    async def broken(self: OddsConsumer, message: dict) -> None:
        raise RuntimeError("a bug in a handler")

    from channels.layers import get_channel_layer

    monkeypatch.setattr(OddsConsumer, "action_ping", broken)
    hub = get_channel_layer().hub()
    counted = hub.presence.counts().get("odds", 0)
    user = await database_sync_to_async(UserFactory)()
    communicator = await open_signed_in("/ws/odds/", str(AccessToken.for_user(user)))
    assert held(user.pk) == (1, 1, 1) and hub.presence.counts()["odds"] == counted + 1
    await communicator.send_json_to({"action": "ping"})
    with pytest.raises(RuntimeError, match="a bug in a handler"):
        await communicator.wait(timeout=5)
    assert held(user.pk) == (0, 0, 0)
    # Channels cancels the consumer's channel before the socket is released: presence counts
    # it out all the same (a consumer that Daphne cancels, slow to close, ends the same way).
    assert hub.presence.counts().get("odds", 0) == counted
    assert f"user_{user.pk}" not in hub.registry.group_sizes()


async def test_a_mass_disconnect_of_signed_in_sockets_leaves_nothing_behind() -> None:
    """Every socket of many users drops at once: the hub's sockets, channels and fast-path
    groups (`odds_all`, each `user_<id>`), its presence counts, the caps and the credential
    watch all come back to where they were before the first socket opened."""
    from channels.layers import get_channel_layer

    hub = get_channel_layer().hub()
    before = (len(hub.registry.sockets), len(hub.registry.channels), dict(hub.registry.fast), hub.presence.counts())
    users = [await database_sync_to_async(UserFactory)() for _ in range(20)]
    communicators = [await open_signed_in("/ws/odds/", str(AccessToken.for_user(user))) for user in users * 2]
    assert len(hub.registry.sockets) == before[0] + 40 and hub.presence.counts()["odds"] >= 40
    assert all(len(hub.registry.fast[f"user_{user.pk}"]) == 2 for user in users)
    await asyncio.gather(*(ended(communicator) for communicator in communicators))
    assert (len(hub.registry.sockets), len(hub.registry.channels), dict(hub.registry.fast), hub.presence.counts()) == (
        before
    )
    assert not any(group.startswith("user_") for group in hub.registry.group_sizes())
    assert all(held(user.pk) == (0, 0, 0) for user in users)


async def test_a_disconnect_makes_no_trip_to_the_database_thread(monkeypatch) -> None:
    """Channels closes stale database connections on its one database thread before every
    message it dispatches; a disconnect touches no database, so it skips that trip (ten
    thousand of them queue behind each other in a mass disconnect)."""
    import channels.consumer
    import channels.generic.websocket

    user = await database_sync_to_async(UserFactory)()
    communicator = await open_signed_in("/ws/odds/", str(AccessToken.for_user(user)))
    trips: list[str] = []

    async def counted() -> None:
        trips.append("close_old_connections")

    monkeypatch.setattr(channels.consumer, "aclose_old_connections", counted)
    monkeypatch.setattr(channels.generic.websocket, "aclose_old_connections", counted)
    await communicator.send_json_to({"action": "ping"})
    while (await communicator.receive_json_from(timeout=5))["type"] != "pong":
        pass  # the snapshot came first
    assert trips == ["close_old_connections"]  # any other message still goes through Channels' dispatch
    await communicator.disconnect()
    assert trips == ["close_old_connections"] and held(user.pk) == (0, 0, 0)
