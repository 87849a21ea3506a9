"""The multi-market engine's catalogue, settlement rules and prices (pure: no database).

Properties of the money's move over every market are in test_engine_book.py.
"""

import subprocess
import sys
from decimal import Decimal
from math import exp, factorial

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from betting.engine.book import (
    DEFAULT_BOOK_PARAMS,
    BookParams,
    MarketParams,
    SelectionClosed,
    checked_distribution,
    market_probabilities,
    price_markets,
)
from betting.engine.ladder import LADDER
from betting.engine.margin import ladder_indexes_for_implied, ladder_rounding_bound, price_for_implied
from betting.engine.markets import (
    CORRECT_SCORE_SELECTIONS,
    FIXED_MARKETS,
    GRID,
    LOST,
    VOID,
    WON,
    Market,
    UnknownMarket,
    asian_handicap,
    asian_handicap_lines,
    grade,
    main_asian_handicap_line,
    market,
    match_markets,
    settlement_amount,
)


def poisson_matrix(home_mean: float, away_mean: float) -> np.ndarray:
    home = np.array([exp(-home_mean) * home_mean**k / factorial(k) for k in range(GRID)])
    away = np.array([exp(-away_mean) * away_mean**k / factorial(k) for k in range(GRID)])
    matrix = np.outer(home, away)
    return matrix / matrix.sum()


def in_play_matrix(home_now: int, away_now: int, home_rest: float, away_rest: float) -> np.ndarray:
    """The final score's distribution at `home_now`-`away_now` with Poisson goals still to come."""
    rest = poisson_matrix(home_rest, away_rest)
    final = np.zeros((GRID, GRID))
    final[home_now:, away_now:] = rest[: GRID - home_now, : GRID - away_now]
    return final / final.sum()


TYPICAL = poisson_matrix(1.6, 1.1)
MARKETS = match_markets(asian_handicap_lines(TYPICAL))


# --- Catalogue and keys ---------------------------------------------------------------


def test_the_catalogue_has_every_market_of_the_issue_with_stable_keys() -> None:
    assert [m.key for m in MARKETS] == [
        "1x2",
        "double_chance",
        "draw_no_bet",
        "over_under_0_5",
        "over_under_1_5",
        "over_under_2_5",
        "over_under_3_5",
        "over_under_4_5",
        "both_teams_to_score",
        "correct_score",
        "asian_handicap_minus_2_5",
        "asian_handicap_minus_1_5",
        "asian_handicap_minus_0_5",
        "asian_handicap_plus_0_5",
        "asian_handicap_plus_1_5",
    ]
    assert len(CORRECT_SCORE_SELECTIONS) == 26
    assert CORRECT_SCORE_SELECTIONS[0] == "0-0" and CORRECT_SCORE_SELECTIONS[-2:] == ("4-4", "other")


@pytest.mark.parametrize("one", [*FIXED_MARKETS, *(asian_handicap(line) for line in (-9.5, -0.5, 0.5, 3.5))])
def test_a_key_names_its_market(one: Market) -> None:
    assert market(one.key) == one


@pytest.mark.parametrize(
    "key",
    [
        "",
        "1X2",
        "over_under_5_5",
        "over_under_2",
        "asian_handicap_minus_1",
        "asian_handicap_minus_1_0",
        "asian_handicap_plus_0_50",
        "asian_handicap_minus_10_5",
        "asian_handicap_zero_0_5",
        "asian_handicap_minus_",
        "asian_handicap_minus_x_5",
        "correct_score_1-0",
    ],
)
def test_unknown_keys_are_refused(key: str) -> None:
    with pytest.raises(UnknownMarket):
        market(key)


def test_main_asian_line_is_the_one_closest_to_an_even_bet() -> None:
    assert main_asian_handicap_line(poisson_matrix(1.3, 1.3)) == -0.5  # P(home covers -0.5) ≈ 0.37; +0.5 ≈ 0.63
    assert main_asian_handicap_line(poisson_matrix(3.2, 0.6)) == -2.5
    assert main_asian_handicap_line(poisson_matrix(0.6, 2.4)) == 1.5
    assert asian_handicap_lines(poisson_matrix(3.2, 0.6)) == (-4.5, -3.5, -2.5, -1.5, -0.5)
    # A line is a half goal, whatever the model says, and never past the grid.
    assert all((line * 2) % 2 == 1 for line in asian_handicap_lines(poisson_matrix(9.0, 0.05)))
    assert max(abs(line) for line in asian_handicap_lines(poisson_matrix(9.0, 0.05))) <= 9.5


