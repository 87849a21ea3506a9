"""The WebSocket protocol over the real ASGI stack in-process (WebsocketCommunicator), whose
hub subscribes to the real Redis."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework_simplejwt.tokens import AccessToken

from betting.tests.factories import MatchFactory, UserFactory
from config.asgi import application
from realtime import streams
from realtime.publisher import publish_many_now, publish_now

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio, pytest.mark.redis]


async def connect(path: str) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, path)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def receive_type(communicator: WebsocketCommunicator, wanted: str) -> dict:
    while True:
        frame = await communicator.receive_json_from(timeout=5)
        if frame["type"] == wanted:
            return frame


async def test_snapshot_on_connect_then_subscribe_adds_matches() -> None:
    first, second = await database_sync_to_async(MatchFactory)(), await database_sync_to_async(MatchFactory)()
    communicator = await connect(f"/ws/odds/{first.pk}/")
    snapshot = await receive_type(communicator, "snapshot")
    assert [s["match"] for s in snapshot["matches"]] == [first.pk]
    assert set(snapshot["matches"][0]) == {
        "match",
        "version",
        "odds",
        "markets",
        "market_status",
        "max_stakes",
        "decided",
        "status",
        "suspended_reason",
        "live",
        "bets",
        "ts",
    }
    await communicator.send_json_to({"action": "subscribe", "matches": [second.pk]})
    snapshot = await receive_type(communicator, "snapshot")
    assert [s["match"] for s in snapshot["matches"]] == [second.pk]
    await communicator.send_json_to({"action": "unsubscribe", "matches": [first.pk]})
    assert (await receive_type(communicator, "unsubscribed"))["following"] == [second.pk]
    await communicator.disconnect()


async def test_resync_sends_the_current_state_of_the_match() -> None:
    match = await database_sync_to_async(MatchFactory)()
    communicator = await connect("/ws/odds/")
    await receive_type(communicator, "snapshot")
    await communicator.send_json_to({"action": "resync", "match": match.pk, "since": 0})
    resync = await receive_type(communicator, "snapshot")
    assert resync["resync"] is True and resync["since"] == 0
    assert resync["matches"][0]["version"] == match.odds_version
    await communicator.disconnect()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{", "bad_json"),
        ('"just a string"', "bad_frame"),
        ('{"action": "fly"}', "unknown_action"),
        ('{"action": "subscribe", "matches": []}', "bad_request"),
        ('{"action": "subscribe", "matches": [true]}', "bad_match_id"),
        # Past the database's integer: found by the fuzzer as an unhandled OverflowError.
        ('{"action": "subscribe", "matches": [100000000000000000000]}', "bad_match_id"),
        ('{"action": "resync", "match": 100000000000000000000}', "bad_match_id"),
        ('{"action": "subscribe", "matches": [424242]}', "unknown_match"),
        ('{"action": "resync", "match": 424242}', "unknown_match"),
        ('{"action": "ping", "x": "' + "y" * 4100 + '"}', "frame_too_large"),
        ("[" * 2000 + "]" * 2000, "frame_too_deep"),  # RecursionError in the parser, before
        ('{"a":' * 40 + "1" + "}" * 40, "frame_too_deep"),
        ('{"action": "fly", "pad": "' + "[" * 100 + '"}', "unknown_action"),  # brackets in a string
    ],
)
async def test_bad_frames_get_an_error_and_the_socket_stays_open(frame: str, code: str) -> None:
    communicator = await connect("/ws/odds/")
    await receive_type(communicator, "snapshot")
    await communicator.send_to(text_data=frame)
    error = await receive_type(communicator, "error")
    assert error["code"] == code and error["message"]
    await communicator.send_json_to({"action": "ping"})
    assert (await receive_type(communicator, "pong"))["type"] == "pong"
    await communicator.disconnect()


async def test_too_many_frames_are_rate_limited_then_the_socket_is_closed(settings) -> None:
    settings.REALTIME_CLIENT_FRAMES_BURST = 3
    settings.REALTIME_CLIENT_FRAMES_PER_SECOND = 0.001
    settings.REALTIME_BAD_FRAMES_BURST = 2
    communicator = await connect("/ws/odds/")
    await receive_type(communicator, "snapshot")
    for _ in range(6):
        await communicator.send_to(text_data=json.dumps({"action": "ping"}))
    codes = []
    while True:
        output = await communicator.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            assert output["code"] == 4400
            break
        codes.append(json.loads(output["text"]).get("code"))
    assert codes == [None, None, None, "rate_limited", "rate_limited", "too_many_bad_frames"]


async def test_a_valid_token_makes_the_socket_its_users() -> None:
    user = await database_sync_to_async(UserFactory)()
    mine = await connect(f"/ws/odds/?token={AccessToken.for_user(user)}")
    anonymous = await connect("/ws/odds/")
    for communicator in (mine, anonymous):
        await receive_type(communicator, "snapshot")  # the hub is subscribed by then
    await database_sync_to_async(publish_now)(streams.PRIVATE, {"type": "wallet", "balance": "5.00"}, user=user.pk)
    assert (await receive_type(mine, "wallet"))["balance"] == "5.00"
    assert await anonymous.receive_nothing(timeout=0.3)
    for communicator in (mine, anonymous):
        await communicator.disconnect()


async def test_a_batch_reaches_each_owner_only_in_order() -> None:
    """`publish_many` (the cash-out values of a match's open bets): one round trip, each frame
    to its own user's sockets only."""
    first, second = [await database_sync_to_async(UserFactory)() for _ in range(2)]
    sockets = [await connect(f"/ws/odds/?token={AccessToken.for_user(user)}") for user in (first, second)]
    for communicator in sockets:
        await receive_type(communicator, "snapshot")
    batch = [
        ({"type": "cashout", "bet": 1, "value": "3.00", "reason": ""}, {"user": first.pk}),
        ({"type": "cashout", "bet": 2, "value": None, "reason": "market_suspended"}, {"user": second.pk}),
        ({"type": "cashout", "bet": 3, "value": "4.00", "reason": ""}, {"user": first.pk}),
    ]
    await database_sync_to_async(publish_many_now)(streams.PRIVATE, batch)
    assert [(await receive_type(sockets[0], "cashout"))["bet"] for _ in range(2)] == [1, 3]
    assert (await receive_type(sockets[1], "cashout"))["bet"] == 2
    for communicator in sockets:
        assert await communicator.receive_nothing(timeout=0.3)
        await communicator.disconnect()


@pytest.mark.parametrize("kind", ["garbage", "expired"])
async def test_an_invalid_token_is_refused_with_4401(kind: str) -> None:
    user = await database_sync_to_async(UserFactory)()
    token = AccessToken.for_user(user)
    if kind == "expired":
        token.set_exp(lifetime=-timedelta(seconds=1))
    raw = "garbage" if kind == "garbage" else str(token)
    communicator = await connect(f"/ws/odds/?token={raw}")
    error = await receive_type(communicator, "error")
    assert error["code"] == "unauthorized" and error["message"].startswith("invalid token")
    output = await communicator.receive_output(timeout=5)
    assert output == {"type": "websocket.close", "code": 4401, "reason": error["message"]}
    await communicator.wait()  # the consumer has ended: nothing of it outlives the test's loop


@pytest.mark.parametrize("endpoint", ["odds", "cotes"])
@pytest.mark.parametrize(
    "match_id",
    [
        "424242",  # no such match
        "0",  # no match has it
        str(2**63),  # past the database's integers: an OverflowError on SQLite, before
        "9" * 400,
    ],
)
async def test_an_unknown_or_impossible_match_in_the_path_is_refused_with_4404(endpoint: str, match_id: str) -> None:
    communicator = await connect(f"/ws/{endpoint}/{match_id}/")
    assert (await receive_type(communicator, "error"))["code"] == "match_not_found"
    assert (await communicator.receive_output(timeout=5))["code"] == 4404
