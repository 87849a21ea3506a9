"""Properties of the first odds model (pure: no database)."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from betting.engine.ladder import LADDER, is_on_ladder, snap_down
from betting.engine.model import SELECTIONS, EngineParams, compute_prices, overround

PARAMS = EngineParams(margin=Decimal("0.05"), prior_liquidity=Decimal("2000"))

prices = st.sampled_from([p for p in LADDER if Decimal("1.2") <= p <= Decimal("15")])
money = st.decimals(min_value=0, max_value=100000, places=2, allow_nan=False, allow_infinity=False)


def openings() -> st.SearchStrategy[dict[str, Decimal]]:
    return st.fixed_dictionaries(dict.fromkeys(SELECTIONS, prices)).filter(lambda p: overround(p) >= 1.0)


def test_ladder_bounds_and_steps() -> None:
    assert LADDER[0] == Decimal("1.01") and LADDER[-1] == Decimal("1000.00")
    assert Decimal("2.02") in LADDER and Decimal("2.01") not in LADDER
    assert snap_down(Decimal("2.03")) == Decimal("2.02")
    assert snap_down(Decimal("1.005")) == Decimal("1.01")
    assert list(LADDER) == sorted(set(LADDER))


@given(openings(), st.fixed_dictionaries(dict.fromkeys(SELECTIONS, money)))
def test_prices_on_ladder_and_overround_at_least_one(opening: dict, stakes: dict) -> None:
    result = compute_prices(opening, stakes, PARAMS)
    assert all(is_on_ladder(result[s]) for s in SELECTIONS)
    assert overround(result) >= 1.0


@given(openings(), st.fixed_dictionaries(dict.fromkeys(SELECTIONS, money)), st.sampled_from(SELECTIONS), money)
def test_more_money_never_lengthens_a_price(opening: dict, stakes: dict, selection: str, extra: Decimal) -> None:
    before = compute_prices(opening, stakes, PARAMS)
    after = compute_prices(opening, {**stakes, selection: stakes[selection] + extra}, PARAMS)
    assert after[selection] <= before[selection]


@given(openings())
def test_no_bets_gives_opening_prices(opening: dict) -> None:
    assert compute_prices(opening, {}, PARAMS) == opening


@given(openings(), st.fixed_dictionaries(dict.fromkeys(SELECTIONS, money)))
def test_deterministic(opening: dict, stakes: dict) -> None:
    assert compute_prices(opening, stakes, PARAMS) == compute_prices(opening, stakes, PARAMS)
