"""A burst of bets on one match, placed by a separate process against a running Stack.

Run as `python -m tests.integration.burst BETS SECONDS PER_TRANSACTION` with a Stack's
environment. It creates a fresh match, listens to the odds stream and places BETS bets
spread evenly over SECONDS: through `placement.bet_place` when PER_TRANSACTION is 1 (the
real bet transaction and its after-commit enqueue), else PER_TRANSACTION at a time in one
transaction that does what bet_place does, so the arrival rate can reach 1,000/s. It
waits for the publish that counts the last bet and prints one JSON line: the burst's real
duration, the recomputes the worker started (the run count it keeps in Redis), the versions
published (from the database), the delay from the last bet's commit to that publish, and
the bets the last published odds count.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tests.integration.harness import ROOT

if TYPE_CHECKING:
    from tests.integration.harness import Stack


def place_bets_in_one_transaction(match_id: int, user_id: int, first: int, count: int) -> None:
    """`count` bets committed together, as `bet_place` would commit them one by one: under
    the match row lock, numbered in order, at the current price, each followed after commit
    by its own recompute request. It lets one process offer bets at 1,000 a second where
    one transaction per bet, on this machine, cannot."""
    from django.db import transaction

    from betting.models import Bet, Match
    from betting.recompute import odds_recompute_request

    selections = ("home", "draw", "away")
    with transaction.atomic():
        match = Match.objects.select_for_update().get(pk=match_id)
        Bet.objects.bulk_create(
            Bet(
                user_id=user_id,
                match=match,
                selection=selections[(first + offset) % 7 % 3],
                stake=Decimal("10.00") + (first + offset) % 50,
                odds=match.current_prices[selections[(first + offset) % 7 % 3]] or Decimal("2.00"),  # open: priced
                odds_version=match.odds_version,
                sequence=match.bet_sequence + 1 + offset,
            )
            for offset in range(count)
        )
        match.bet_sequence += count
        match.save(update_fields=["bet_sequence"])
        for _ in range(count):
            transaction.on_commit(lambda: odds_recompute_request(match_id=match_id))


def run_burst(bets: int, seconds: float, per_transaction: int = 1) -> dict[str, Any]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    django.setup()
    from datetime import timedelta

    import redis
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from betting import matches, placement, recompute
    from betting import streams as odds_streams
    from betting.models import OddsVersion
    from betting.wallets import wallet_open
    from realtime.publisher import get_layer
    from realtime.wire import decode_fast

    user, _ = get_user_model().objects.get_or_create(username="burst@oddstream.local")
    wallet_open(user=user, credit=Decimal("10000000.00"))  # bet_place debits every stake
    match = matches.match_create(
        home_team="Burst",
        away_team="Load",
        kickoff=timezone.now() + timedelta(days=1),
        opening={"home": Decimal("2.10"), "draw": Decimal("3.40"), "away": Decimal("3.50")},
    )

    published: list[tuple[float, dict[str, Any]]] = []
    subscription = redis.Redis.from_url(settings.REDIS_URL).pubsub(ignore_subscribe_messages=True)
    subscription.subscribe(get_layer().names.fast)
    subscription.get_message(timeout=2)  # the subscribe confirmation: listening from here on
    stop = threading.Event()

    def listen() -> None:
        while not stop.is_set():
            message = subscription.get_message(timeout=0.1)
            if message is None:
                continue
            groups, _, _, frame, _ = decode_fast(message["data"])
            if odds_streams.odds_group(match.pk) in groups and groups[0] == odds_streams.ODDS_ALL:
                published.append((time.monotonic(), json.loads(frame)))

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()

    from django.db import transaction

    # The moment each transaction commits, taken by the first on-commit callback it registers,
    # so it precedes the recompute requests that the other callbacks send.
    commit_times: list[float] = []

    def mark_commit() -> None:
        commit_times.append(time.monotonic())

    selections = ("home", "draw", "away")
    started = time.monotonic()
    for first in range(0, bets, per_transaction):
        pause = started + first * seconds / bets - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        count = min(per_transaction, bets - first)
        with transaction.atomic():
            transaction.on_commit(mark_commit)
            if count == 1:
                placement.bet_place(
                    user=user,
                    match_id=match.pk,
                    selection=selections[first % 7 % 3],
                    stake=Decimal("10.00") + first % 50,
                    accept_odds_change="any",
                )
            else:
                place_bets_in_one_transaction(match.pk, user.pk, first, count)
    last_bet_committed = commit_times[-1]

    deadline = last_bet_committed + 60
    counted_at: float | None = None
    while time.monotonic() < deadline and counted_at is None:
        counted_at = next((at for at, frame in published if frame.get("bets", 0) >= bets), None)
        time.sleep(0.005)
    stop.set()
    listener.join(timeout=2)
    # A recompute enqueued by the last bets may start just after the publish that counts
    # them (and find nothing new): give it time to be counted too.
    time.sleep(0.5)
    recompute_runs = recompute.odds_recompute_runs(match_id=match.pk)

    versions = list(
        OddsVersion.objects.filter(match=match, version__gt=1)
        .order_by("version")
        .values_list("bets_counted", flat=True)
    )
    latencies = sorted(
        v
        for v in OddsVersion.objects.filter(match=match).values_list("pipeline_latency_ms", flat=True)
        if v is not None
    )
    return {
        "match": match.pk,
        "bets": bets,
        "burst_seconds": last_bet_committed - started,
        "recompute_runs": recompute_runs,
        "versions": len(versions),
        "versions_bets_counted": versions,
        "published_frames": len(published),
        "last_published_bets": published[-1][1]["bets"] if published else None,
        "last_bet_to_publish_ms": None if counted_at is None else (counted_at - last_bet_committed) * 1000,
        "pipeline_latency_ms_p50": latencies[len(latencies) // 2] if latencies else None,
        "pipeline_latency_ms_max": latencies[-1] if latencies else None,
        "min_interval_seconds": float(settings.ODDS_RECOMPUTE_MIN_INTERVAL),
        "bets_per_transaction": per_transaction,
    }


def burst_bound(burst_seconds: float, min_interval: float) -> int:
    """Most recomputes a burst can cause: starts are min_interval apart, plus the one that
    may already be queued when the burst begins and the one that counts its last bets."""
    return int(burst_seconds / min_interval) + 2


def run_burst_process(stack: Stack, bets: int, seconds: float, per_transaction: int = 1) -> dict[str, Any]:
    """Run the burst in a child process on the stack's database and Redis."""
    completed = subprocess.run(
        [sys.executable, "-m", "tests.integration.burst", str(bets), str(seconds), str(per_transaction)],
        cwd=ROOT,
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    line = next((x for x in completed.stdout.splitlines() if x.startswith("BURST ")), None)
    if completed.returncode != 0 or line is None:
        raise RuntimeError(f"burst driver failed:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(line.removeprefix("BURST "))
    result["bound"] = burst_bound(result["burst_seconds"], result["min_interval_seconds"])
    return result


if __name__ == "__main__":
    result = run_burst(int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]))
    print("BURST " + json.dumps(result), flush=True)
