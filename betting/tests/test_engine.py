"""Properties of the odds engine (pure: no database)."""

import dataclasses
from decimal import Decimal
from math import exp

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from betting.engine.ladder import LADDER, is_on_ladder, snap_down, ticks_between
from betting.engine.margin import (
    POWER,
    SHIN,
    book_prices,
    fair_probabilities,
    ladder_rounding_allowance,
    overround,
)
from betting.engine.model import (
    NO_MONEY,
    SELECTIONS,
    BookTotals,
    EngineParams,
    compute_markets,
    compute_prices,
    compute_quote,
    posterior_probabilities,
    target_overround,
)
from betting.engine.scores import ScoreModel, fit_score_model

PARAMS = EngineParams(margin=Decimal("0.05"), margin_max=Decimal("0.10"), prior_liquidity=Decimal("2000"))
SHIN_PARAMS = EngineParams(
    margin=Decimal("0.05"),
    margin_max=Decimal("0.10"),
    prior_liquidity=Decimal("500"),
    liability_weight=Decimal("1"),
    margin_method=SHIN,
)
BOTH_METHODS = st.sampled_from([PARAMS, SHIN_PARAMS])

ladder_prices = st.sampled_from([p for p in LADDER if Decimal("1.05") <= p <= Decimal("40")])
money = st.decimals(min_value=0, max_value=100000, places=2, allow_nan=False, allow_infinity=False)
taken_odds = st.sampled_from([p for p in LADDER if p <= Decimal("50")])


@st.composite
def openings(draw: st.DrawFn, params: EngineParams = PARAMS) -> dict[str, Decimal]:
    """Opening books whose overround the engine keeps as it is (inside the band's usable part).

    Home and away are drawn from the ladder; the draw price is the ladder price closest to
    what makes the book's overround the target, so most draws are kept.
    """
    home, away = draw(ladder_prices), draw(ladder_prices)
    lowest = float(1 + params.margin)
    highest = float(1 + params.margin_max) - ladder_rounding_allowance(3)
    wanted = draw(st.floats(min_value=lowest, max_value=highest))
    remaining = wanted - 1 / float(home) - 1 / float(away)
    assume(remaining > 1 / 1000)
    draw_price = snap_down(Decimal(1 / remaining).quantize(Decimal("0.01")))
    opening = {"home": home, "draw": draw_price, "away": away}
    assume(lowest <= overround(opening) <= highest)
    return opening


@st.composite
def totals(draw: st.DrawFn) -> BookTotals:
    stakes = {s: draw(money) for s in SELECTIONS}
    payouts = {s: stakes[s] * draw(taken_odds) for s in SELECTIONS}
    return BookTotals(stakes=stakes, payouts=payouts)


def add_bet(book: BookTotals, selection: str, stake: Decimal, odds: Decimal) -> BookTotals:
    return BookTotals(
        stakes={**book.stakes, selection: book.stake(selection) + stake},
        payouts={**book.payouts, selection: book.payout(selection) + stake * odds},
    )


# --- Ladder ---------------------------------------------------------------------------


def test_ladder_bounds_and_steps() -> None:
    assert LADDER[0] == Decimal("1.01") and LADDER[-1] == Decimal("1000.00")
    assert Decimal("2.02") in LADDER and Decimal("2.01") not in LADDER
    assert snap_down(Decimal("2.03")) == Decimal("2.02")
    assert snap_down(Decimal("1.005")) == Decimal("1.01")
    assert list(LADDER) == sorted(set(LADDER))


# --- Margin removal -------------------------------------------------------------------


@pytest.mark.parametrize("method", [POWER, SHIN])
def test_fair_probabilities_sum_to_one_and_load_the_outsider(method: str) -> None:
    prices = {"home": Decimal("1.30"), "draw": Decimal("5.50"), "away": Decimal("11.0")}
    fair = fair_probabilities(prices, method)
    assert sum(fair.values()) == pytest.approx(1.0, abs=1e-12)
    proportional = {s: (1 / float(p)) / overround(prices) for s, p in prices.items()}
    # Both methods take more of the margin off the outsider than proportional removal does.
    assert fair["away"] < proportional["away"]
    assert fair["home"] > proportional["home"]


