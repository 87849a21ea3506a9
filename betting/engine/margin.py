"""Margins: from quoted prices to fair probabilities, and from probabilities back to a book.

Removing the margin proportionally (1/price, normalised) would treat a 20.0 outsider and a
1.50 favourite as carrying the same share of the bookmaker's margin; real books load the
outsiders (the favourite-longshot bias). Two standard corrections are offered:

- the power method finds k with Σ (1/price)^k = 1 and takes (1/price)^k as the fair
  probabilities;
- Shin's method models a share z of insider money and solves for the z that makes the
  probabilities sum to one (Shin 1993; Štrumbelj 2014).

Pure: no Django, no I/O, deterministic. Probabilities are floats; prices are `Decimal`.
"""

from bisect import bisect_right
from collections.abc import Hashable, Mapping
from decimal import Decimal
from functools import lru_cache
from itertools import pairwise
from math import sqrt
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from betting.engine.ladder import LADDER, MAX_PRICE, MIN_PRICE, snap_down

Selection = TypeVar("Selection", bound=Hashable)  # a selection's name, or its row in a matrix

POWER = "power"
SHIN = "shin"
MARGIN_METHODS = (POWER, SHIN)

_BISECTION_STEPS = 60  # halves a unit interval to below 1e-17: exact at float precision
_SIX_PLACES = Decimal("0.000001")
_MAX_IMPLIED = 1.0 / float(MIN_PRICE)  # the shortest quotable price, as a probability


def overround(prices: Mapping[str, Decimal]) -> float:
    return sum(1.0 / float(price) for price in prices.values())


def _power_fair(implied: Mapping[str, float]) -> dict[str, float]:
    if sum(implied.values()) <= 1.0:
        # A book at or below 100% carries no margin to remove: normalising is the only
        # consistent reading (k would have to fall below 1 and inflate the outsiders).
        total = sum(implied.values())
        return {s: p / total for s, p in implied.items()}
    low, high = 1.0, 2.0
    while sum(p**high for p in implied.values()) > 1.0:
        high *= 2.0
    for _ in range(_BISECTION_STEPS):
        k = (low + high) / 2.0
        if sum(p**k for p in implied.values()) > 1.0:
            low = k
        else:
            high = k
    k = (low + high) / 2.0
    fair = {s: p**k for s, p in implied.items()}
    total = sum(fair.values())
    return {s: p / total for s, p in fair.items()}


def _shin_probabilities(implied: Mapping[str, float], booksum: float, z: float) -> dict[str, float]:
    return {s: (sqrt(z * z + 4.0 * (1.0 - z) * p * p / booksum) - z) / (2.0 * (1.0 - z)) for s, p in implied.items()}


def _shin_fair(implied: Mapping[str, float]) -> dict[str, float]:
    booksum = sum(implied.values())
    if booksum <= 1.0:
        return {s: p / booksum for s, p in implied.items()}
    # Σ p_i(z) falls from √booksum ≥ 1 at z = 0 to Σ π_i²/booksum < 1 as z → 1: bisect.
    low, high = 0.0, 1.0 - 1e-12
    for _ in range(_BISECTION_STEPS):
        z = (low + high) / 2.0
        if sum(_shin_probabilities(implied, booksum, z).values()) > 1.0:
            low = z
        else:
            high = z
    fair = _shin_probabilities(implied, booksum, (low + high) / 2.0)
    total = sum(fair.values())
    return {s: p / total for s, p in fair.items()}


def fair_probabilities(prices: Mapping[str, Decimal], method: str = POWER) -> dict[str, float]:
    """The margin-free probabilities a book's prices imply, summing to 1."""
    return dict(_fair_probabilities(tuple(prices.items()), method))


# A match's opening book is the same at every recompute: solving it once per process takes
# the bisections (about 40 µs) off each recompute. Pure inputs, so the cache is exact.
@lru_cache(maxsize=4096)
def _fair_probabilities(prices: tuple[tuple[str, Decimal], ...], method: str) -> tuple[tuple[str, float], ...]:
    implied = {s: 1.0 / float(price) for s, price in prices}
    if method == POWER:
        return tuple(_power_fair(implied).items())
    if method == SHIN:
        return tuple(_shin_fair(implied).items())
    raise ValueError(f"Unknown margin method {method!r}; expected one of {MARGIN_METHODS}.")


def _largest_rounding_gap() -> float:
    """The most a snap down the ladder can add to one selection's implied probability."""
    gaps = [1.0 / float(low) - 1.0 / float(high) for low, high in pairwise(LADDER)]
    return max(*gaps, 1.0 / float(MAX_PRICE))


LARGEST_ROUNDING_GAP = _largest_rounding_gap()  # 1/1.01 - 1/1.02 ≈ 0.0097


