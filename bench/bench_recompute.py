"""Recompute cost with 100 and with 100,000 bets already counted on a match.

Self-contained: migrates a database of its own (a temporary SQLite file, or a new
PostgreSQL database when DATABASE_URL names PostgreSQL), seeds the bets with bulk_create,
then, turn and turn about on the two matches, commits one more bet and times
`match_odds_recompute` (lock the match, read the new bets, update the running totals, run
the engine, store and publish the version). The old way, a SUM over every bet of the
match, is timed alongside for comparison.
"""

import random
import statistics
import time
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Sum
from django.utils import timezone

from bench.database import own_database

SIZES = (100, 100_000)
ROUNDS = 60
BATCH = 5_000


def seed(match_id: int, user_id: int, count: int, first_sequence: int) -> None:
    from betting.models import Bet, Match

    rng = random.Random(count)
    match = Match.objects.get(pk=match_id)
    for start in range(first_sequence, first_sequence + count, BATCH):
        stop = min(start + BATCH, first_sequence + count)
        Bet.objects.bulk_create(
            Bet(
                user_id=user_id,
                match=match,
                selection=rng.choice(("home", "draw", "away")),
                stake=Decimal(rng.randint(100, 20_000)) / 100,
                odds=match.odds_home or Decimal("2.00"),
                odds_version=match.odds_version,
                sequence=sequence,
            )
            for sequence in range(start, stop)
        )
    Match.objects.filter(pk=match_id).update(bet_sequence=first_sequence + count - 1)


def measure() -> None:
    from betting.matches import match_create
    from betting.models import Bet, Match
    from betting.pricing import match_odds_recompute

    user = get_user_model().objects.create_user("bench@oddstream.local")
    matches = {}
    for size in SIZES:
        match = match_create(
            home_team=f"Bench {size}",
            away_team="Away",
            kickoff=timezone.now() + timedelta(days=1),  # open: a kick-off ahead
            opening={"home": Decimal("2.10"), "draw": Decimal("3.40"), "away": Decimal("3.50")},
        )
        started = time.perf_counter()
        seed(match.pk, user.pk, size, 1)
        match_odds_recompute(match_id=match.pk)  # counts the seeded bets once
        print(f"seeded {size:>7,} bets in {time.perf_counter() - started:5.1f} s")
        matches[size] = match.pk

    timings: dict[int, list[float]] = {size: [] for size in SIZES}
    full_sums: dict[int, list[float]] = {size: [] for size in SIZES}
    for _ in range(ROUNDS):
        for size, match_id in matches.items():
            sequence = Match.objects.get(pk=match_id).bet_sequence
            seed(match_id, user.pk, 1, sequence + 1)
            started = time.perf_counter()
            match_odds_recompute(match_id=match_id)
            timings[size].append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            list(Bet.objects.filter(match_id=match_id).values("selection").annotate(total=Sum("stake")))
            full_sums[size].append((time.perf_counter() - started) * 1000)

    small, large = (statistics.median(timings[size]) for size in SIZES)
    for size in SIZES:
        print(
            f"recompute with {size:>7,} bets counted: median {statistics.median(timings[size]):6.2f} ms"
            f" (p90 {statistics.quantiles(timings[size], n=10)[-1]:6.2f} ms) over {ROUNDS} recomputes;"
            f" a full SUM over the bets would take {statistics.median(full_sums[size]):7.2f} ms"
        )
    print(f"ratio 100,000 / 100: {large / small:.2f}  ({settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]})")


def main() -> None:
    with own_database("bench_recompute"):
        measure()
