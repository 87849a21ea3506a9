"""Properties of the multi-market book over every market, with money (pure: no database).

The score distributions are drawn from the shapes the team model gives (Poisson goals with the
Dixon-Coles low-score correction) before kick-off and in play (the final score given the score
now and the goals still to come), and from arbitrary matrices; the money is any set of bets on any
selections of any markets at any ladder price.
"""

from decimal import Decimal
from itertools import pairwise
from math import exp, factorial

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from betting.engine.book import (
    DEFAULT_BOOK_PARAMS,
    BookParams,
    MarketQuote,
    MatchMoney,
    book_liability,
    market_liability,
    market_probabilities,
    max_stake,
    moved_distribution,
    price_markets,
)
from betting.engine.ladder import LADDER
from betting.engine.markets import (
    GRID,
    VOID,
    WON,
    Market,
    asian_handicap_lines,
    match_markets,
)
from betting.engine.money import BookTotals

# --- Strategies -------------------------------------------------------------------------


def goals(mean: float) -> np.ndarray:
    return np.array([exp(-mean) * mean**k / factorial(k) for k in range(GRID)])


def dixon_coles(home_mean: float, away_mean: float, rho: float) -> np.ndarray:
    matrix = np.outer(goals(home_mean), goals(away_mean))
    matrix[0, 0] *= 1 - home_mean * away_mean * rho
    matrix[0, 1] *= 1 + home_mean * rho
    matrix[1, 0] *= 1 + away_mean * rho
    matrix[1, 1] *= 1 - rho
    return matrix / matrix.sum()


def in_play(opening: np.ndarray, home_now: int, away_now: int, left: float, home_mean: float, away_mean: float):
    """The final score's distribution at home_now-away_now with a share `left` of the match to play."""
    rest = np.outer(goals(home_mean * left), goals(away_mean * left))
    final = np.zeros((GRID, GRID))
    final[home_now:, away_now:] = rest[: GRID - home_now, : GRID - away_now]
    return final / final.sum()


means = st.floats(min_value=0.2, max_value=3.5)
rhos = st.floats(min_value=-0.12, max_value=0.05)


@st.composite
def matches(draw: st.DrawFn) -> tuple[np.ndarray, tuple[Market, ...]]:
    """A score distribution and the match's markets (Asian lines chosen from the opening)."""
    home_mean, away_mean, rho = draw(means), draw(means), draw(rhos)
    opening = dixon_coles(home_mean, away_mean, rho)
    markets = match_markets(asian_handicap_lines(opening))
    kind = draw(st.sampled_from(["pre-match", "in play", "arbitrary"]))
    if kind == "in play":
        home_now, away_now = draw(st.integers(0, 4)), draw(st.integers(0, 4))
        left = draw(st.floats(min_value=0.01, max_value=1.0))
        return in_play(opening, home_now, away_now, left, home_mean, away_mean), markets
    if kind == "arbitrary":
        seed = draw(st.integers(0, 2**32 - 1))
        rng = np.random.default_rng(seed)
        matrix = rng.dirichlet(np.full(GRID * GRID, draw(st.floats(0.05, 2.0)))).reshape(GRID, GRID)
        matrix[rng.random((GRID, GRID)) < draw(st.floats(0.0, 0.8))] = 0.0
        assume(matrix.sum() > 0)
        return matrix / matrix.sum(), markets
    return opening, markets


stakes = st.integers(min_value=1, max_value=2_000_000).map(lambda cents: Decimal(cents) / 100)  # 0.01 to 20,000
taken_odds = st.sampled_from([p for p in LADDER if p <= Decimal("200")])


def bet_on(markets: tuple[Market, ...]) -> st.SearchStrategy[tuple[str, str, Decimal, Decimal]]:
    """A bet: market, selection, stake, odds taken (drawn as indexes: cheaper than flatmap)."""

    def bet(which: int, selection: int, stake: Decimal, odds: Decimal) -> tuple[str, str, Decimal, Decimal]:
        one = markets[which]
        return one.key, one.selections[selection % len(one.selections)], stake, odds

    return st.builds(bet, st.integers(0, len(markets) - 1), st.integers(0, 25), stakes, taken_odds)