# --- Settlement rules, table-driven ---------------------------------------------------

SETTLEMENT_TABLE = [
    # market, selection, final score, outcome
    ("1x2", "home", (2, 1), WON),
    ("1x2", "home", (1, 1), LOST),
    ("1x2", "draw", (0, 0), WON),
    ("1x2", "draw", (3, 2), LOST),
    ("1x2", "away", (0, 1), WON),
    ("1x2", "away", (4, 0), LOST),
    ("double_chance", "home_or_draw", (1, 0), WON),
    ("double_chance", "home_or_draw", (2, 2), WON),
    ("double_chance", "home_or_draw", (0, 1), LOST),
    ("double_chance", "home_or_away", (3, 1), WON),
    ("double_chance", "home_or_away", (1, 2), WON),
    ("double_chance", "home_or_away", (1, 1), LOST),
    ("double_chance", "draw_or_away", (0, 0), WON),
    ("double_chance", "draw_or_away", (0, 2), WON),
    ("double_chance", "draw_or_away", (1, 0), LOST),
    ("draw_no_bet", "home", (2, 0), WON),
    ("draw_no_bet", "home", (1, 1), VOID),
    ("draw_no_bet", "home", (0, 1), LOST),
    ("draw_no_bet", "away", (0, 3), WON),
    ("draw_no_bet", "away", (0, 0), VOID),
    ("draw_no_bet", "away", (2, 1), LOST),
    ("over_under_0_5", "over", (1, 0), WON),
    ("over_under_0_5", "under", (0, 0), WON),
    ("over_under_0_5", "over", (0, 0), LOST),
    ("over_under_1_5", "over", (1, 1), WON),
    ("over_under_1_5", "under", (1, 0), WON),
    ("over_under_2_5", "over", (2, 1), WON),
    ("over_under_2_5", "over", (1, 1), LOST),
    ("over_under_2_5", "under", (2, 0), WON),
    ("over_under_2_5", "under", (0, 3), LOST),
    ("over_under_3_5", "under", (2, 1), WON),
    ("over_under_3_5", "over", (4, 0), WON),
    ("over_under_4_5", "under", (2, 2), WON),
    ("over_under_4_5", "over", (3, 2), WON),
    ("over_under_4_5", "over", (12, 0), WON),
    ("both_teams_to_score", "yes", (1, 1), WON),
    ("both_teams_to_score", "yes", (3, 0), LOST),
    ("both_teams_to_score", "no", (0, 0), WON),
    ("both_teams_to_score", "no", (0, 2), WON),
    ("both_teams_to_score", "no", (1, 2), LOST),
    ("correct_score", "0-0", (0, 0), WON),
    ("correct_score", "2-1", (2, 1), WON),
    ("correct_score", "2-1", (1, 2), LOST),
    ("correct_score", "4-4", (4, 4), WON),
    ("correct_score", "other", (4, 4), LOST),
    ("correct_score", "other", (5, 0), WON),
    ("correct_score", "other", (0, 5), WON),
    ("correct_score", "other", (5, 5), WON),
    ("correct_score", "4-0", (5, 0), LOST),
    ("asian_handicap_minus_0_5", "home", (1, 0), WON),
    ("asian_handicap_minus_0_5", "home", (1, 1), LOST),
    ("asian_handicap_minus_0_5", "away", (1, 1), WON),
    ("asian_handicap_minus_1_5", "home", (2, 0), WON),
    ("asian_handicap_minus_1_5", "home", (2, 1), LOST),
    ("asian_handicap_minus_1_5", "away", (2, 1), WON),
    ("asian_handicap_minus_1_5", "away", (3, 1), LOST),
    ("asian_handicap_plus_0_5", "home", (1, 1), WON),
    ("asian_handicap_plus_0_5", "home", (0, 1), LOST),
    ("asian_handicap_plus_1_5", "home", (0, 1), WON),
    ("asian_handicap_plus_1_5", "away", (0, 2), WON),
    ("asian_handicap_plus_2_5", "away", (0, 3), WON),
    ("asian_handicap_plus_2_5", "home", (0, 2), WON),
    ("asian_handicap_minus_3_5", "home", (4, 0), WON),
    ("asian_handicap_minus_3_5", "away", (3, 0), WON),
]


