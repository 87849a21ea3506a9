"""Accumulator settlement rules, table-driven, to the cent: the pure engine function."""

from decimal import Decimal

import pytest

from betting.engine.accumulators import OPEN, accumulator_outcome, combined_odds
from betting.engine.markets import LOST, VOID, WON

D = Decimal

# (legs as (outcome, price), stake) → (status, payout). Payouts round down to the cent.
CASES = [
    # every leg won: stake x the product, rounded down to the cent
    ([(WON, D("2.10")), (WON, D("1.90"))], D("10.00"), (WON, D("39.90"))),
    ([(WON, D("2.10")), (WON, D("3.40"))], D("10.00"), (WON, D("71.40"))),
    ([(WON, D("1.01")), (WON, D("1.01"))], D("0.10"), (WON, D("0.10"))),  # 1.0201 → 1.02; 0.102 → 0.10
    ([(WON, D("1.33")), (WON, D("1.33")), (WON, D("1.33"))], D("7.77"), (WON, D("18.25"))),  # 2.352637 → 2.35
    ([(WON, D("2.10")), (WON, D("1.90")), (WON, D("3.50"))], D("3.33"), (WON, D("46.48"))),  # 13.965 → 13.96; 46.4868
    ([(WON, D("1.50"))] * 10, D("1.00"), (WON, D("57.66"))),  # 1.5**10 = 57.665 → 57.66
    ([(WON, D("2.00"))] * 10, D("1.00"), (WON, D("1000.00"))),  # 1024 capped at 1000
    ([(WON, D("40.00")), (WON, D("30.00"))], D("2.50"), (WON, D("2500.00"))),  # 1200 capped at 1000
    ([(WON, D("31.62")), (WON, D("31.62"))], D("1.00"), (WON, D("999.82"))),  # 999.8244 → 999.82, under the cap
    ([(WON, D("10.00")), (WON, D("100.00"))], D("0.15"), (WON, D("150.00"))),  # exactly 1000
    ([(WON, D("1.07")), (WON, D("1.07"))], D("9999.99"), (WON, D("11399.98"))),  # 1.1449 → 1.14; 11399.9886
    # one leg lost: lost at once, whatever is still open
    ([(LOST, D("2.10")), (OPEN, D("1.90"))], D("10.00"), (LOST, D("0.00"))),
    ([(OPEN, D("2.10")), (LOST, D("1.90")), (OPEN, D("3.00"))], D("10.00"), (LOST, D("0.00"))),
    ([(WON, D("2.10")), (LOST, D("1.90"))], D("10.00"), (LOST, D("0.00"))),
    ([(VOID, D("2.10")), (LOST, D("1.90"))], D("10.00"), (LOST, D("0.00"))),
    ([(LOST, D("2.10")), (LOST, D("1.90"))], D("10.00"), (LOST, D("0.00"))),
    ([(WON, D("2.00"))] * 9 + [(LOST, D("2.00"))], D("5.00"), (LOST, D("0.00"))),
    # undecided while a leg is open and none lost
    ([(OPEN, D("2.10")), (OPEN, D("1.90"))], D("10.00"), (OPEN, None)),
    ([(WON, D("2.10")), (OPEN, D("1.90"))], D("10.00"), (OPEN, None)),
    ([(VOID, D("2.10")), (OPEN, D("1.90"))], D("10.00"), (OPEN, None)),
    ([(WON, D("2.00"))] * 9 + [(OPEN, D("2.00"))], D("5.00"), (OPEN, None)),
    # a void leg counts 1.00
    ([(VOID, D("2.10")), (WON, D("1.90"))], D("10.00"), (WON, D("19.00"))),
    ([(WON, D("2.10")), (VOID, D("1.90"))], D("10.00"), (WON, D("21.00"))),
    ([(WON, D("2.10")), (VOID, D("1.90")), (WON, D("3.40"))], D("10.00"), (WON, D("71.40"))),
    ([(VOID, D("2.10")), (VOID, D("1.90")), (WON, D("1.01"))], D("10.00"), (WON, D("10.10"))),
    ([(VOID, D("1.33")), (WON, D("1.33")), (WON, D("1.33"))], D("7.77"), (WON, D("13.67"))),  # 1.7689 → 1.76
    ([(VOID, D("40.00")), (WON, D("40.00")), (WON, D("30.00"))], D("1.00"), (WON, D("1000.00"))),  # still capped
    ([(VOID, D("40.00")), (WON, D("20.00")), (WON, D("30.00"))], D("1.00"), (WON, D("600.00"))),  # cap no longer binds
    # every leg void: the stake back
    ([(VOID, D("2.10")), (VOID, D("1.90"))], D("10.00"), (VOID, D("10.00"))),
    ([(VOID, D("2.10"))] * 10, D("0.10"), (VOID, D("0.10"))),
    ([(VOID, D("5.00")), (VOID, D("5.00")), (VOID, D("5.00"))], D("123.45"), (VOID, D("123.45"))),
    # a correction changes one leg: the same function gives the new settlement
    ([(WON, D("2.10")), (WON, D("1.90")), (WON, D("3.40"))], D("10.00"), (WON, D("135.60"))),  # 13.566 → 13.56
    ([(WON, D("2.10")), (LOST, D("1.90")), (WON, D("3.40"))], D("10.00"), (LOST, D("0.00"))),  # corrected to lost
    ([(WON, D("2.10")), (VOID, D("1.90")), (WON, D("3.40"))], D("10.00"), (WON, D("71.40"))),  # corrected to void
]


@pytest.mark.parametrize(("legs", "stake", "expected"), CASES)
def test_an_accumulator_settles_from_its_legs_to_the_cent(legs, stake, expected) -> None:
    assert accumulator_outcome(legs, stake) == expected


def test_the_table_has_at_least_thirty_cases_with_voids_and_corrections() -> None:
    assert len(CASES) >= 30
    assert sum(any(o == VOID for o, _ in legs) for legs, _, _ in CASES) >= 10


@pytest.mark.parametrize(
    ("prices", "expected"),
    [
        ([D("2.10"), D("1.90")], D("3.99")),
        ([D("1.33"), D("1.33"), D("1.33")], D("2.35")),  # 2.352637 rounded down
        ([D("2.00")] * 10, D("1000")),  # capped
        ([D("1000"), D("1.01")], D("1000")),
    ],
)
def test_combined_odds_are_the_product_rounded_down_and_capped(prices, expected) -> None:
    assert combined_odds(prices) == expected


def test_an_unknown_leg_outcome_is_refused() -> None:
    with pytest.raises(ValueError, match="Unknown leg outcomes"):
        accumulator_outcome([("pending", D("2.00")), (WON, D("2.00"))], D("1.00"))
