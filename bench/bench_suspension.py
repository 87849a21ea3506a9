"""Suspension latency: a goal posted to the feed endpoint, to the `match` frame that suspends the
match on each of 1,000 open sockets.

The real topology on one machine: one Daphne (`python -m config.daphne`, the web process that
serves both the feed endpoint and the sockets), one Celery worker on every queue (the feed's
included), Redis, SQLite, and the sockets on the match's own path (`/ws/odds/<id>/`) from
separate load-generator processes (`bench.suspension_client`, the minimal clients of
`bench.delivery_client`). The match is put in play by a kick-off from the feed; then each round
posts one goal (`POST /api/feed/events/`, `Authorization: Feed <token>`) and every socket notes
when the first frame saying "suspended: goal" with that goal counted reaches it.

Two starting points per (goal, socket):

- **sent**: the wall clock just before the POST leaves the bench (loopback: the event reaches the
  server a fraction of a millisecond later). This is what the goal is measured from.
- **logged**: the event row's `received_at`, stamped by the endpoint when it writes the event to
  the log (after the request's parsing and the token check), read from the database.

The markets reopen after `INPLAY_REOPEN_SECONDS` (1 s here), so every goal suspends open markets;
the next round waits for the reopening. The first goal is a warm-up (the worker's first task
and the web process's first feed request) reported apart.

Bounded: `SUSPENSION_ROUNDS` goals (default 10), `SUSPENSION_SOCKETS` sockets (1,000) in
`SUSPENSION_CLIENT_PROCESSES` processes (4), a few seconds a round; 127.0.0.1 only.
Goal: p95 under 250 ms from the event reaching the server, at 1,000 sockets.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.bench_delivery import percentile, raise_open_files_limit, spawn_module, split
from tests.integration.harness import Stack

SOCKETS = int(os.environ.get("SUSPENSION_SOCKETS", "1000"))
ROUNDS = int(os.environ.get("SUSPENSION_ROUNDS", "10"))
CLIENT_PROCESSES = int(os.environ.get("SUSPENSION_CLIENT_PROCESSES", "4"))
REOPEN_SECONDS = 1.0
FRAME_WAIT_SECONDS = 3.0
GOAL_MS = 250.0


def received_at(stack: Stack, event_id: str) -> float:
    """The event's `received_at`, as a Unix time (SQLite keeps it as UTC text)."""
    [(value,)] = stack.query(f"SELECT received_at FROM inplay_feedevent WHERE provider_event_id = '{event_id}'")
    stamp = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp()