@pytest.mark.parametrize(("market_key", "selection", "score", "expected"), SETTLEMENT_TABLE)
def test_settlement_rules(market_key: str, selection: str, score: tuple[int, int], expected: str) -> None:
    assert grade(market_key, selection, *score) == expected


def test_every_market_is_in_the_settlement_table() -> None:
    tabled = {(m, s) for m, s, _, _ in SETTLEMENT_TABLE}
    for one in FIXED_MARKETS:
        if one.key == "correct_score":
            continue  # 26 selections: the grid test below covers each
        assert {(one.key, s) for s in one.selections} <= tabled, one.key


@pytest.mark.parametrize("one", MARKETS, ids=lambda m: m.key)
def test_exactly_one_selection_wins_on_every_score_unless_void(one: Market) -> None:
    """No score leaves a market without a winner or with two (double chance: two of three)."""
    for home in range(13):
        for away in range(13):
            outcomes = [one.outcome(s, home, away) for s in one.selections]
            if VOID in outcomes:
                assert set(outcomes) == {VOID}, (one.key, home, away)
            else:
                assert outcomes.count(WON) == one.covers_each_score, (one.key, home, away)


def test_grading_refuses_what_it_does_not_know() -> None:
    with pytest.raises(UnknownMarket):
        grade("1x2", "over", 1, 0)
    with pytest.raises(UnknownMarket):
        grade("total_corners", "over", 1, 0)
    with pytest.raises(ValueError, match="negative"):
        grade("1x2", "home", -1, 0)


@pytest.mark.parametrize(
    ("outcome", "stake", "odds", "credited"),
    [
        (WON, "10.00", "2.50", "25.00"),
        (WON, "3.33", "1.07", "3.56"),  # 3.5631: rounded down to the cent
        (WON, "0.01", "1.01", "0.01"),
        (VOID, "12.34", "7.20", "12.34"),
        (LOST, "50.00", "1.90", "0.00"),
    ],
)
def test_settlement_amount(outcome: str, stake: str, odds: str, credited: str) -> None:
    assert settlement_amount(outcome, Decimal(stake), Decimal(odds)) == Decimal(credited)


def test_settlement_amount_refuses_an_unknown_outcome() -> None:
    with pytest.raises(ValueError, match="Unknown outcome"):
        settlement_amount("push", Decimal(1), Decimal(2))


# --- Fair probabilities: every market read from one matrix ---------------------------


def test_fair_probabilities_are_consistent_across_markets() -> None:
    fair = market_probabilities(TYPICAL, MARKETS)
    home, draw, away = (fair["1x2"][s] for s in ("home", "draw", "away"))
    assert home + draw + away == pytest.approx(1.0, abs=1e-12)
    assert fair["double_chance"] == pytest.approx(
        {"home_or_draw": home + draw, "home_or_away": home + away, "draw_or_away": draw + away}, abs=1e-12
    )
    assert fair["draw_no_bet"] == pytest.approx({"home": home / (home + away), "away": away / (home + away)})
    assert fair["asian_handicap_minus_0_5"]["home"] == pytest.approx(home, abs=1e-12)
    assert fair["asian_handicap_plus_0_5"]["away"] == pytest.approx(away, abs=1e-12)
    assert sum(fair["correct_score"].values()) == pytest.approx(1.0, abs=1e-12)
    assert fair["correct_score"]["0-0"] == pytest.approx(fair["over_under_0_5"]["under"], abs=1e-12)
    assert fair["both_teams_to_score"]["no"] == pytest.approx(
        TYPICAL[0, :].sum() + TYPICAL[:, 0].sum() - TYPICAL[0, 0], abs=1e-12
    )
    for line in ("0_5", "1_5", "2_5", "3_5", "4_5"):
        over_under = fair[f"over_under_{line}"]
        assert over_under["over"] + over_under["under"] == pytest.approx(1.0, abs=1e-12)
    # Totals fall as the line rises.
    overs = [fair[f"over_under_{line}"]["over"] for line in ("0_5", "1_5", "2_5", "3_5", "4_5")]
    assert overs == sorted(overs, reverse=True)