def add_bet(money: MatchMoney, market_key: str, selection: str, stake: Decimal, odds: Decimal) -> MatchMoney:
    totals = money.get(market_key, BookTotals())
    return {
        **money,
        market_key: BookTotals(
            stakes={**totals.stakes, selection: totals.stake(selection) + stake},
            payouts={**totals.payouts, selection: totals.payout(selection) + stake * odds},
        ),
    }


@st.composite
def books(draw: st.DrawFn) -> tuple[np.ndarray, tuple[Market, ...], MatchMoney]:
    distribution, markets = draw(matches())
    money: MatchMoney = {}
    for bet in draw(st.lists(bet_on(markets), max_size=8)):
        money = add_bet(money, *bet)
    return distribution, markets, money


def selections_of(quotes: dict[str, MarketQuote]):
    for key, quote in quotes.items():
        for selection, price in quote.prices.items():
            yield key, selection, price


# --- Ladder, band and no arbitrage ----------------------------------------------------------


@given(books())
def test_every_price_is_on_the_ladder_or_closed(book) -> None:
    distribution, markets, money = book
    quotes = price_markets(distribution, markets, money)
    assert [q.market for q in quotes.values()] == list(markets)
    for key, selection, price in selections_of(quotes):
        assert price is None or (price in LADDER and Decimal("1.01") <= price <= Decimal("1000"))
        max_stake_of = quotes[key].max_stakes[selection]
        assert (price is None) == (max_stake_of is None)
        assert max_stake_of is None or max_stake_of >= 0


@settings(max_examples=200)
@given(books())
def test_every_open_market_stays_in_its_band_and_no_price_beats_its_fair_odds(book) -> None:
    distribution, markets, money = book
    for quote in price_markets(distribution, markets, money).values():
        lowest, highest = DEFAULT_BOOK_PARAMS.for_market(quote.market).overround_band
        if quote.overround is not None:  # every selection open
            assert 1.0 < lowest - 1e-9 <= quote.overround <= highest + 1e-9, quote.market.key
        for selection, price in quote.prices.items():
            if price is not None:
                assert 1 / float(price) >= quote.probabilities[selection] * (1 + 1e-12), (quote.market.key, selection)


# --- One distribution behind every market ------------------------------------------------


@given(books())
def test_the_markets_are_read_from_one_moved_distribution(book) -> None:
    distribution, markets, money = book
    quotes = price_markets(distribution, markets, money)
    moved = moved_distribution(distribution, money)
    assert moved.sum() == pytest.approx(1.0, abs=1e-9)
    assert np.all(moved[distribution == 0] == 0)  # what cannot happen stays impossible
    fair = market_probabilities(moved, markets)
    for key, quote in quotes.items():
        assert quote.probabilities == pytest.approx(fair[key], abs=1e-9)

    home, draw, away = (fair["1x2"][s] for s in ("home", "draw", "away"))
    assert home + draw + away == pytest.approx(1.0, abs=1e-9)
    assert fair["double_chance"]["home_or_draw"] == pytest.approx(home + draw, abs=1e-9)
    assert fair["double_chance"]["home_or_away"] == pytest.approx(home + away, abs=1e-9)
    assert fair["double_chance"]["draw_or_away"] == pytest.approx(draw + away, abs=1e-9)
    if home + away > 1e-6:
        assert fair["draw_no_bet"]["home"] == pytest.approx(home / (home + away), abs=1e-9)
    assert sum(fair["correct_score"].values()) == pytest.approx(1.0, abs=1e-9)
    assert fair["correct_score"]["0-0"] == pytest.approx(fair["over_under_0_5"]["under"], abs=1e-9)
    assert fair["both_teams_to_score"]["yes"] == pytest.approx(moved[1:, 1:].sum(), abs=1e-9)
    overs = [fair[f"over_under_{n}_5"]["over"] for n in range(5)]
    assert all(a >= b - 1e-12 for a, b in pairwise(overs))
    for n in range(5):
        assert sum(fair[f"over_under_{n}_5"].values()) == pytest.approx(1.0, abs=1e-9)
    for one in markets:
        if one.kind == "asian_handicap":
            assert sum(fair[one.key].values()) == pytest.approx(1.0, abs=1e-9)
            if one.line == -0.5:
                assert fair[one.key]["home"] == pytest.approx(home, abs=1e-9)
            if one.line == 0.5:
                assert fair[one.key]["away"] == pytest.approx(away, abs=1e-9)
    # Asian lines: the more goals home gives, the less likely it covers.
    lines = sorted((one.line, fair[one.key]["home"]) for one in markets if one.kind == "asian_handicap")
    assert all(a[1] <= b[1] + 1e-12 for a, b in pairwise(lines))


