"""The odds engine alone: microseconds per recompute, before and after the multi-market book.

Before: the 1X2 engine (`betting.engine.model`), 1X2 only and with the two derived markets it
reads from a Poisson fit (Over/Under 2.5, BTTS). After: every market of a match (1X2, double
chance, draw no bet, five over/unders, BTTS, correct score, five Asian handicap lines: 57
selections) priced from a score matrix (`betting.engine.book.price_markets`), with no money and
with money on seven markets (the liability step that moves the distribution, and every
selection's maximum stake).

Pure Python and numpy, no database. The inputs cycle through 200 different books of money (and,
after, 200 different score matrices) so no run repeats the previous one's numbers; the opening's
margin removal is solved once per opening and cached, as it is in a worker. Prints the median
of 7 runs of 2,000 calls (CPU time), and the ratio after / before.
"""

import random
import statistics
import time
import timeit
from collections.abc import Callable
from decimal import Decimal
from math import exp, factorial

import numpy as np

from betting.engine.book import MatchMoney, price_markets
from betting.engine.markets import GRID, Market, asian_handicap_lines, match_markets
from betting.engine.model import DEFAULT_PARAMS, BookTotals, compute_prices, compute_quote

OPENING = {"home": Decimal("2.10"), "draw": Decimal("3.40"), "away": Decimal("3.50")}
RUNS, CALLS = 7, 2000
ODDS_TAKEN = ("1.90", "2.10", "3.40", "3.60")


def books(count: int) -> list[BookTotals]:
    rng = random.Random(4)
    result = []
    for _ in range(count):
        stakes = {s: Decimal(rng.randint(0, 500_000)) / 100 for s in ("home", "draw", "away")}
        payouts = {s: stake * Decimal(rng.choice(ODDS_TAKEN)) for s, stake in stakes.items()}
        result.append(BookTotals(stakes=stakes, payouts=payouts))
    return result


def score_matrix(home_mean: float, away_mean: float, rho: float = -0.1) -> np.ndarray:
    """Poisson goals with the Dixon-Coles low-score correction: the shape the team model gives."""
    home = np.array([exp(-home_mean) * home_mean**k / factorial(k) for k in range(GRID)])
    away = np.array([exp(-away_mean) * away_mean**k / factorial(k) for k in range(GRID)])
    matrix = np.outer(home, away)
    matrix[0, 0] *= 1 - home_mean * away_mean * rho
    matrix[0, 1] *= 1 + home_mean * rho
    matrix[1, 0] *= 1 + away_mean * rho
    matrix[1, 1] *= 1 - rho
    return matrix / matrix.sum()


def match_money(rng: random.Random, markets: tuple[Market, ...]) -> MatchMoney:
    """Money on seven markets: 1X2, double chance, draw no bet, O/U 2.5, BTTS, correct score, an AH line."""
    keys = ("1x2", "double_chance", "draw_no_bet", "over_under_2_5", "both_teams_to_score", "correct_score")
    chosen = [m for m in markets if m.key in keys] + [m for m in markets if m.kind == "asian_handicap"][2:3]
    money = {}
    for one in chosen:
        stakes = {s: Decimal(rng.randint(0, 100_000)) / 100 for s in one.selections[:6]}
        payouts = {s: stake * Decimal(rng.choice(ODDS_TAKEN)) for s, stake in stakes.items()}
        money[one.key] = BookTotals(stakes=stakes, payouts=payouts)
    return money


def microseconds_per_call(function: Callable[[], object]) -> float:
    # CPU time of this process: other jobs on a shared machine do not inflate it.
    timer = timeit.Timer(function, timer=time.process_time)
    return statistics.median(timer.repeat(repeat=RUNS, number=CALLS)) / CALLS * 1e6


def main() -> None:
    params = DEFAULT_PARAMS  # the old 1X2 engine, timed beside the book as its baseline
    cases = books(200)
    rng = random.Random(19)
    matrices = [score_matrix(rng.uniform(0.6, 2.6), rng.uniform(0.4, 2.0)) for _ in range(200)]
    catalogues = [match_markets(asian_handicap_lines(matrix)) for matrix in matrices]
    monies = [match_money(rng, markets) for markets in catalogues]
    index = 0

    def step() -> int:
        nonlocal index
        index = (index + 1) % len(cases)
        return index

    one_x_two = microseconds_per_call(lambda: compute_prices(OPENING, cases[step()], params))
    derived = microseconds_per_call(lambda: compute_quote(OPENING, cases[step()], params))
    no_money = microseconds_per_call(lambda: price_markets(matrices[(i := step())], catalogues[i]))
    with_money = microseconds_per_call(lambda: price_markets(matrices[(i := step())], catalogues[i], monies[i]))

    selections = sum(len(m.selections) for m in catalogues[0])
    print(f"before: 1X2 only:                          {one_x_two:7.1f} µs per recompute")
    print(f"before: 1X2 + O/U 2.5 + BTTS (Poisson fit):  {derived:7.1f} µs per recompute")
    print(f"after:  all {len(catalogues[0])} markets ({selections} selections), no money: {no_money:7.1f} µs")
    print(f"after:  all markets, money on 7 markets:     {with_money:7.1f} µs per recompute (goal < 2000)")
    print(f"ratio after (with money) / before (1X2 + O/U + BTTS): {with_money / derived:.2f}")
    print(f"ratio after (with money) / before (1X2 only):         {with_money / one_x_two:.2f}")
    print(f"(CPU time, median of {RUNS} runs of {CALLS} calls; 1X2 margin method {params.margin_method})")
