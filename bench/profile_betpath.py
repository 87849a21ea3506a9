"""The bet path's CPU, in process: `POST /api/bets/` against the plain-insert peer, per request.

`make bench BENCH=betpath` measures from outside, under load, which a shared machine distorts.
This measures the CPU of the request itself: the Django test client sends BATCH requests of
each kind in turn, BATCHES times, through the whole handler (middleware, JWT authentication,
throttle, view, PostgreSQL, Redis), and `time.process_time()` over each batch, divided by its
requests, is the CPU of one. The figures printed are medians over the batches, and the bet's
ratio to the insert is taken batch by batch. Nothing waits on another process's CPU, so the
load of the machine moves them much less than it moves throughput.

    DATABASE_URL=postgres://... .venv/bin/python -m bench.profile_betpath
    BENCH_PROFILE=1 ...      # then a cProfile (CPU time) of BATCH bets: the costliest functions
                             # by own and by cumulative time, and the project's own

It uses the test database of DATABASE_URL (created and dropped, as the test runner does), the
Redis database of TEST_REDIS_DB (flushed at the end), and bench.settings without DEBUG.
Nothing consumes the recompute requests, so after the first the hot match's pending flag
stands and a bet's request costs one SET NX, as on a busy match; every COUNTED_EVERY bets
the match's `bets_counted` catches up, untimed, as the recompute would move it.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import statistics
import time
import uuid
from decimal import Decimal
from typing import Any

BATCH = int(os.environ.get("BENCH_PROFILE_BATCH", "200"))
BATCHES = int(os.environ.get("BENCH_PROFILE_BATCHES", "5"))
BETTORS = 64
# A hot match's recompute counts the new bets every few dozen milliseconds (it starts at most
# every ODDS_RECOMPUTE_MIN_INTERVAL, 50 ms): at 100 bets/s, a handful of bets at a time.
COUNTED_EVERY = 10
PROFILE = os.environ.get("BENCH_PROFILE") == "1"


def configure() -> None:
    db = os.environ.get("TEST_REDIS_DB", "15")
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["DEBUG"] = "0"  # DEBUG keeps every statement in memory: not what production pays
    os.environ.setdefault("REDIS_URL", f"redis://127.0.0.1:6379/{db}")
    os.environ.setdefault("REALTIME_PREFIX", f"oddstream-profile-{db}")
    import django

    django.setup()


def main() -> None:
    configure()
    from django.conf import settings
    from django.test.utils import setup_databases, setup_test_environment, teardown_databases

    setup_test_environment(debug=False)
    old = setup_databases(verbosity=0, interactive=False)
    try:
        measure()
    finally:
        teardown_databases(old, verbosity=0)
        import redis

        redis.Redis.from_url(settings.REDIS_URL).flushdb()


def measure() -> None:
    from django.contrib.auth import get_user_model
    from django.db.models import F
    from django.test import Client
    from django.utils import timezone
    from rest_framework_simplejwt.tokens import AccessToken

    from betting.matches import match_create
    from betting.models import Match
    from betting.wallets import wallet_open

    match = match_create(
        home_team="Profile",
        away_team="Load",
        kickoff=timezone.now() + timezone.timedelta(days=30),
        opening={"home": Decimal("2.10"), "draw": Decimal("3.40"), "away": Decimal("3.50")},
    )
    tokens = []
    for n in range(BETTORS):
        user, _ = get_user_model().objects.get_or_create(username=f"profile{n}@bench.local")
        wallet_open(user=user, credit=Decimal("100000000.00"))
        tokens.append(f"Bearer {AccessToken.for_user(user)}")
    client = Client()
    counter = iter(range(10**9))

    def bet() -> None:
        n = next(counter)
        reply = client.post(
            "/api/bets/",
            {"match": match.pk, "selection": "home", "stake": "2.00", "accept_odds_change": "any"},
            content_type="application/json",
            HTTP_AUTHORIZATION=tokens[n % BETTORS],
            HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
        )
        assert reply.status_code == 201, reply.content

    def insert() -> None:
        n = next(counter)
        reply = client.post(
            "/bench/insert/", {"note": "x"}, content_type="application/json", HTTP_AUTHORIZATION=tokens[n % BETTORS]
        )
        assert reply.status_code == 201, reply.content

    def recompute_counted() -> None:
        # What the worker's recompute does to the bet path's reads: the bets it has counted
        # no longer add to the liability of those since (`liability_used_since`). Without it,
        # that read would grow with every bet of the run, as it never does in production.
        Match.objects.filter(pk=match.pk).update(bets_counted=F("bet_sequence"))

    def cpu_per_request(send: Any) -> float:
        """The CPU of BATCH requests, each timed on its own, per request (ms). Every
        COUNTED_EVERY bets the recompute's counting is applied, untimed."""
        used = 0.0
        for n in range(BATCH):
            if send is bet and n % COUNTED_EVERY == 0:
                recompute_counted()
            started = time.process_time()
            send()
            used += time.process_time() - started
        return used / BATCH * 1000

    for _ in range(20):  # warm every cache and connection first
        bet()
        insert()
    inserts, bets = [], []
    for _ in range(BATCHES):
        inserts.append(cpu_per_request(insert))
        bets.append(cpu_per_request(bet))
    ratios = [b / i for b, i in zip(bets, inserts, strict=True)]
    print(f"batches of {BATCH}, {BATCHES} each, CPU per request in ms (process_time):")
    print(f"  insert  median {statistics.median(inserts):.2f}  all {' '.join(f'{v:.2f}' for v in inserts)}")
    print(f"  bet     median {statistics.median(bets):.2f}  all {' '.join(f'{v:.2f}' for v in bets)}")
    print(f"  bet / insert, median of the batches' ratios: {statistics.median(ratios):.2f}")
    if PROFILE:
        profiler = cProfile.Profile(time.process_time)  # CPU, not the waits on PostgreSQL and Redis
        profiler.runcall(lambda: cpu_per_request(bet))
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(40)
        stats.sort_stats("cumulative").print_stats(60)
        # The project's own functions, whatever their rank: where each step of the bet goes.
        stats.sort_stats("cumulative").print_stats(r"/(accounts|betting|config|ops|realtime|safergambling)/", 60)
        print(out.getvalue())


if __name__ == "__main__":
    main()