@settings(max_examples=40)
@given(matches())
def test_grading_and_pricing_agree(match) -> None:
    """A selection's fair probability is the mass of the scores its settlement rule pays on."""
    distribution, markets = match
    fair = market_probabilities(distribution, markets)
    scores = [(h, a) for h in range(GRID) for a in range(GRID)]
    for one in markets:
        for selection in one.selections:
            outcomes = [(distribution[h, a], one.outcome(selection, h, a)) for h, a in scores]
            won = sum(p for p, outcome in outcomes if outcome == WON)
            counted = sum(p for p, outcome in outcomes if outcome != VOID)
            if counted > 1e-6:
                assert fair[one.key][selection] == pytest.approx(won / counted, abs=1e-9), (one.key, selection)


# --- Money ---------------------------------------------------------------------------------


@settings(max_examples=200)
@given(st.data())
def test_money_on_a_selection_never_lengthens_it(data: st.DataObject) -> None:
    distribution, markets, money = data.draw(books())
    market_key, selection, stake, odds = data.draw(bet_on(markets))
    before = price_markets(distribution, markets, money)[market_key]
    after = price_markets(distribution, markets, add_bet(money, market_key, selection, stake, odds))[market_key]
    assert after.probabilities[selection] >= before.probabilities[selection] - 1e-12
    price_before, price_after = before.prices[selection], after.prices[selection]
    if price_before is not None and price_after is not None:
        assert price_after <= price_before


@given(books())
def test_no_money_gives_the_models_prices(book) -> None:
    distribution, markets, money = book
    model = price_markets(distribution, markets)
    zero = {key: BookTotals(stakes=dict.fromkeys(t.stakes, Decimal(0))) for key, t in money.items()}
    assert price_markets(distribution, markets, zero) == model
    assert price_markets(distribution, markets, {}) == model


@given(books())
def test_the_same_inputs_give_the_same_prices(book) -> None:
    distribution, markets, money = book
    assert price_markets(distribution, markets, money) == price_markets(distribution.copy(), markets, dict(money))


@given(matches(), st.sampled_from(["1x2", "over_under_2_5", "correct_score"]), stakes)
def test_a_balanced_book_moves_nothing(match, market_key: str, stake: Decimal) -> None:
    """Bets that pay the same on every score (each selection backed at its fair price, every
    selection alike) leave the book indifferent: the model's prices stand."""
    distribution, markets = match
    one = next(m for m in markets if m.key == market_key)
    balanced = {
        market_key: BookTotals(
            stakes=dict.fromkeys(one.selections, stake), payouts=dict.fromkeys(one.selections, stake * 3)
        )
    }
    moved = moved_distribution(distribution, balanced)
    assert moved == pytest.approx(distribution, abs=1e-12)


def test_in_play_bets_already_decided_move_nothing() -> None:
    """At 1-0, over 0.5 has won and under 0.5 has lost: their liability is the same on every
    score still possible, so they leave the prices where the model puts them."""
    opening = dixon_coles(1.5, 1.1, -0.05)
    markets = match_markets(asian_handicap_lines(opening))
    one_nil = in_play(opening, 1, 0, 0.5, 1.5, 1.1)
    decided = {
        "over_under_0_5": BookTotals(
            stakes={"over": Decimal(5000), "under": Decimal(800)},
            payouts={"over": Decimal(5350), "under": Decimal(9600)},
        )
    }
    assert moved_distribution(one_nil, decided) == pytest.approx(one_nil, abs=1e-12)
    assert {k: q.prices for k, q in price_markets(one_nil, markets, decided).items()} == {
        k: q.prices for k, q in price_markets(one_nil, markets).items()
    }


