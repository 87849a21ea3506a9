"""Bet over HTTP → Celery worker → Redis → Daphne → WebSocket clients, all real processes."""

import asyncio
import json
import statistics
import time
from datetime import UTC, datetime

import httpx
import pytest
import websockets

from tests.integration.harness import Stack, bearer_headers, new_bet_key, session_client

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

DEMO = ("demo@oddstream.local", "demo-password")


async def next_of_type(ws: websockets.ClientConnection, wanted: str, timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), max(0.01, deadline - time.monotonic())))
        if frame["type"] == wanted:
            return frame


@pytest.fixture(scope="module")
def running(stack: Stack) -> int:
    stack.start_worker()
    _, port = stack.start_web()
    return port


def first_match(port: int) -> dict:
    return httpx.get(f"http://127.0.0.1:{port}/api/matches/").json()["results"][0]


async def test_bet_moves_odds_on_both_protocols(running: int) -> None:
    port = running
    match = first_match(port)
    async with (
        websockets.connect(f"ws://127.0.0.1:{port}/ws/odds/{match['id']}/") as odds_ws,
        websockets.connect(f"ws://127.0.0.1:{port}/ws/cotes/{match['id']}/") as cotes_ws,
    ):
        snapshot = await next_of_type(odds_ws, "snapshot")
        before = snapshot["matches"][0]
        assert before["version"] == match["version"]
        assert (await next_of_type(cotes_ws, "cotes_update"))["data"]["match_id"] == match["id"]

        async with httpx.AsyncClient() as client:
            reply = await client.post(
                f"http://127.0.0.1:{port}/api/bets/",
                json={"match": match["id"], "selection": "home", "stake": "400.00", "odds": before["odds"]["home"]},
                headers={**bearer_headers(f"http://127.0.0.1:{port}", *DEMO), **new_bet_key()},
            )
        assert reply.status_code == 201, reply.text

        update = await next_of_type(odds_ws, "odds")
        assert update["match"] == match["id"]
        assert update["version"] == before["version"] + 1
        assert update["odds"]["home"] < before["odds"]["home"]
        assert update["bets"] == before["bets"] + 1
        cotes = await next_of_type(cotes_ws, "cotes_update")
        assert cotes["data"]["cote1"] == update["odds"]["home"]
        assert cotes["data"]["paris_count"] == update["bets"]


async def test_all_matches_socket_gets_every_match(running: int) -> None:
    port = running
    matches = httpx.get(f"http://127.0.0.1:{port}/api/matches/").json()["results"]
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws/odds/") as ws:
        snapshot = await next_of_type(ws, "snapshot")
        assert {m["match"] for m in snapshot["matches"]} == {m["id"] for m in matches}
        target = matches[-1]
        async with httpx.AsyncClient() as client:
            reply = await client.post(
                f"http://127.0.0.1:{port}/api/bets/",
                json={"match": target["id"], "selection": "away", "stake": "300.00", "accept_odds_change": "any"},
                headers={**bearer_headers(f"http://127.0.0.1:{port}", *DEMO), **new_bet_key()},
            )
        assert reply.status_code == 201
        update = await next_of_type(ws, "odds")
        assert update["match"] == target["id"]


async def test_bad_frames_get_errors_and_socket_stays_open(running: int) -> None:
    port = running
    match = first_match(port)
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws/odds/{match['id']}/") as ws:
        await next_of_type(ws, "snapshot")
        await ws.send("not json")
        assert (await next_of_type(ws, "error"))["code"] == "bad_json"
        await ws.send(json.dumps({"action": "dance"}))
        assert (await next_of_type(ws, "error"))["code"] == "unknown_action"
        await ws.send(json.dumps({"action": "ping"}))
        assert (await next_of_type(ws, "pong"))["type"] == "pong"


async def test_unknown_paths_and_matches_are_refused(running: int) -> None:
    port = running
    with pytest.raises(websockets.InvalidStatus):
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws/nowhere/"):
            pass
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws/odds/999999/") as ws:
        assert (await next_of_type(ws, "error"))["code"] == "match_not_found"
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4404