def test_fair_probabilities_by_hand_for_independent_poisson_goals() -> None:
    fair = market_probabilities(poisson_matrix(1.5, 1.0), MARKETS)
    assert fair["both_teams_to_score"]["yes"] == pytest.approx((1 - exp(-1.5)) * (1 - exp(-1.0)), abs=1e-6)
    under_2_5 = sum(exp(-2.5) * 2.5**k / factorial(k) for k in range(3))  # the total is Poisson(2.5)
    assert fair["over_under_2_5"]["under"] == pytest.approx(under_2_5, abs=1e-6)
    assert fair["correct_score"]["1-1"] == pytest.approx(1.5 * exp(-1.5) * 1.0 * exp(-1.0), abs=1e-6)


@pytest.mark.parametrize(
    "bad",
    [np.ones((10, 10)) / 100, np.zeros((GRID, GRID)), np.eye(GRID)],
)
def test_a_matrix_that_is_not_a_distribution_is_refused(bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match="score distribution"):
        checked_distribution(bad)


def test_a_matrix_with_a_negative_or_missing_probability_is_refused() -> None:
    negative = TYPICAL.copy()
    negative[0, 0], negative[1, 1] = -0.01, negative[1, 1] + 0.01 + negative[0, 0]
    not_a_number = TYPICAL.copy()
    not_a_number[5, 5] = np.nan
    for bad in (negative, not_a_number):
        with pytest.raises(ValueError, match="score distribution"):
            price_markets(bad, MARKETS)


# --- Prices ---------------------------------------------------------------------------


def test_prices_are_on_the_ladder_and_in_each_markets_band() -> None:
    quotes = price_markets(TYPICAL, MARKETS)
    for key, quote in quotes.items():
        assert all(price in LADDER for price in quote.prices.values()), key
        lowest, highest = DEFAULT_BOOK_PARAMS.for_market(quote.market).overround_band
        assert quote.overround is not None
        assert lowest - 1e-9 <= quote.overround <= highest + 1e-9, key


def test_typical_match_prices() -> None:
    """A 1.6 - 1.1 goals match, priced by hand with a 5% margin on the 1X2."""
    quotes = price_markets(TYPICAL, MARKETS)
    fair = market_probabilities(TYPICAL, MARKETS)["1x2"]
    assert quotes["1x2"].prices == {s: price_for_implied(fair[s] * 1.05) for s in ("home", "draw", "away")}
    assert quotes["1x2"].prices == {"home": Decimal("1.94"), "draw": Decimal("3.80"), "away": Decimal("3.60")}
    assert quotes["over_under_2_5"].prices == {"over": Decimal("1.88"), "under": Decimal("1.92")}
    assert quotes["asian_handicap_minus_0_5"].prices == {"home": Decimal("1.96"), "away": Decimal("1.88")}


def test_no_price_is_longer_than_its_fair_price() -> None:
    """Every open price carries a margin over the one distribution's probability, so no set of
    bets across markets can cover every score for less than it pays (no arbitrage)."""
    for matrix in (TYPICAL, poisson_matrix(3.5, 0.3), in_play_matrix(2, 0, 0.3, 0.2)):
        for quote in price_markets(matrix, MARKETS).values():
            for selection, price in quote.prices.items():
                if price is not None:
                    assert 1 / float(price) >= quote.probabilities[selection] - 1e-12


def test_each_market_kind_has_its_own_margin() -> None:
    wider = dict(DEFAULT_BOOK_PARAMS.markets)
    wider["correct_score"] = MarketParams(Decimal("0.30"), Decimal("0.40"), Decimal("1000"))
    quotes = price_markets(TYPICAL, MARKETS, params=BookParams(markets=wider))
    default = price_markets(TYPICAL, MARKETS)
    assert quotes["1x2"] == default["1x2"]
    assert quotes["correct_score"].overround is not None
    assert quotes["correct_score"].overround >= 1.30


def test_unsafe_parameters_are_refused() -> None:
    markets = dict(DEFAULT_BOOK_PARAMS.markets)
    with pytest.raises(ValueError, match="liquidity"):
        BookParams(liquidity=Decimal(0))
    with pytest.raises(ValueError, match="missing"):
        BookParams(markets={k: v for k, v in markets.items() if k != "correct_score"})
    narrow = {**markets, "correct_score": MarketParams(Decimal("0.15"), Decimal("0.18"), Decimal("5000"))}
    with pytest.raises(ValueError, match="correct_score margin_max"):
        BookParams(markets=narrow)
    negative = {**markets, "1x2": MarketParams(Decimal("-0.01"), Decimal("0.05"), Decimal("5000"))}
    with pytest.raises(ValueError, match="negative"):
        BookParams(markets=negative)