def test_money_on_one_market_moves_the_others_consistently() -> None:
    """1,000 on 1X2 home shortens every selection that wins when home wins, at once."""
    opening = dixon_coles(1.6, 1.1, -0.05)
    markets = match_markets(asian_handicap_lines(opening))
    quiet = price_markets(opening, markets)
    money = {"1x2": BookTotals(stakes={"home": Decimal(1000)}, payouts={"home": Decimal(1940)})}
    busy = price_markets(opening, markets, money)
    assert busy["1x2"].open_price("home") < quiet["1x2"].open_price("home")
    assert busy["asian_handicap_minus_0_5"].open_price("home") < quiet["asian_handicap_minus_0_5"].open_price("home")
    assert busy["draw_no_bet"].open_price("home") < quiet["draw_no_bet"].open_price("home")
    assert busy["double_chance"].open_price("home_or_draw") < quiet["double_chance"].open_price("home_or_draw")
    assert busy["double_chance"].open_price("draw_or_away") > quiet["double_chance"].open_price("draw_or_away")
    assert busy["1x2"].open_price("away") > quiet["1x2"].open_price("away")
    # The cheapest cover of every score costs more than it pays: no arbitrage between markets.
    cover = 1 / busy["asian_handicap_minus_0_5"].open_price("home") + 1 / busy["1x2"].open_price("draw")
    cover += 1 / busy["1x2"].open_price("away")
    assert cover > 1


def test_a_big_enough_position_closes_the_selection_instead_of_quoting_1_01() -> None:
    opening = dixon_coles(1.6, 1.1, -0.05)
    markets = match_markets(asian_handicap_lines(opening))
    money = {"1x2": BookTotals(stakes={"home": Decimal(10000)}, payouts={"home": Decimal(19400)})}
    quote = price_markets(opening, markets, money)["1x2"]
    assert quote.probabilities["home"] > DEFAULT_BOOK_PARAMS.markets["1x2"].highest_open_probability
    assert quote.prices["home"] is None
    assert quote.prices["draw"] is not None


def test_liquidity_sets_how_far_money_moves() -> None:
    opening = dixon_coles(1.6, 1.1, -0.05)
    markets = match_markets(asian_handicap_lines(opening))
    money = {"correct_score": BookTotals(stakes={"2-2": Decimal(100)}, payouts={"2-2": Decimal(1650)})}
    thin = price_markets(opening, markets, money, BookParams(liquidity=Decimal(2000)))["correct_score"]
    deep = price_markets(opening, markets, money, BookParams(liquidity=Decimal(10000)))["correct_score"]
    quiet = price_markets(opening, markets)["correct_score"]
    assert thin.open_price("2-2") < deep.open_price("2-2") <= quiet.open_price("2-2")


# --- Closed selections in play --------------------------------------------------------------


@given(st.integers(0, 4), st.integers(0, 4), st.floats(min_value=0.01, max_value=1.0), means, means)
def test_in_play_what_is_decided_is_closed(
    home_now: int, away_now: int, left: float, home_mean: float, away_mean: float
) -> None:
    opening = dixon_coles(home_mean, away_mean, -0.05)
    markets = match_markets(asian_handicap_lines(opening))
    quotes = price_markets(in_play(opening, home_now, away_now, left, home_mean, away_mean), markets)
    for n in range(5):
        if home_now + away_now > n:  # the over has happened
            assert quotes[f"over_under_{n}_5"].prices == {"over": None, "under": None}
    if home_now and away_now:
        assert quotes["both_teams_to_score"].prices == {"yes": None, "no": None}
    for selection, price in quotes["correct_score"].prices.items():
        if selection != "other":
            home, away = map(int, selection.split("-"))
            if home < home_now or away < away_now:
                assert price is None, selection
    for quote in quotes.values():
        for selection, probability in quote.probabilities.items():
            if probability < 1e-3 or probability > 0.971:  # the highest threshold: (1 - 0.04 / 2) / 1.01
                assert quote.prices[selection] is None, (quote.market.key, selection)


# --- Maximum stake ----------------------------------------------------------------------------


