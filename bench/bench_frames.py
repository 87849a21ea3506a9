"""Frame size and encode cost with every market: one match's `odds` frame, a `match` frame of the
feed (a goal, with the live state), and the snapshot of 10 matches a board's socket gets on
connect.

Self-contained: migrates a database of its own (a temporary SQLite file, or a new PostgreSQL
database when DATABASE_URL names PostgreSQL), creates 10 matches with every market priced,
money on some of them (so prices and maximum stakes are not the opening ones) and one in play,
builds the frames as the publishers do (`betting.events`, `inplay.events`) and times
`realtime.streams.encode_frame`, what the hub runs once per published frame whatever the number
of sockets. Medians of ENCODE_ROUNDS encodes (default 2,000), beside the figures measured by hand
when the markets landed (docs/odds-engine.md).
"""

import os
import statistics
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from bench.database import own_database

MATCHES = 10
ROUNDS = int(os.environ.get("ENCODE_ROUNDS", "2000"))
# Measured by hand on the day the 15 markets landed (docs/odds-engine.md): bytes, microseconds.
EARLIER = {"odds": (2870, 51.0), "snapshot": (28600, 499.0)}


def median_us(frame: dict[str, Any]) -> float:
    from realtime.streams import encode_frame

    costs = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        encode_frame(frame)
        costs.append(time.perf_counter() - started)
    return statistics.median(costs) * 1e6


def build() -> dict[str, dict[str, Any]]:
    """The frames to measure, from real rows."""
    from betting.events import match_state, odds_frame
    from betting.matches import match_create
    from betting.models import Match
    from betting.placement import bet_place
    from betting.pricing import match_odds_recompute
    from betting.tests.factories import UserFactory
    from inplay import services
    from inplay.credentials import feed_provider_token_issue
    from inplay.events import match_feed_frame
    from inplay.models import FeedEvent, FeedProvider, MatchState
    from inplay.selectors import match_timeline

    bettor = UserFactory()
    ids = []
    for n in range(MATCHES):
        match = match_create(
            home_team=f"Bench Home {n}",
            away_team=f"Bench Away {n}",
            kickoff=timezone.now() + timedelta(days=1, minutes=n),
            opening={"home": Decimal("2.10"), "draw": Decimal("3.40"), "away": Decimal("3.50")},
        )
        for market, selection in (("1x2", "home"), ("over_under_2_5", "over"), ("correct_score", "1-1")):
            bet_place(
                user=bettor,
                match_id=match.pk,
                market=market,
                selection=selection,
                stake=Decimal("25.00"),
                accept_odds_change="any",
            )
        match_odds_recompute(match_id=match.pk)
        ids.append(match.pk)

    # The first match in play: a kick-off and a goal folded by the feed's own service.
    feed_provider_token_issue(name="bench")
    provider = FeedProvider.objects.get(name="bench")
    start = timezone.now() - timedelta(minutes=20)
    for sequence, (kind, fields) in enumerate((("kick_off", {}), ("goal", {"team": "home", "minute": 17})), 1):
        services.feed_event_append(
            provider=provider,
            incoming=services.IncomingEvent(
                event_id=f"bench-{sequence}",
                match_id=ids[0],
                sequence=sequence,
                kind=kind,
                occurred_at=start + timedelta(minutes=sequence),
                team=fields.get("team", ""),
                minute=fields.get("minute"),
                cancels="",
                final_score=None,
                clock_rate=None,
            ),
        )
    services.match_feed_process(match_id=ids[0])  # done already where tasks run eagerly (the test settings)
    matches = list(Match.objects.filter(pk__in=ids).select_related("live_state").prefetch_related("market_rows"))
    live = next(match for match in matches if match.pk == ids[0])
    row = MatchState.objects.get(match_id=live.pk)
    goal = FeedEvent.objects.get(provider_event_id="bench-2")
    folded = [(event, outcome) for event, outcome in match_timeline(live.pk) if event.pk == goal.pk]
    return {
        "odds": odds_frame(next(match for match in matches if match.pk == ids[1])),
        "odds (in play)": odds_frame(live),
        "match (feed: a goal)": match_feed_frame(live, row, folded),
        "snapshot": {"type": "snapshot", "matches": [match_state(match) for match in matches]},
    }


def measure() -> None:
    from realtime.streams import encode_frame

    frames = build()
    print(f"{'frame':<24} {'bytes':>8} {'before':>8}   {'encode median':>14} {'before':>8}")
    for name, frame in frames.items():
        size = len(encode_frame(frame).encode())
        cost = median_us(frame)
        line = f"{name:<24} {size:>8,} {'':>8}   {cost:>11.1f} µs {'':>8}"
        if name in EARLIER:
            before_size, before_cost = EARLIER[name]
            line = f"{name:<24} {size:>8,} {before_size:>8,}   {cost:>11.1f} µs {before_cost:>8.1f}"
            line += f"   (size x{size / before_size:.2f}, cost x{cost / before_cost:.2f})"
        print(line)
    per_market = len(encode_frame(frames["odds"]).encode()) / 15
    print(f"{MATCHES} matches in the snapshot; {per_market:.0f} bytes per market in an odds frame")


def main() -> None:
    with own_database("bench_frames"):
        measure()
