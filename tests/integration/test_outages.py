"""A Redis outage under load, with real processes: Redis (a dedicated one, on a free port)
is killed for 5 s while bets arrive at 10/s over a 30 s run. Every request must succeed or
answer 503 with Retry-After and the JSON error body, never a 500; every accepted bet must be
in the database, no refused one; and the odds must count every bet once Redis is back."""

import asyncio
import json
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.integration.harness import Stack, bearer_headers

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

DEMO = ("demo@oddstream.local", "demo-password")
RATE_PER_SECOND = 10
RUN_SECONDS = 30
OUTAGE_STARTS_AT = 10.0
OUTAGE_SECONDS = 5.0


@pytest.fixture
def outage_stack(tmp_path: Path):
    stack = Stack(tmp_path, dedicated_redis=True)
    stack.env["THROTTLE_BETS"] = "10000/minute"  # the load is one bettor's: measure outages, not the limit
    try:
        stack.prepare()  # migrated, with the demo data
        stack.start_worker()
        stack.start_beat()  # reconciliation: counts the bets whose recompute was lost
        yield stack
    finally:
        stack.close()


def bets_in_database(stack: Stack, match_id: int) -> int:
    out = stack.manage(
        "shell", "-c", f"from betting.models import Bet; print(Bet.objects.filter(match_id={match_id}).count())"
    )
    return int(out.strip().splitlines()[-1])


async def test_a_redis_outage_under_bets_gives_201_or_503_never_500_and_loses_no_bet(outage_stack: Stack) -> None:
    stack = outage_stack
    _, port = stack.start_web()
    base = f"http://127.0.0.1:{port}"
    headers = bearer_headers(base, *DEMO)
    match = httpx.get(f"{base}/api/matches/").json()["results"][0]
    replies: list[tuple[float, int, dict, str | None]] = []

    async def place(client: httpx.AsyncClient, index: int, started: float) -> None:
        body = {"match": match["id"], "selection": ("home", "draw", "away")[index % 3], "stake": "10.00"}
        try:
            reply = await client.post(
                "/api/bets/",
                json={**body, "accept_odds_change": "any"},
                headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
            )
            content = reply.json() if reply.headers.get("content-type") == "application/json" else {}
            replies.append((time.monotonic() - started, reply.status_code, content, reply.headers.get("Retry-After")))
        except httpx.HTTPError as exc:
            replies.append((time.monotonic() - started, 0, {"error": type(exc).__name__}, None))

    async def outage(started: float) -> None:
        await asyncio.sleep(OUTAGE_STARTS_AT)
        stack.kill_redis()
        await asyncio.sleep(OUTAGE_SECONDS - (time.monotonic() - started - OUTAGE_STARTS_AT))
        stack.restart_redis()

    async with httpx.AsyncClient(base_url=base, timeout=15) as client:
        started = time.monotonic()
        tasks = [asyncio.create_task(outage(started))]
        for index in range(RATE_PER_SECOND * RUN_SECONDS):
            await asyncio.sleep(max(0.0, started + index / RATE_PER_SECOND - time.monotonic()))
            tasks.append(asyncio.create_task(place(client, index, started)))
        await asyncio.gather(*tasks)

    codes = Counter(code for _, code, _, _ in replies)
    accepted = [content for _, code, content, _ in replies if code == 201]
    unavailable = [(content, retry) for _, code, content, retry in replies if code == 503]
    during = Counter(
        code for at, code, _, _ in replies if OUTAGE_STARTS_AT <= at <= OUTAGE_STARTS_AT + OUTAGE_SECONDS + 1
    )
    stored = bets_in_database(stack, match["id"])
    print(
        "\nredis outage: "
        + json.dumps(
            {
                "requests": len(replies),
                "codes": dict(codes),
                "codes_during_outage": dict(during),
                "503": len(unavailable),
                "500": codes.get(500, 0),
                "accepted": len(accepted),
                "bets_in_database": stored,
                "bets_lost": len(accepted) - stored if stored <= len(accepted) else 0,
                "bets_written_but_refused": max(0, stored - len(accepted)),
            }
        )
    )
    assert len(replies) == RATE_PER_SECOND * RUN_SECONDS
    assert set(codes) <= {201, 503}, codes
    for content, retry in unavailable:
        assert content["code"] == "service_unavailable" and retry is not None and int(retry) > 0
    assert stored == len(accepted)  # nothing lost, nothing half-written by a refused request

    # Once Redis is back, reconciliation counts every bet, including those whose recompute
    # could not be enqueued during the outage.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        counted = httpx.get(f"{base}/api/matches/{match['id']}/").json()["bets"]
        if counted == stored:
            break
        await asyncio.sleep(0.5)
    assert counted == stored
    assert httpx.get(f"{base}/readyz").status_code == 200
