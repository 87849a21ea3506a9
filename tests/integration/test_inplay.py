"""In play over the real stack: feed events posted over HTTP, the Celery worker on its queues
(`feed` folds them, `bet_delay` decides the bets), Daphne and a bettor's WebSocket.

Feed events -> the suspension frame at the socket -> the reopening -> an in-play bet answered
202 `pending` -> its `open` frame after the delay; and a bet placed just before a goal is
rejected `suspended_during_delay`. Short delays (settings through the environment) keep it to
seconds."""

import asyncio
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import httpx
import pytest
import websockets

from tests.integration.harness import Stack, new_bet_key, session_client

# The budget covers the stack's start (migrations, demo data) on a loaded machine; the test runs in seconds.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

STAFF = ("admin@oddstream.local", "admin-password")
PASSWORD = "a-long-enough-passphrase"
BET_DELAY, REOPEN = 1.5, 2.0


@pytest.fixture(scope="module")
def running(stack: Stack) -> tuple[int, str]:
    return stack.start_in_play(provider="it-feed", bet_delay=BET_DELAY, reopen=REOPEN)


async def frames_until(ws: Any, wanted: Callable[[dict], bool], seen: list[dict], timeout: float = 10) -> dict:
    """Read frames (kept in `seen`) until one satisfies `wanted`, which is returned."""
    deadline = time.monotonic() + timeout
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), max(0.01, deadline - time.monotonic())))
        seen.append(frame)
        if wanted(frame):
            return frame


def bet_frame(bet_id: int, status: str) -> Callable[[dict], bool]:
    return lambda f: f["type"] == "bet" and f["id"] == bet_id and f["status"] == status


class Feed:
    def __init__(self, client: httpx.AsyncClient, token: str, match_id: int) -> None:
        self.client, self.token, self.match_id = client, token, match_id
        self.numbers = count(1)

    async def send(self, kind: str, **fields: Any) -> float:
        """Post one event; returns the monotonic time it was answered (committed)."""
        sequence = next(self.numbers)
        reply = await self.client.post(
            "/api/feed/events/",
            json={
                "event_id": f"it-{self.match_id}-{sequence}",
                "match": self.match_id,
                "sequence": sequence,
                "kind": kind,
                "occurred_at": datetime.now(UTC).isoformat(),
                **fields,
            },
            headers={"Authorization": f"Feed {self.token}"},
        )
        assert reply.status_code == 202, reply.text
        return time.monotonic()


async def test_in_play_suspension_reopening_and_the_bet_delay(running: tuple[int, str], stack: Stack) -> None:
    port, feed_token = running
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base, timeout=10) as anonymous:
        reply = await anonymous.post("/api/auth/register/", json={"email": "live@example.com", "password": PASSWORD})
        assert reply.status_code == 201, reply.text
        token = await anonymous.post("/api/auth/token/", json={"email": STAFF[0], "password": STAFF[1]})
        staff = {"Authorization": f"Bearer {token.json()['access']}"}
        created = await anonymous.post(
            "/api/matches/",
            headers=staff,
            json={
                "home_team": "Live FC",
                "away_team": "Delay United",
                "kickoff": (datetime.now(UTC) + timedelta(hours=2)).isoformat(),
                "opening_odds": {"home": "2.06", "draw": "3.20", "away": "3.30"},
                "status": "open",
            },
        )
        assert created.status_code == 201, created.text
        match_id = created.json()["id"]
    feed_client = httpx.AsyncClient(base_url=base, timeout=10)
    feed = Feed(feed_client, feed_token, match_id)

    bettor = await session_client(base, "live@example.com", PASSWORD)
    seen: list[dict] = []
    url = f"ws://127.0.0.1:{port}/ws/odds/{match_id}/"
    cookie = {"Cookie": f"sessionid={bettor.cookies['sessionid']}"}
    async with websockets.connect(url, additional_headers=cookie) as ws:
        await frames_until(ws, lambda f: f["type"] == "snapshot", seen)

        def match_frame(status: str, period: str | None = None) -> Callable[[dict], bool]:
            return lambda f: (
                f["type"] == "match"
                and f["status"] == status
                and (period is None or (f["live"] or {}).get("period") == period)
            )

        await feed.send("kick_off")
        await frames_until(ws, match_frame("open", "first_half"), seen)

        # A goal: the suspension reaches the socket, with its reason; bets are refused.
        goal_answered = await feed.send("goal", team="home", minute=12)
        suspended = await frames_until(ws, match_frame("suspended"), seen)
        suspension_ms = (time.monotonic() - goal_answered) * 1000
        assert suspended["suspended_reason"] == "goal" and suspended["live"]["score"] == {"home": 1, "away": 0}
        bet = {"match": match_id, "selection": "home", "stake": "10.00", "accept_odds_change": "any"}
        refused = await bettor.post("/api/bets/", json=bet, headers=new_bet_key())
        assert refused.status_code == 409 and refused.json()["code"] == "market_suspended", refused.text

        # Reopened by the worker's countdown, then an in-play bet: 202 pending, open after the delay.
        await frames_until(ws, match_frame("open"), seen, timeout=REOPEN + 8)
        placed = await bettor.post("/api/bets/", json=bet, headers=new_bet_key())
        placed_at = time.monotonic()
        assert placed.status_code == 202, placed.text
        pending = placed.json()
        assert (pending["status"], pending["reason"]) == ("pending", "")
        await frames_until(ws, bet_frame(pending["id"], "pending"), seen)
        accepted = await frames_until(ws, bet_frame(pending["id"], "open"), seen, timeout=BET_DELAY + 8)
        accepted_after = time.monotonic() - placed_at
        assert accepted["reason"] == ""
        assert BET_DELAY <= accepted_after < BET_DELAY + 3, accepted_after
        assert (await bettor.get(f"/api/bets/{pending['id']}/")).json()["status"] == "open"

        # A bet placed, then a goal during its delay: rejected, its hold released.
        placed = await bettor.post("/api/bets/", json=bet, headers=new_bet_key())
        assert placed.status_code == 202, placed.text
        during = placed.json()
        await feed.send("goal", team="away", minute=14)
        rejected = await frames_until(ws, bet_frame(during["id"], "rejected"), seen, timeout=BET_DELAY + 8)
        assert rejected["reason"] == "suspended_during_delay"
        shown = (await bettor.get(f"/api/bets/{during['id']}/")).json()
        assert (shown["status"], shown["reason"]) == ("rejected", "suspended_during_delay")

    wallet = (await bettor.get("/api/wallet/")).json()
    assert wallet["balance"] == "990.00", wallet  # only the accepted bet's stake was debited
    await bettor.aclose()
    await feed_client.aclose()
    assert stack.manage("audit_ledger").startswith("Ledger audit passed")
    print(
        f"\nin play, real stack: goal answered -> suspension frame {suspension_ms:.0f} ms; "
        f"bet 202 -> accepted frame {accepted_after * 1000:.0f} ms (delay {BET_DELAY * 1000:.0f} ms)"
    )