def test_no_money_gives_the_same_prices_every_time() -> None:
    first = price_markets(TYPICAL, MARKETS)
    assert price_markets(TYPICAL.copy(), MARKETS) == first
    assert price_markets(TYPICAL, MARKETS, money={}) == first


# --- Closed selections in play --------------------------------------------------------


def test_in_play_what_has_happened_or_cannot_happen_is_closed() -> None:
    two_one = in_play_matrix(2, 1, 0.4, 0.3)  # 2-1 with about a quarter of the match left
    quotes = price_markets(two_one, MARKETS)
    # Three goals are in: over 2.5 has won and under cannot; both teams have scored.
    for key in ("over_under_0_5", "over_under_1_5", "over_under_2_5", "both_teams_to_score"):
        assert quotes[key].prices == dict.fromkeys(quotes[key].market.selections), key
        assert not quotes[key].is_open
        assert quotes[key].overround is None
    assert quotes["over_under_3_5"].is_open
    # A score already passed cannot be the final one.
    for score in ("0-0", "1-0", "0-1", "1-1", "2-0", "0-2", "0-3", "1-4"):
        assert quotes["correct_score"].prices[score] is None, score
    assert quotes["correct_score"].prices["2-1"] is not None
    assert quotes["correct_score"].prices["3-1"] is not None
    assert all(price is None or price in LADDER for price in quotes["correct_score"].prices.values())


def test_a_near_certain_selection_is_closed_and_the_rest_still_carry_their_margin() -> None:
    late_lead = in_play_matrix(3, 0, 0.05, 0.05)
    quotes = price_markets(late_lead, MARKETS)
    one_x_two = quotes["1x2"]
    assert one_x_two.probabilities["home"] > 0.99
    assert one_x_two.prices["home"] is None
    assert one_x_two.prices["draw"] is None or 1 / float(one_x_two.prices["draw"]) >= one_x_two.probabilities["draw"]
    assert quotes["double_chance"].prices["home_or_draw"] is None
    assert quotes["double_chance"].prices["home_or_away"] is None


def test_full_time_closes_every_market() -> None:
    final = np.zeros((GRID, GRID))
    final[2, 2] = 1.0
    quotes = price_markets(final, MARKETS)
    assert not any(quote.is_open for quote in quotes.values())
    assert quotes["draw_no_bet"].prices == {"home": None, "away": None}
    with pytest.raises(SelectionClosed):
        quotes["correct_score"].open_price("2-2")


def test_open_price_names_the_price_or_refuses() -> None:
    quote = price_markets(TYPICAL, MARKETS)["over_under_2_5"]
    assert quote.open_price("over") == Decimal("1.88")
    with pytest.raises(UnknownMarket):
        quote.open_price("home")


# --- The ladder, vectorised -----------------------------------------------------------


@given(st.lists(st.floats(min_value=1e-4, max_value=1.2, allow_nan=False), min_size=1, max_size=50))
def test_the_vectorised_ladder_matches_price_for_implied(implied: list[float]) -> None:
    indexes = ladder_indexes_for_implied(np.array(implied))
    assert [LADDER[i] for i in indexes] == [price_for_implied(p) for p in implied]


def test_exact_ladder_prices_do_not_lose_a_tick() -> None:
    implied = np.array([1 / float(price) for price in LADDER])
    assert [LADDER[i] for i in ladder_indexes_for_implied(implied)] == list(LADDER)
    assert [LADDER[i] for i in ladder_indexes_for_implied(np.array([0.0, -1.0, 2.0]))] == [
        LADDER[-1],
        LADDER[-1],
        LADDER[0],
    ]


def test_the_rounding_bound_holds_for_many_selections() -> None:
    """Snapping 26 prices down can add at most the bound, far below 26 ticks at 1.01."""
    assert ladder_rounding_bound(26, 1.25) < 0.08
    rng = np.random.default_rng(7)
    for _ in range(200):
        implied = rng.dirichlet(np.full(26, 0.5)) * 1.25
        implied = np.minimum(implied, 1 / 1.01)
        snapped = np.array([1 / float(LADDER[i]) for i in ladder_indexes_for_implied(implied)])
        assert (snapped - implied).sum() <= ladder_rounding_bound(26, float(implied.sum())) + 1e-12


def test_the_engine_stays_pure() -> None:
    code = "import sys, betting.engine.book, betting.engine.markets; sys.exit('django' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
