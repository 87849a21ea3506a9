"""The odds engine alone: microseconds per recompute, 1X2 only and with the derived markets.

Pure Python, no database. The inputs cycle through 200 different books of money so no
run repeats the previous one's numbers; the opening's margin removal is solved once per
opening and cached, as it is in a worker. Prints the median of 7 runs of 2,000 calls.
"""

import random
import statistics
import timeit
from collections.abc import Callable
from decimal import Decimal

from betting.engine.model import BookTotals, compute_prices, compute_quote
from betting.pricing import engine_params

OPENING = {"home": Decimal("2.10"), "draw": Decimal("3.40"), "away": Decimal("3.50")}
RUNS, CALLS = 7, 2000


def books(count: int) -> list[BookTotals]:
    rng = random.Random(4)
    result = []
    for _ in range(count):
        stakes = {s: Decimal(rng.randint(0, 500_000)) / 100 for s in ("home", "draw", "away")}
        payouts = {s: stake * Decimal(rng.choice(("1.90", "2.10", "3.40", "3.60"))) for s, stake in stakes.items()}
        result.append(BookTotals(stakes=stakes, payouts=payouts))
    return result


def microseconds_per_call(function: Callable[[], None]) -> float:
    timer = timeit.Timer(function)
    return statistics.median(timer.repeat(repeat=RUNS, number=CALLS)) / CALLS * 1e6


def main() -> None:
    params = engine_params()
    cases = books(200)
    index = 0

    def one_x_two() -> None:
        nonlocal index
        index = (index + 1) % len(cases)
        compute_prices(OPENING, cases[index], params)

    def with_markets() -> None:
        nonlocal index
        index = (index + 1) % len(cases)
        compute_quote(OPENING, cases[index], params)

    print(f"engine, 1X2 only:                 {microseconds_per_call(one_x_two):7.1f} µs per recompute")
    print(f"engine, 1X2 + O/U 2.5 + BTTS:     {microseconds_per_call(with_markets):7.1f} µs per recompute")
    print(f"(median of {RUNS} runs of {CALLS} calls; margin method {params.margin_method})")
