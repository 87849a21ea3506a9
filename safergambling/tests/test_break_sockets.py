"""A break ends the account's sockets for real, and a socket the account opens during it carries
no private events: the real ASGI stack in-process, with the revocation notes and the private
stream over a real Redis."""

from __future__ import annotations

import time

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from betting.tests.factories import UserFactory
from config.asgi import application
from realtime import streams
from realtime.publisher import publish_now
from tests.waiting import next_second

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio, pytest.mark.redis]


async def socket_open(path: str, headers: list[tuple[bytes, bytes]] | None = None) -> WebsocketCommunicator:
    """A socket past its snapshot (by then the hub is subscribed to the user's stream)."""
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    assert (await communicator.receive_json_from(timeout=5))["type"] == "snapshot"
    return communicator


async def token_socket(user: User) -> WebsocketCommunicator:
    return await socket_open(f"/ws/odds/?token={AccessToken.for_user(user)}")


@database_sync_to_async
def signed_in_session(user: User) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


async def session_socket(user: User) -> WebsocketCommunicator:
    session_key = await signed_in_session(user)
    return await socket_open("/ws/odds/", headers=[(b"cookie", f"sessionid={session_key}".encode())])


async def closed_with(communicator: WebsocketCommunicator, timeout: float = 5) -> tuple[int, str]:
    """The close code and reason, skipping the frames before it (the `error` frame)."""
    deadline = time.monotonic() + timeout
    while True:
        output = await communicator.receive_output(timeout=max(0.01, deadline - time.monotonic()))
        if output["type"] == "websocket.close":
            return output["code"], output.get("reason", "")


@database_sync_to_async
def time_out_taken(user: User, days: int) -> None:
    api = APIClient()
    api.force_authenticate(user)
    reply = api.post("/api/me/time-out/", {"days": days})
    assert reply.status_code == 201, reply.content


async def wallet_frame_to(user: User) -> None:
    await database_sync_to_async(publish_now)(streams.PRIVATE, {"type": "wallet", "balance": "5.00"}, user=user.pk)


async def test_a_time_out_closes_the_accounts_sockets_4401_and_no_one_elses() -> None:
    bettor, other = await database_sync_to_async(UserFactory)(), await database_sync_to_async(UserFactory)()
    token, session = await token_socket(bettor), await session_socket(bettor)
    others = await token_socket(other)
    await time_out_taken(bettor, days=30)
    assert await closed_with(token) == (4401, "credentials revoked: time-out")
    # The break deletes the page session too: whichever note arrives first closes its socket.
    code, reason = await closed_with(session)
    assert code == 4401 and reason in ("credentials revoked: time-out", "credentials revoked: session ended")
    assert await others.receive_nothing(timeout=0.3)
    await others.disconnect()


async def test_a_socket_opened_during_a_break_gets_no_private_events() -> None:
    bettor, other = await database_sync_to_async(UserFactory)(), await database_sync_to_async(UserFactory)()
    await time_out_taken(bettor, days=1)
    await next_second()  # a token's `iat` is in whole seconds: issued after the revocation
    during = [await token_socket(bettor), await session_socket(bettor)]  # signing in again is allowed
    others = await token_socket(other)
    await wallet_frame_to(bettor)
    await wallet_frame_to(other)
    assert (await others.receive_json_from(timeout=5))["type"] == "wallet"  # the stream works
    for communicator in during:
        assert await communicator.receive_nothing(timeout=0.3)
        await communicator.disconnect()
    await others.disconnect()