@given(st.data())
def test_the_maximum_stake_keeps_the_market_within_its_limit(data: st.DataObject) -> None:
    distribution, markets, money = data.draw(books())
    quotes = price_markets(distribution, markets, money)
    market_key, selection, _, _ = data.draw(bet_on(markets))
    quote = quotes[market_key]
    price = quote.prices[selection]
    assume(price is not None)
    assert price is not None
    one, limit = quote.market, DEFAULT_BOOK_PARAMS.for_market(quote.market).liability_limit
    totals = money.get(market_key, BookTotals())
    largest = max_stake(one, selection, price, totals, limit, distribution)
    assert largest == quote.max_stakes[selection]

    possible = distribution.ravel() > 0
    with_bet = add_bet(money, market_key, selection, largest, price)[market_key]
    worst_after = market_liability(one, with_bet)[possible].max()
    worst_before = market_liability(one, totals)[possible].max()
    assert worst_after <= max(float(limit), worst_before) + 1e-6
    if price > 1:
        one_cent_more = add_bet(money, market_key, selection, largest + Decimal("0.01"), price)[market_key]
        assert market_liability(one, one_cent_more)[possible].max() > float(limit) - 1e-6


def test_maximum_stake_by_hand() -> None:
    one_x_two = next(m for m in match_markets(()) if m.key == "1x2")
    no_money = BookTotals()
    assert max_stake(one_x_two, "home", Decimal("2.00"), no_money, Decimal("1000")) == Decimal("1000.00")
    assert max_stake(one_x_two, "away", Decimal("5.00"), no_money, Decimal("1000")) == Decimal("250.00")
    # 300 on home at 2.00: the book loses 300 if home wins and keeps 300 otherwise.
    taken = BookTotals(stakes={"home": Decimal(300)}, payouts={"home": Decimal(600)})
    assert max_stake(one_x_two, "home", Decimal("2.00"), taken, Decimal("1000")) == Decimal("700.00")
    assert max_stake(one_x_two, "draw", Decimal("3.00"), taken, Decimal("1000")) == Decimal("650.00")
    over_limit = BookTotals(stakes={"home": Decimal(2000)}, payouts={"home": Decimal(4000)})
    assert max_stake(one_x_two, "home", Decimal("2.00"), over_limit, Decimal("1000")) == Decimal("0.00")
    # A draw no bet's void draws neither add nor take.
    draw_no_bet = next(m for m in match_markets(()) if m.key == "draw_no_bet")
    assert max_stake(draw_no_bet, "home", Decimal("1.50"), no_money, Decimal("100")) == Decimal("200.00")


def test_maximum_stake_counts_only_the_scores_still_possible() -> None:
    """At 3-0, an over 2.5 bet cannot win any more; a home bet's losses on 0-0 no longer bind."""
    opening = dixon_coles(1.5, 1.1, -0.05)
    three_nil = in_play(opening, 3, 0, 0.3, 1.5, 1.1)
    correct_score = next(m for m in match_markets(()) if m.key == "correct_score")
    taken = BookTotals(stakes={"0-0": Decimal(100)}, payouts={"0-0": Decimal(1200)})
    assert max_stake(correct_score, "0-0", Decimal("12"), taken, Decimal("5000")) == Decimal("354.54")
    assert max_stake(correct_score, "0-0", Decimal("12"), taken, Decimal("5000"), three_nil) == Decimal("0.00")
    assert max_stake(correct_score, "3-0", Decimal("4"), taken, Decimal("5000"), three_nil) == Decimal("1700.00")


def test_book_liability_sums_every_market() -> None:
    money = {
        "1x2": BookTotals(stakes={"home": Decimal(100)}, payouts={"home": Decimal(200)}),
        "draw_no_bet": BookTotals(stakes={"away": Decimal(50)}, payouts={"away": Decimal(150)}),
    }
    liability = book_liability(money)
    assert liability[1, 0] == 200 - 150  # home wins: pays the 1X2 bet, keeps the DNB stake
    assert liability[1, 1] == 50 - 150  # draw: returns the DNB stake, keeps the 1X2 one
    assert liability[0, 1] == 150 - 150  # away: pays the DNB bet
