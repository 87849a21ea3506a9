"""The Betfair decimal price ladder: the only prices the book ever quotes.

Between each pair of bounds below, prices step by a fixed increment. Every price is held
as a `Decimal` with two places.
"""

from bisect import bisect_right
from decimal import Decimal

MIN_PRICE = Decimal("1.01")
MAX_PRICE = Decimal("1000")

# (lower bound, upper bound, step)
LADDER_BANDS: tuple[tuple[Decimal, Decimal, Decimal], ...] = tuple(
    (Decimal(lo), Decimal(hi), Decimal(step))
    for lo, hi, step in (
        ("1.01", "2", "0.01"),
        ("2", "3", "0.02"),
        ("3", "4", "0.05"),
        ("4", "6", "0.1"),
        ("6", "10", "0.2"),
        ("10", "20", "0.5"),
        ("20", "30", "1"),
        ("30", "50", "2"),
        ("50", "100", "5"),
        ("100", "1000", "10"),
    )
)


def _build_ladder() -> tuple[Decimal, ...]:
    prices: list[Decimal] = []
    for lo, hi, step in LADDER_BANDS:
        price = lo
        while price < hi:
            prices.append(price.quantize(Decimal("0.01")))
            price += step
    prices.append(MAX_PRICE.quantize(Decimal("0.01")))
    return tuple(prices)


LADDER: tuple[Decimal, ...] = _build_ladder()
_LADDER_SET = frozenset(LADDER)


def is_on_ladder(price: Decimal) -> bool:
    return price in _LADDER_SET


def snap_down(price: Decimal) -> Decimal:
    """The highest ladder price not above `price` (the house's side: shorter odds pay less)."""
    if price <= LADDER[0]:
        return LADDER[0]
    index = bisect_right(LADDER, price) - 1
    return LADDER[min(index, len(LADDER) - 1)]


def ticks_between(a: Decimal, b: Decimal) -> int:
    """Signed number of ladder steps from `a` to `b` (both on the ladder)."""
    return LADDER.index(snap_down(b)) - LADDER.index(snap_down(a))


def move_by_ticks(price: Decimal, ticks: int) -> Decimal:
    index = LADDER.index(snap_down(price)) + ticks
    return LADDER[max(0, min(index, len(LADDER) - 1))]