def wait_for(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise RuntimeError(f"Timed out waiting for {what}")


class Feed:
    def __init__(self, base: str, token: str, match_id: int) -> None:
        self.client = httpx.Client(base_url=base, headers={"Authorization": f"Feed {token}"}, timeout=30)
        self.match_id = match_id
        self.sequence = 0

    def post(self, kind: str, **fields: object) -> tuple[str, float, float]:
        """Post the next event; returns its id, the wall clock as it left and the round trip (s)."""
        self.sequence += 1
        event_id = f"bench-{self.match_id}-{self.sequence}"
        body = {
            "event_id": event_id,
            "match": self.match_id,
            "sequence": self.sequence,
            "kind": kind,
            "occurred_at": datetime.now(UTC).isoformat(),
            **fields,
        }
        sent = time.time()
        reply = self.client.post("/api/feed/events/", json=body)
        elapsed = time.time() - sent
        if reply.status_code != 202:
            raise RuntimeError(f"The feed refused {kind}: {reply.status_code} {reply.text}")
        return event_id, sent, elapsed


def run(stack: Stack) -> dict[str, Any]:
    stack.env.update(
        {
            # Thousands of sockets from one address: the per-IP cap would refuse all but the first.
            "REALTIME_MAX_SOCKETS_PER_IP": "0",
            "INPLAY_REOPEN_SECONDS": str(REOPEN_SECONDS),
        }
    )
    stack.manage("migrate", "--noinput")
    stack.manage("load_demo_data")
    token = stack.manage("feed_token", "bench").strip()
    stack.start_worker()
    _, port = stack.start_web()
    base = f"http://127.0.0.1:{port}"
    match_id = httpx.get(f"{base}/api/matches/").json()["results"][0]["id"]

    def match() -> dict[str, Any]:
        return httpx.get(f"{base}/api/matches/{match_id}/").json()

    feed = Feed(base, token, match_id)
    feed.post("kick_off")
    wait_for(lambda: (match().get("live") or {}).get("period") == "first_half", "the kick-off")

    clients: list[subprocess.Popen[str]] = []
    try:
        path = f"/ws/odds/{match_id}/"
        for count in split(SOCKETS, CLIENT_PROCESSES):
            if count:
                clients.append(spawn_module(stack.env, "bench.suspension_client", str(port), path, str(count)))
        connected = failed = 0
        for client in clients:
            assert client.stdout is not None
            ready = client.stdout.readline().split()
            connected, failed = connected + int(ready[1]), failed + int(ready[2])
        if failed:
            print(f"  {failed} of {SOCKETS} sockets could not connect", flush=True)
        time.sleep(1.0)
        load_before = os.getloadavg()

        rounds = []
        for goal in range(1, ROUNDS + 2):  # the first is the warm-up
            for client in clients:
                assert client.stdin is not None and client.stdout is not None
                client.stdin.write(f"arm {goal}\n")
                client.stdin.flush()
                client.stdout.readline()
            event_id, sent, round_trip = feed.post("goal", team=("home", "away")[goal % 2], minute=min(2 + goal, 44))
            time.sleep(FRAME_WAIT_SECONDS)
            arrivals: list[float | None] = []
            for client in clients:
                assert client.stdin is not None and client.stdout is not None
                client.stdin.write("report\n")
                client.stdin.flush()
                arrivals += json.loads(client.stdout.readline())["arrivals"]
            logged = received_at(stack, event_id)
            rounds.append(
                {
                    "sent": [a - sent for a in arrivals if a is not None],
                    "logged": [a - logged for a in arrivals if a is not None],
                    "missing": sum(1 for a in arrivals if a is None),
                    "post_ms": round_trip * 1000,
                    "logged_after_sent_ms": (logged - sent) * 1000,
                }
            )
            wait_for(lambda: match()["status"] == "open", "the reopening", timeout=30)
        return {"connected": connected, "rounds": rounds, "load_before": load_before, "load_after": os.getloadavg()}
    finally:
        for client in clients:
            if client.poll() is None:
                client.kill()
                client.wait(timeout=10)


def summary(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return f"{percentile(ms, 0.5):.0f} / {percentile(ms, 0.95):.0f} / {max(ms):.0f}" if ms else "-"


def main() -> None:
    raise_open_files_limit()
    with tempfile.TemporaryDirectory() as workdir:
        stack = Stack(Path(workdir))
        try:
            result = run(stack)
        finally:
            stack.close()
    rounds: list[dict[str, Any]] = result["rounds"]
    measured = rounds[1:]  # the first goal is the warm-up
    sent = [x for r in measured for x in r["sent"]]
    logged = [x for r in measured for x in r["logged"]]
    missing = sum(r["missing"] for r in measured)
    print(
        f"{result['connected']} sockets on one match, {len(measured)} goals (after one warm-up); "
        f"load average {result['load_before'][0]:.2f} before, {result['load_after'][0]:.2f} after"
    )
    print(
        "| goal | from POST sent p50 / p95 / max (ms) | from logged p50 / p95 / max (ms) "
        "| sockets without it | POST round trip (ms) |"
    )
    print("|---|---|---|---|---|")
    for index, r in enumerate(rounds):
        name = "warm-up" if index == 0 else str(index)
        print(f"| {name} | {summary(r['sent'])} | {summary(r['logged'])} | {r['missing']} | {r['post_ms']:.0f} |")
    p95 = percentile(sent, 0.95) * 1000 if sent else float("inf")
    print(
        f"| all {len(measured)} goals | {summary(sent)} | {summary(logged)} | {missing} | "
        f"{percentile([r['post_ms'] for r in measured], 0.5):.0f} (median) |"
    )
    verdict = "met" if p95 < GOAL_MS and missing == 0 else "missed"
    print(
        f"Goal p95 < {GOAL_MS:.0f} ms from the event reaching the server at {SOCKETS:,} sockets: "
        f"{verdict} ({p95:.0f} ms)"
    )
    sys.stdout.flush()