def test_shin_and_power_agree_on_a_fair_book() -> None:
    fair_book = {"home": Decimal("2.00"), "draw": Decimal("4.00"), "away": Decimal("4.00")}
    assert fair_probabilities(fair_book, POWER) == pytest.approx({"home": 0.5, "draw": 0.25, "away": 0.25})
    assert fair_probabilities(fair_book, SHIN) == pytest.approx({"home": 0.5, "draw": 0.25, "away": 0.25})


def test_unknown_method_and_unsafe_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="margin method"):
        EngineParams(margin_method="proportional")
    with pytest.raises(ValueError, match="margin_max"):
        EngineParams(margin=Decimal("0.05"), margin_max=Decimal("0.06"))
    with pytest.raises(ValueError, match="negative"):
        EngineParams(margin=Decimal("-0.01"))


def test_shortest_price_is_held_at_the_floor_and_the_rest_carries_the_book() -> None:
    prices = book_prices({"home": 0.995, "draw": 0.004, "away": 0.001}, 1.05)
    assert prices["home"] == Decimal("1.01")
    assert overround(prices) >= 1.05


# --- Properties of the 1X2 ------------------------------------------------------------


@given(BOTH_METHODS.flatmap(lambda p: st.tuples(st.just(p), openings(p), totals())))
def test_prices_on_ladder_and_overround_in_band(case: tuple[EngineParams, dict, BookTotals]) -> None:
    params, opening, book = case
    result = compute_prices(opening, book, params)
    assert all(is_on_ladder(result[s]) for s in SELECTIONS)
    lowest, highest = params.overround_band
    assert 1.0 <= lowest - 1e-9 <= overround(result) <= highest + 1e-9


@given(st.fixed_dictionaries(dict.fromkeys(SELECTIONS, ladder_prices)), totals())
def test_any_opening_book_never_quotes_below_the_margin(opening: dict, book: BookTotals) -> None:
    """Even a trader's book outside the band: once money arrives, the band's floor holds."""
    result = compute_prices(opening, book, PARAMS)
    assume(book.total_staked > 0)
    assert overround(result) >= PARAMS.overround_band[0] - 1e-9
    assert all(is_on_ladder(p) for p in result.values())


@settings(max_examples=300)
@given(
    BOTH_METHODS.flatmap(lambda p: st.tuples(st.just(p), openings(p), totals())),
    st.sampled_from(SELECTIONS),
    money.filter(lambda m: m > 0),
    taken_odds,
)
def test_more_money_never_lengthens_a_price(
    case: tuple[EngineParams, dict, BookTotals], selection: str, extra: Decimal, odds: Decimal
) -> None:
    params, opening, book = case
    before = compute_prices(opening, book, params)
    after = compute_prices(opening, add_bet(book, selection, extra, odds), params)
    assert after[selection] <= before[selection]


@given(openings(), st.sampled_from(SELECTIONS), money.filter(lambda m: m > 0), taken_odds)
def test_first_bet_never_lengthens_its_selection(opening: dict, selection: str, stake: Decimal, odds: Decimal) -> None:
    after = compute_prices(opening, add_bet(NO_MONEY, selection, stake, odds), PARAMS)
    assert after[selection] <= opening[selection]


@given(openings(), BOTH_METHODS)
def test_no_bets_gives_opening_prices(opening: dict, params: EngineParams) -> None:
    assert compute_prices(opening, NO_MONEY, params) == opening
    assert compute_prices(opening, BookTotals(stakes=dict.fromkeys(SELECTIONS, Decimal(0))), params) == opening


@given(openings(), totals(), BOTH_METHODS)
def test_deterministic(opening: dict, book: BookTotals, params: EngineParams) -> None:
    assert compute_quote(opening, book, params) == compute_quote(opening, book, params)


def test_liability_shortens_the_selection_the_book_would_lose_most_on() -> None:
    opening = {"home": Decimal("2.50"), "draw": Decimal("3.30"), "away": Decimal("2.90")}
    stakes = {"home": Decimal("300"), "away": Decimal("300")}
    # Same stakes, but the away money was taken at a much longer price: the book owes more if away wins.
    book = BookTotals(stakes=stakes, payouts={"home": Decimal("600"), "away": Decimal("1500")})
    without = compute_prices(opening, book, dataclasses.replace(PARAMS, liability_weight=Decimal(0)))
    with_liability = compute_prices(opening, book, PARAMS)
    assert with_liability["away"] < without["away"]
    assert with_liability["away"] < with_liability["home"]


