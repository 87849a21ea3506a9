"""Private `bet` and `wallet` events over real processes: the bettor's socket gets them,
another user's socket never does, and settlement by the real worker pays and tells."""

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import websockets

from tests.integration.harness import Stack, session_client

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

STAFF = ("admin@oddstream.local", "admin-password")
PASSWORD = "a-long-enough-passphrase"


@pytest.fixture(scope="module")
def running(stack: Stack) -> int:
    stack.start_worker()
    _, port = stack.start_web()
    return port


async def frames_until(ws: websockets.ClientConnection, wanted, timeout: float = 10) -> list[dict]:
    """Every frame received until one satisfies `wanted` (included)."""
    seen = []
    deadline = time.monotonic() + timeout
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), max(0.01, deadline - time.monotonic())))
        seen.append(frame)
        if wanted(frame):
            return seen


async def drain(ws: websockets.ClientConnection, seconds: float) -> list[dict]:
    seen = []
    deadline = time.monotonic() + seconds
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            seen.append(json.loads(await asyncio.wait_for(ws.recv(), remaining)))
        except TimeoutError:
            break
    return seen


async def jwt_client(base_url: str, email: str, password: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base_url)
    reply = await client.post("/api/auth/token/", json={"email": email, "password": password})
    assert reply.status_code == 200, reply.text
    client.headers["Authorization"] = f"Bearer {reply.json()['access']}"
    return client


def private(frames: list[dict]) -> list[dict]:
    return [frame for frame in frames if frame["type"] in ("bet", "wallet")]


async def test_private_events_reach_only_their_owner_and_settlement_pays(running: int) -> None:
    base = f"http://127.0.0.1:{running}"
    async with httpx.AsyncClient(base_url=base) as anonymous:
        for email in ("alice@example.com", "bob@example.com"):
            reply = await anonymous.post("/api/auth/register/", json={"email": email, "password": PASSWORD})
            assert reply.status_code == 201, reply.text
    staff = await jwt_client(base, *STAFF)
    kickoff = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    created = await staff.post(
        "/api/matches/",
        json={
            "home_team": "Private FC",
            "away_team": "Events United",
            "kickoff": kickoff,
            # Typed odds the book, with its 5% 1X2 margin, prices at 2.10 / 3.40 / 3.50.
            "opening_odds": {"home": "2.06", "draw": "3.20", "away": "3.30"},
            "status": "open",
        },
    )
    assert created.status_code == 201, created.text
    match_id = created.json()["id"]

    alice_session = await session_client(base, "alice@example.com", PASSWORD)
    bob_session = await session_client(base, "bob@example.com", PASSWORD)
    alice = await jwt_client(base, "alice@example.com", PASSWORD)
    url = f"ws://127.0.0.1:{running}/ws/odds/{match_id}/"
    async with (
        websockets.connect(
            url, additional_headers={"Cookie": f"sessionid={alice_session.cookies['sessionid']}"}
        ) as a_ws,
        websockets.connect(url, additional_headers={"Cookie": f"sessionid={bob_session.cookies['sessionid']}"}) as b_ws,
    ):
        await frames_until(a_ws, lambda f: f["type"] == "snapshot")
        await frames_until(b_ws, lambda f: f["type"] == "snapshot")

        reply = await alice.post(
            "/api/bets/",
            json={"match": match_id, "selection": "home", "stake": "400.00", "odds": 2.1},
            headers={"Idempotency-Key": "alice-1"},
        )
        assert reply.status_code == 201, reply.text
        bet = reply.json()

        seen_by_alice = await frames_until(a_ws, lambda f: f["type"] == "bet")
        wallet = next(f for f in private(seen_by_alice) if f["type"] == "wallet")
        assert wallet == {"type": "wallet", "balance": "600.00", "change": "-400.00", "reason": "stake"}
        accepted = private(seen_by_alice)[-1]
        assert accepted == {
            "type": "bet",
            "id": bet["id"],
            "kind": "single",
            "legs": [],
            "match": match_id,
            "market": "1x2",
            "selection": "home",
            "stake": "400.00",
            "odds": 2.1,
            "odds_version": 1,
            "status": "open",
            "reason": "",
            "decide_at": None,
            "payout": None,
        }
        # Bob's socket is live (it gets the public odds move) but gets nothing of Alice's.
        seen_by_bob = await frames_until(b_ws, lambda f: f["type"] == "odds")
        seen_by_bob += await drain(b_ws, 1.0)
        assert private(seen_by_bob) == []

        for action, body in (("close", None), ("settle", {"home_goals": 2, "away_goals": 0})):
            reply = await staff.post(f"/api/matches/{match_id}/{action}/", json=body)
            assert reply.status_code == 200, reply.text

        # The settlement worker pays 400.00 * 2.10 and tells Alice's socket.
        seen_by_alice = await frames_until(a_ws, lambda f: f["type"] == "bet" and f["status"] == "won", timeout=20)
        assert {"type": "wallet", "balance": "1440.00", "change": "840.00", "reason": "payout"} in seen_by_alice
        assert {"type": "match", "match": match_id, "status": "settled"}.items() <= next(
            f for f in seen_by_alice if f["type"] == "match" and f["status"] == "settled"
        ).items()
        seen_by_bob = await frames_until(b_ws, lambda f: f["type"] == "match" and f["status"] == "settled")
        seen_by_bob += await drain(b_ws, 1.0)
        assert private(seen_by_bob) == []

    # The API agrees with the sockets, and Bob sees none of it.
    assert (await alice.get("/api/wallet/")).json()["balance"] == "1440.00"
    assert (await alice.get(f"/api/bets/{bet['id']}/")).json()["status"] == "won"
    assert (await bob_session.get(f"/api/bets/{bet['id']}/")).status_code == 404
    assert (await bob_session.get("/api/wallet/")).json()["balance"] == "1000.00"
    for client in (staff, alice, alice_session, bob_session):
        await client.aclose()
