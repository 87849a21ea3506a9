"""Accumulators: the combined odds of several legs, and how the bet settles from its legs.

An accumulator wins only if every leg does; a void leg counts at odds 1.00 (it drops out of
the product); it loses as soon as one leg loses, whatever the others still have to play.

Pure: no Django, no I/O, deterministic.
"""

from collections.abc import Iterable, Sequence
from decimal import ROUND_DOWN, Decimal

from betting.engine.ladder import MAX_PRICE
from betting.engine.markets import CENT, LOST, VOID, WON

OPEN = "open"  # a leg not graded yet, or an accumulator not decided yet
# The combined odds never exceed the ladder's longest price: the product is capped there.
MAX_COMBINED_ODDS = MAX_PRICE
MIN_LEGS = 2


def combined_odds(prices: Iterable[Decimal]) -> Decimal:
    """The legs' prices multiplied, rounded down to the cent (the book never pays a fraction
    more than the prices), capped at MAX_COMBINED_ODDS. No price at all: 1.00."""
    product = Decimal(1)
    for price in prices:
        product *= price
    return min(product.quantize(CENT, rounding=ROUND_DOWN), MAX_COMBINED_ODDS)


def accumulator_outcome(legs: Sequence[tuple[str, Decimal]], stake: Decimal) -> tuple[str, Decimal | None]:
    """What an accumulator is given its legs (outcome: open, won, lost or void; price) and its
    stake: (OPEN, None) while undecided; (LOST, 0) as soon as one leg lost; (VOID, stake) when
    every leg is void; else (WON, stake x the combined odds of the won legs, rounded down to
    the cent), the void legs counting 1.00."""
    outcomes = [outcome for outcome, _ in legs]
    unknown = set(outcomes) - {OPEN, WON, LOST, VOID}
    if unknown:
        raise ValueError(f"Unknown leg outcomes {sorted(unknown)}.")
    if LOST in outcomes:
        return LOST, Decimal("0.00")
    if OPEN in outcomes:
        return OPEN, None
    if all(outcome == VOID for outcome in outcomes):
        return VOID, stake.quantize(CENT, rounding=ROUND_DOWN)
    odds = combined_odds(price for outcome, price in legs if outcome == WON)
    return WON, (stake * odds).quantize(CENT, rounding=ROUND_DOWN)