def ladder_rounding_allowance(selections: int) -> float:
    """An upper bound on how far snapping a book of `selections` prices down the ladder can
    raise its overround: each selection gains less than the widest gap between two
    neighbouring ladder prices (or the cap at 1000)."""
    return selections * LARGEST_ROUNDING_GAP


def price_for_implied(implied: float) -> Decimal:
    """The ladder price for an implied probability, rounded in the house's favour (down).

    The raw price is first rounded to six places so that float noise (1/(1/2.1) =
    2.0999999999999996) does not cost a whole tick; the house gives away at most 1e-6.
    """
    if implied <= 0.0:
        return MAX_PRICE
    raw = Decimal(1.0 / implied).quantize(_SIX_PLACES)
    return min(max(snap_down(raw), MIN_PRICE), MAX_PRICE)


LADDER_FLOATS = np.array([float(price) for price in LADDER])


def ladder_indexes_for_implied(implied: npt.NDArray[np.float64]) -> npt.NDArray[np.intp]:
    """`price_for_implied` for a whole array at once: the index in LADDER of each price.

    The same rounding: the raw price to six places (both sides of the comparison are then
    the double nearest a decimal, so an exact ladder price compares equal), then down.
    """
    positive = implied > 0.0
    raw = np.round(1.0 / np.where(positive, implied, 1.0), 6)
    indexes = np.searchsorted(LADDER_FLOATS, raw, side="right") - 1
    return np.where(positive, np.clip(indexes, 0, len(LADDER) - 1), len(LADDER) - 1)


def implied_with_margin(weights: Mapping[Selection, float], book: float) -> dict[Selection, float]:
    """Implied probabilities proportional to `weights`, summing to `book` (the overround).

    A selection that would price below the shortest ladder price (1.01) is held there and
    the part of the book it cannot carry goes to the others in proportion: the book never
    sums to less than `book` because of the floor.
    """
    held: dict[Selection, float] = {}
    while True:
        free = {s: w for s, w in weights.items() if s not in held}
        free_total = sum(free.values())
        remaining = book - sum(held.values())
        if not free or free_total <= 0.0:
            return dict(held)
        implied = {s: w * remaining / free_total for s, w in free.items()}
        over_floor = [s for s, p in implied.items() if p > _MAX_IMPLIED]
        if not over_floor:
            return {**held, **implied}
        for s in over_floor:
            held[s] = _MAX_IMPLIED


def book_prices(weights: Mapping[str, float], book: float) -> dict[str, Decimal]:
    """Ladder prices for implied probabilities proportional to `weights` with overround `book`."""
    return {s: price_for_implied(p) for s, p in implied_with_margin(weights, book).items()}


def _rounding_envelope() -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The least concave majorant of what snapping down the ladder can add to one implied
    probability, as a function of that probability.

    A raw implied probability π just above 1/L[k+1] snaps to L[k] and gains almost
    1/L[k] - 1/L[k+1]; these corners (and (0, 0)) bound the gain from above, and so does
    their upper concave hull. Selections below the longest price are never priced (they close),
    so the cap at 1000 adds nothing here.
    """
    corners = sorted(
        [(0.0, 0.0), *((1.0 / float(high), 1.0 / float(low) - 1.0 / float(high)) for low, high in pairwise(LADDER))]
    )
    hull: list[tuple[float, float]] = []
    for point in corners:
        while len(hull) >= 2:
            (x1, y1), (x2, y2) = hull[-2], hull[-1]
            if (x2 - x1) * (point[1] - y1) - (y2 - y1) * (point[0] - x1) >= 0:
                hull.pop()
            else:
                break
        hull.append(point)
    return tuple(x for x, _ in hull), tuple(y for _, y in hull)


_ENVELOPE_X, _ENVELOPE_Y = _rounding_envelope()


def _envelope(probability: float) -> float:
    if probability >= _ENVELOPE_X[-1]:
        return _ENVELOPE_Y[-1]
    index = bisect_right(_ENVELOPE_X, probability)
    x1, x2 = _ENVELOPE_X[index - 1], _ENVELOPE_X[index]
    y1, y2 = _ENVELOPE_Y[index - 1], _ENVELOPE_Y[index]
    return y1 + (y2 - y1) * (probability - x1) / (x2 - x1)


def ladder_rounding_bound(selections: int, book: float) -> float:
    """An upper bound on how far snapping `selections` prices down the ladder can raise a book
    whose implied probabilities sum to `book`: by concavity of the envelope (Jensen), the
    gains sum to at most selections x envelope(book / selections). Tighter than
    `ladder_rounding_allowance` for many selections: 0.077 for a 26-selection book at 1.25
    against 26 x 0.0097 = 0.25."""
    return min(selections * _envelope(book / selections), ladder_rounding_allowance(selections))
