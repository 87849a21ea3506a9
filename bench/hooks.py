"""Benchmark baselines, injected into the processes under measurement from here.

The money path carries no benchmark switch. The system benchmark starts its servers with
`DJANGO_SETTINGS_MODULE=bench.settings`, which installs this package as an app; its
`ready()` applies the hooks named in the environment before the first request:

- `BENCH_RECOMPUTE_INLINE=1`: a bet recomputes the match's odds inside its own transaction,
  under the match row lock, and the odds are published as it commits, as the odds seed's
  `post_save` signal did. It replaces `betting.placement.bet_odds_recompute_schedule`, the
  one seam between a bet and the odds pipeline.
- `BENCH_RECOMPUTE_EXTRA_DELAY_MS=<ms>`: every recompute that has bets to count costs that
  much more, as a costlier engine would. It wraps `betting.pricing.odds_price`.
"""

import os
import time

from betting import placement, pricing
from betting.models import Match

INLINE = "BENCH_RECOMPUTE_INLINE"
EXTRA_DELAY_MS = "BENCH_RECOMPUTE_EXTRA_DELAY_MS"


def recompute_inline() -> None:
    def recompute_now(*, match_id: int) -> None:
        pricing.match_odds_recompute(match_id=match_id)

    placement.bet_odds_recompute_schedule = recompute_now


def recompute_slower(milliseconds: float) -> None:
    price = pricing.odds_price

    def odds_price_slower(match: Match, *, reprice: bool = False) -> pricing.PricedOdds | None:
        priced = price(match, reprice=reprice)
        if priced is not None:
            time.sleep(milliseconds / 1000)
        return priced

    pricing.odds_price = odds_price_slower


def hooks_apply(environ: os._Environ[str] | dict[str, str]) -> list[str]:
    """Apply the hooks `environ` asks for; returns their names."""
    applied = []
    if environ.get(INLINE, "") == "1":
        recompute_inline()
        applied.append(INLINE)
    delay = float(environ.get(EXTRA_DELAY_MS, "") or 0)
    if delay > 0:
        recompute_slower(delay)
        applied.append(EXTRA_DELAY_MS)
    return applied
