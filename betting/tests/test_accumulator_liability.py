"""1,000 random bets, singles and accumulators, against small liability limits: no market of any
match ever stands to lose more than its limit, counting each accumulator leg as the whole
accumulator on its selection (docs/bet-types.md#liability)."""

import random
import time
from collections import defaultdict
from decimal import Decimal

import numpy as np
import pytest
from django.test import override_settings

from betting.accumulators import LegRequest, accumulator_place
from betting.engine.book import market_liability
from betting.engine.markets import market
from betting.engine.money import BookTotals
from betting.errors import MarketClosed, SelectionClosed, StakeTooHigh
from betting.models import Bet, BetLeg, Market, Match
from betting.placement import bet_place
from betting.pricing import book_params, match_odds_recompute
from betting.selectors import ledger_audit
from betting.tests.factories import MatchFactory, UserFactory

pytestmark = pytest.mark.django_db

BETS = 1000
SEED = 21
# Small limits so that the stakes below reach them often (the defaults are 20,000 and 5,000).
LIMITS = {
    "1x2": Decimal(400),
    "double_chance": Decimal(400),
    "draw_no_bet": Decimal(400),
    "over_under": Decimal(400),
    "both_teams_to_score": Decimal(400),
    "correct_score": Decimal(150),
    "asian_handicap": Decimal(400),
}
MARKETS = ["1x2", "double_chance", "draw_no_bet", "over_under_2_5", "both_teams_to_score", "correct_score"]


def market_worst_losses() -> dict[tuple[int, str], float]:
    """Every market's worst loss over the final scores, from the bet rows themselves: singles at
    their odds, accumulator legs at their accumulator's stake and combined odds."""
    stakes: dict[tuple[int, str], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    payouts: dict[tuple[int, str], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    rows = [*Bet.objects.filter(match__isnull=False).values_list("match", "market", "selection", "stake", "odds")]
    rows += BetLeg.objects.values_list("match", "market", "selection", "bet__stake", "bet__odds")
    for match_id, key, selection, stake, odds in rows:
        stakes[match_id, key][selection] += stake
        payouts[match_id, key][selection] += stake * odds
    return {
        where: float(np.max(market_liability(market(where[1]), BookTotals(stakes[where], payouts[where]))))
        for where in stakes
    }


@override_settings(ODDS_LIABILITY_LIMITS=LIMITS)
def test_a_thousand_random_bets_never_breach_a_liability_limit(capsys) -> None:
    rng = random.Random(SEED)
    matches = [MatchFactory() for _ in range(4)]
    users = [UserFactory(wallet=Decimal("100000")) for _ in range(5)]
    outcomes: dict[str, int] = defaultdict(int)
    started = time.perf_counter()

    def pick(match: Match) -> tuple[str, str, Decimal] | None:
        row = Market.objects.get(match=match, key=rng.choice(MARKETS))
        selection = rng.choice(list(row.prices))
        price = row.prices[selection]
        return None if price is None else (row.key, selection, Decimal(price))

    for index in range(BETS):
        stake = Decimal(rng.choice([1, 2, 5, 10, 25, 50, 100]))
        user = rng.choice(users)
        try:
            if rng.random() < 0.6:
                match = rng.choice(matches)
                chosen = pick(match)
                if chosen is None:
                    outcomes["closed"] += 1
                    continue
                key, selection, price = chosen
                bet_place(user=user, match_id=match.pk, market=key, selection=selection, stake=stake, quoted_odds=price)
                outcomes["single"] += 1
            else:
                legs = []
                for match in rng.sample(matches, rng.randint(2, 4)):
                    chosen = pick(match)
                    if chosen is not None:
                        legs.append(LegRequest(match.pk, *chosen))
                if len(legs) < 2:
                    outcomes["closed"] += 1
                    continue
                accumulator_place(user=user, legs=legs, stake=stake)
                outcomes["accumulator"] += 1
        except StakeTooHigh:
            outcomes["stake_too_high"] += 1
        except (SelectionClosed, MarketClosed):
            outcomes["closed"] += 1
        if index % 20 == 19:  # the worker's recomputes, every few bets, of a match at random
            match_odds_recompute(match_id=rng.choice(matches).pk)
        if index % 100 == 99:
            worst = market_worst_losses()
            assert all(loss <= float(LIMITS[market(key).kind]) + 0.01 for (_, key), loss in worst.items()), worst

    worst = market_worst_losses()
    breaches = {where: loss for where, loss in worst.items() if loss > float(LIMITS[market(where[1]).kind]) + 0.01}
    assert breaches == {}
    assert outcomes["accumulator"] >= 100 and outcomes["single"] >= 100
    assert outcomes["stake_too_high"] >= 50  # the limits were reached, not avoided
    assert ledger_audit() == []
    book_params()  # the limits above are valid book parameters
    nearest = max(loss / float(LIMITS[market(key).kind]) for (_, key), loss in worst.items())
    with capsys.disabled():
        print(
            f"\nliability: {BETS} random bets: {dict(outcomes)}; worst market at {nearest:.1%} of its limit; "
            f"{time.perf_counter() - started:.1f} s"
        )