async def test_foreign_origin_is_refused(running: int) -> None:
    port = running
    with pytest.raises(websockets.InvalidStatus):
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws/odds/", origin="http://evil.example"):
            pass


async def test_latency_bet_reply_to_websocket(running: int) -> None:
    """Measures (and prints) what the closing note reports; asserts only correctness."""
    port = running
    match = first_match(port)
    request_ms, delivery_ms, end_to_end_ms = [], [], []
    client = await session_client(f"http://127.0.0.1:{port}", *DEMO)
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws/odds/{match['id']}/") as ws:
        counted = (await next_of_type(ws, "snapshot"))["matches"][0]["bets"]
        for index in range(50):
            started = time.perf_counter()
            reply = await client.post(
                "/api/bets/",
                json={
                    "match": match["id"],
                    "selection": ("home", "away")[index % 2],
                    "stake": "100.00",
                    "accept_odds_change": "any",
                },
                headers=new_bet_key(),
            )
            replied = time.perf_counter()
            assert reply.status_code == 201
            request_ms.append((replied - started) * 1000)
            counted += 1
            while True:  # the update that counts this bet
                frame = await next_of_type(ws, "odds", timeout=10)
                if frame["bets"] >= counted:
                    received = time.perf_counter()
                    delivery_ms.append((received - replied) * 1000)
                    end_to_end_ms.append((received - started) * 1000)
                    break
    print(
        f"\nbet request p50 {statistics.median(request_ms):.1f} ms; "
        f"reply → WebSocket p50 {statistics.median(delivery_ms):.1f} ms; "
        f"request sent → WebSocket p50 {statistics.median(end_to_end_ms):.1f} ms over {len(delivery_ms)} bets"
    )
    await client.aclose()
    assert len(delivery_ms) == 50


async def next_where(ws: websockets.ClientConnection, wanted, timeout: float = 15) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), max(0.01, deadline - time.monotonic())))
        if wanted(frame):
            return frame


async def test_a_goal_suspends_then_the_worker_prices_the_new_state(stack: Stack, running: int) -> None:
    """Feed endpoint → `feed` worker → socket: the suspension first, then every market priced
    from the state (a goal for home shortens home; over 0.5 is decided and closed)."""
    port = running
    matches = httpx.get(f"http://127.0.0.1:{port}/api/matches/").json()["results"]
    match = matches[1]  # one the other tests leave alone: in play, it takes no pre-match bet
    token = stack.manage("feed_token", "pipeline").strip()
    feed = {"Authorization": f"Feed {token}"}

    async def post(client: httpx.AsyncClient, sequence: int, kind: str, **fields: object) -> None:
        body = {
            "event_id": f"pipeline-{match['id']}-{sequence}",
            "match": match["id"],
            "sequence": sequence,
            "kind": kind,
            "occurred_at": datetime.now(UTC).isoformat(),
            **fields,
        }
        reply = await client.post(f"http://127.0.0.1:{port}/api/feed/events/", json=body, headers=feed)
        assert reply.status_code == 202, reply.text

    async with (
        websockets.connect(f"ws://127.0.0.1:{port}/ws/odds/{match['id']}/") as ws,
        httpx.AsyncClient() as client,
    ):
        before = (await next_of_type(ws, "snapshot"))["matches"][0]
        await post(client, 1, "kick_off")
        await next_where(ws, lambda f: f["type"] == "match" and (f["live"] or {}).get("period") == "first_half")
        await post(client, 2, "goal", team="home", minute=3)
        suspended = await next_where(ws, lambda f: f.get("suspended_reason") == "goal")
        assert suspended["type"] == "match" and suspended["status"] == "suspended"
        priced = await next_where(ws, lambda f: f["type"] == "odds" and f["live"]["score"]["home"] == 1)
    assert priced["status"] == "suspended" and priced["version"] > suspended["version"]
    assert priced["markets"]["1x2"]["home"] < before["markets"]["1x2"]["home"]
    assert priced["markets"]["1x2"]["away"] > before["markets"]["1x2"]["away"]
    assert priced["markets"]["over_under_0_5"] == {"over": None, "under": None}
