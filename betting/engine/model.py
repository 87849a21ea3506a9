"""A first honest odds model for the 1X2 market.

Opening prices are the trader's prior. Their implied probabilities (margin removed by
normalising) are blended with the share of money staked on each selection; the weight of
the money grows with the total staked against a fixed prior liquidity. A margin is then
applied and each price is snapped *down* the ladder, so the book's overround never falls
below 1 + margin.

Pure: no Django, no I/O, deterministic.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from betting.engine.ladder import MAX_PRICE, MIN_PRICE, price_from_probability

SELECTIONS: tuple[str, ...] = ("home", "draw", "away")


@dataclass(frozen=True)
class EngineParams:
    margin: Decimal = Decimal("0.05")
    prior_liquidity: Decimal = Decimal("2000")


DEFAULT_PARAMS = EngineParams()


def implied_probabilities(prices: Mapping[str, Decimal]) -> dict[str, float]:
    """Fair probabilities from prices: 1/price, normalised so they sum to 1."""
    raw = {s: 1.0 / float(prices[s]) for s in SELECTIONS}
    total = sum(raw.values())
    return {s: raw[s] / total for s in SELECTIONS}


def overround(prices: Mapping[str, Decimal]) -> float:
    return sum(1.0 / float(prices[s]) for s in SELECTIONS)


def compute_prices(
    opening: Mapping[str, Decimal],
    stakes: Mapping[str, Decimal],
    params: EngineParams = DEFAULT_PARAMS,
) -> dict[str, Decimal]:
    """New ladder prices from the opening prices and the money staked per selection."""
    if not any(stakes.get(s, Decimal(0)) for s in SELECTIONS):
        return {s: opening[s] for s in SELECTIONS}  # the trader's prices stand until money arrives
    prior = implied_probabilities(opening)
    total_staked = float(sum((stakes.get(s, Decimal(0)) for s in SELECTIONS), Decimal(0)))
    liquidity = float(params.prior_liquidity)
    # Bayesian-style blend: the prior counts as `liquidity` units of money spread by its
    # probabilities, the bets count as what was actually staked.
    blended = {
        s: (prior[s] * liquidity + float(stakes.get(s, Decimal(0)))) / (liquidity + total_staked) for s in SELECTIONS
    }
    # Never quote a thinner book than the trader opened with: the first bet must not
    # lengthen every price just because the configured margin is below the opening one.
    book = max(1.0 + float(params.margin), overround(opening))
    prices = {}
    for s in SELECTIONS:
        price = price_from_probability(blended[s] * book)
        prices[s] = min(max(price, MIN_PRICE), MAX_PRICE)
    return prices
