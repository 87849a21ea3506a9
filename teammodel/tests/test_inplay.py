"""The final-score distribution in play (pure: no database)."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from teammodel.backtest import both_score_probability, outcome_probabilities, over_probability
from teammodel.dixon_coles import MAX_GOALS, score_matrix
from teammodel.inplay import (
    ANCHOR_PARAMS,
    DEFAULT_PARAMS,
    InPlayParams,
    MatchState,
    Period,
    final_score_matrix,
    remaining_rates,
)

IN_PLAY = [Period.FIRST_HALF, Period.HALF_TIME, Period.SECOND_HALF]


@st.composite
def states(draw: st.DrawFn) -> MatchState:
    return MatchState(
        period=draw(st.sampled_from(IN_PLAY)),
        minute=draw(st.floats(min_value=0, max_value=100)),
        home_goals=draw(st.integers(0, 7)),
        away_goals=draw(st.integers(0, 7)),
        home_red_cards=draw(st.integers(0, 2)),
        away_red_cards=draw(st.integers(0, 2)),
    )


@settings(max_examples=150, deadline=None)
@given(
    state=states(),
    home_rate=st.floats(0.1, 4.5),
    away_rate=st.floats(0.1, 4.5),
    rho=st.floats(-0.3, 0.3),
    rho_in_play=st.booleans(),
)
def test_final_scores_below_the_current_one_are_impossible(state, home_rate, away_rate, rho, rho_in_play):
    params = InPlayParams(form_shape=8.0, rho_in_play=rho_in_play, red_card_own=0.7, red_card_opponent=1.2)
    matrix = final_score_matrix(home_rate, away_rate, rho, state, params)
    assert matrix.shape == (MAX_GOALS + 1, MAX_GOALS + 1)
    assert (matrix >= 0).all()
    assert matrix.sum() == pytest.approx(1.0, abs=1e-12)
    assert not matrix[: state.home_goals, :].any()
    assert not matrix[:, : state.away_goals].any()
    assert matrix[state.home_goals, state.away_goals] > 0


def test_over_2_5_is_certain_once_three_goals_are_in():
    matrix = final_score_matrix(1.4, 1.1, -0.05, MatchState(Period.FIRST_HALF, minute=30, home_goals=2, away_goals=1))
    goals = np.add.outer(np.arange(MAX_GOALS + 1), np.arange(MAX_GOALS + 1))
    # Exactly nothing on under 2.5 or on a side without a goal: those markets are settled.
    assert matrix[goals < 3].sum() == 0.0
    assert matrix[0, :].sum() == 0.0 and matrix[:, 0].sum() == 0.0
    assert over_probability(matrix) == pytest.approx(1.0, abs=1e-15)
    assert both_score_probability(matrix) == pytest.approx(1.0, abs=1e-15)


def test_before_kick_off_it_is_the_pre_match_matrix():
    matrix = final_score_matrix(1.5, 1.2, -0.08, MatchState(Period.PRE_MATCH))
    np.testing.assert_array_equal(matrix, score_matrix(1.5, 1.2, -0.08))


def test_at_full_time_the_score_is_certain():
    matrix = final_score_matrix(1.5, 1.2, 0.0, MatchState(Period.FULL_TIME, home_goals=3, away_goals=2))
    assert matrix[3, 2] == 1.0
    assert matrix.sum() == 1.0


def test_at_half_time_the_second_half_share_of_goals_is_left():
    params = InPlayParams(second_half_share=0.555)
    assert params.remaining_share(MatchState(Period.HALF_TIME)) == pytest.approx(0.555)
    assert params.remaining_share(MatchState(Period.PRE_MATCH)) == pytest.approx(1.0)
    assert params.remaining_share(MatchState(Period.FULL_TIME)) == pytest.approx(0.0)
    # Goals come faster as the match goes on: the last 15 minutes hold more than the first 15.
    early = 1 - params.remaining_share(MatchState(Period.FIRST_HALF, minute=15))
    late = params.remaining_share(MatchState(Period.SECOND_HALF, minute=80))
    assert late > early


def test_time_left_shrinks_as_the_clock_runs_and_never_reaches_zero_while_playing():
    shares = [DEFAULT_PARAMS.remaining_share(MatchState(Period.FIRST_HALF, minute=m)) for m in range(0, 60, 5)]
    shares += [DEFAULT_PARAMS.remaining_share(MatchState(Period.SECOND_HALF, minute=m)) for m in range(45, 110, 5)]
    assert all(a >= b for a, b in itertools.pairwise(shares))
    assert shares[-1] > 0  # deep in stoppage time a goal can still come


def test_a_goal_down_late_leaves_little_hope():
    state = MatchState(Period.SECOND_HALF, minute=88, home_goals=0, away_goals=1)
    home, _draw, away = outcome_probabilities(final_score_matrix(1.6, 1.0, 0.0, state))
    assert away > 0.85
    assert home < 0.02


def test_a_red_card_helps_the_other_side():
    params = InPlayParams(red_card_own=0.7, red_card_opponent=1.2)
    level = MatchState(Period.FIRST_HALF, minute=20)
    carded = MatchState(Period.FIRST_HALF, minute=20, home_red_cards=1)
    home_before, _, away_before = outcome_probabilities(final_score_matrix(1.4, 1.2, 0.0, level, params))
    home_after, _, away_after = outcome_probabilities(final_score_matrix(1.4, 1.2, 0.0, carded, params))
    assert home_after < home_before
    assert away_after > away_before


def test_form_update_raises_the_rate_of_a_side_that_scored_early():
    plain = InPlayParams()
    updated = InPlayParams(form_shape=5.0)
    state = MatchState(Period.FIRST_HALF, minute=25, home_goals=2, away_goals=0)
    goals = np.arange(MAX_GOALS + 1)
    mean_plain = goals @ final_score_matrix(1.2, 1.2, 0.0, state, plain).sum(axis=1)
    mean_updated = goals @ final_score_matrix(1.2, 1.2, 0.0, state, updated).sum(axis=1)
    assert mean_updated > mean_plain


@pytest.mark.parametrize(
    "kwargs",
    [{"home_goals": -1}, {"away_red_cards": -1}, {"home_red_cards": 6}, {"minute": -3}, {"minute": float("nan")}],
)
def test_impossible_states_are_refused(kwargs):
    with pytest.raises(ValueError):
        MatchState(Period.SECOND_HALF, **kwargs)


def test_the_side_behind_pushes():
    level = MatchState(Period.HALF_TIME, home_goals=1, away_goals=1)
    behind = MatchState(Period.HALF_TIME, home_goals=0, away_goals=1)
    home_level, away_level = remaining_rates(1.5, 1.2, level)
    home_behind, away_behind = remaining_rates(1.5, 1.2, behind)
    assert home_behind == pytest.approx(home_level * DEFAULT_PARAMS.trailing_factor)
    assert away_behind == pytest.approx(away_level * DEFAULT_PARAMS.leading_factor)
    assert DEFAULT_PARAMS.trailing_factor > 1


def test_default_parameters_are_the_documented_ones():
    assert DEFAULT_PARAMS.remaining_share(MatchState(Period.HALF_TIME)) == pytest.approx(0.560)
    assert (DEFAULT_PARAMS.red_card_own, DEFAULT_PARAMS.red_card_opponent) == (0.75, 1.2)
    assert ANCHOR_PARAMS.remaining_share(MatchState(Period.HALF_TIME)) == pytest.approx(0.555)
    assert ANCHOR_PARAMS.trailing_factor == 1.0 and ANCHOR_PARAMS.red_card_own == 1.0


@settings(max_examples=50, deadline=None)
@given(state=states(), home_rate=st.floats(0.1, 4.5), away_rate=st.floats(0.1, 4.5))
def test_the_pricing_engine_accepts_every_matrix_the_model_gives(state, home_rate, away_rate):
    from betting.engine.book import checked_distribution
    from betting.engine.markets import GRID

    assert GRID == MAX_GOALS + 1
    checked_distribution(score_matrix(home_rate, away_rate, -0.1))
    checked_distribution(final_score_matrix(home_rate, away_rate, -0.1, state))