@given(openings(), totals(), st.sampled_from(SELECTIONS), money.filter(lambda m: m > 0), st.integers(1, 5))
def test_max_move_limits_lengthening_and_keeps_the_margin(
    opening: dict, book: BookTotals, selection: str, extra: Decimal, ticks: int
) -> None:
    params = EngineParams(margin=Decimal("0.05"), margin_max=Decimal("0.10"), max_move_ticks=ticks)
    current = compute_prices(opening, book, params)
    moved = compute_prices(opening, add_bet(book, selection, extra, Decimal("2")), params, current=current)
    for s in SELECTIONS:
        assert ticks_between(current[s], moved[s]) <= ticks
    assert moved[selection] <= current[selection]
    assert overround(moved) >= params.overround_band[0] - 1e-9


def test_target_overround_follows_the_trader_inside_the_band() -> None:
    wide = {"home": Decimal("1.80"), "draw": Decimal("3.00"), "away": Decimal("3.00")}  # 122%
    thin = {"home": Decimal("2.10"), "draw": Decimal("3.60"), "away": Decimal("4.20")}  # 99.6%
    assert target_overround(wide, PARAMS) == pytest.approx(1.10 - ladder_rounding_allowance(3))
    assert target_overround(thin, PARAMS) == pytest.approx(1.05)


# --- The score model and the derived markets ------------------------------------------

realistic_outcomes = st.tuples(
    st.floats(min_value=0.08, max_value=0.85), st.floats(min_value=0.15, max_value=0.40)
).filter(lambda hd: hd[0] + hd[1] <= 0.95)


@given(realistic_outcomes)
def test_score_model_reproduces_the_1x2(home_draw: tuple[float, float]) -> None:
    home, draw = home_draw
    outcome = {"home": home, "draw": draw, "away": 1 - home - draw}
    fitted = fit_score_model(outcome).outcome_probabilities()
    assert fitted == pytest.approx(outcome, abs=1e-6)


@given(openings(), totals())
def test_derived_markets_come_from_one_score_distribution(opening: dict, book: BookTotals) -> None:
    posterior = posterior_probabilities(opening, book, PARAMS)
    model = fit_score_model(posterior)
    fair = model.market_probabilities()
    for market in fair.values():
        assert sum(market.values()) == pytest.approx(1.0, abs=1e-12)
    quote = compute_quote(opening, book, PARAMS)
    assert quote.markets == compute_markets(posterior, PARAMS)
    for name, prices in quote.markets.items():
        assert all(is_on_ladder(p) for p in prices.values())
        lowest, highest = PARAMS.overround_band
        assert lowest - 1e-9 <= overround(prices) <= highest + 1e-9
        # Each derived price carries a margin over that distribution's fair probability,
        # except at the ladder's floor (1.01), which cannot go shorter.
        for selection, price in prices.items():
            assert price == LADDER[0] or 1 / float(price) >= fair[name][selection]


def test_derived_markets_by_hand_for_a_known_distribution() -> None:
    model = ScoreModel(1.5, 1.0)

    p_home = [exp(-1.5) * 1.5**k / [1, 1, 2][k] for k in range(3)]
    p_away = [exp(-1.0) * 1.0**k / [1, 1, 2][k] for k in range(3)]
    under = sum(p_home[h] * p_away[a] for h in range(3) for a in range(3 - h))
    assert model.total_goals_at_most(2) == pytest.approx(under, rel=1e-9)
    assert model.both_teams_score() == pytest.approx((1 - exp(-1.5)) * (1 - exp(-1.0)), rel=1e-9)


def test_more_home_money_means_a_shorter_home_win_and_no_market_drifts_wildly() -> None:
    opening = {"home": Decimal("2.10"), "draw": Decimal("3.40"), "away": Decimal("3.50")}
    quiet = compute_quote(opening, NO_MONEY, PARAMS)
    busy = compute_quote(opening, add_bet(NO_MONEY, "home", Decimal("500"), Decimal("2.10")), PARAMS)
    assert busy.prices["home"] < quiet.prices["home"]
    assert set(busy.markets) == {"over_under_2_5", "both_teams_to_score"}
    assert set(busy.markets["over_under_2_5"]) == {"over", "under"}
    assert set(busy.markets["both_teams_to_score"]) == {"yes", "no"}
