"""The walk-forward backtest, its scores and the results files (pure: no database)."""

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from teammodel.backtest import brier_score, ranked_probability_score, walk_forward
from teammodel.forecast import ANCHOR, DEFAULT, NEWCOMER_RELEGATED, ModelConfig, league_fit
from teammodel.results import (
    MatchResult,
    ResultsFormatError,
    ResultsTable,
    day_number,
    read_results_csv,
    read_results_dir,
)
from teammodel.tests.leagues import HEADER, league


def test_ranked_probability_score_of_known_forecasts():
    outcomes = np.array([0, 1, 2])
    perfect = np.eye(3)
    assert ranked_probability_score(perfect, outcomes) == 0.0
    # Certain of a home win, and the away side won: the worst possible forecast scores 1.
    assert ranked_probability_score(np.array([[1.0, 0, 0]]), np.array([2])) == 1.0
    # Thirds against a draw: ((1/3)² + (1/3)²) / 2.
    assert ranked_probability_score(np.full((1, 3), 1 / 3), np.array([1])) == pytest.approx(1 / 9)
    # A near miss (draw forecast, home win) costs less than a far one (away forecast).
    near = ranked_probability_score(np.array([[0, 1.0, 0]]), np.array([0]))
    far = ranked_probability_score(np.array([[0, 0, 1.0]]), np.array([0]))
    assert near < far


def test_brier_score():
    assert brier_score(np.array([0.7, 0.2]), np.array([True, False])) == pytest.approx((0.09 + 0.04) / 2)


def test_walk_forward_predicts_every_match_after_since_from_earlier_matches_only():
    table = ResultsTable.from_results(league())
    since = date(2018, 7, 1)
    result = walk_forward(table, since_day=day_number(since), config=DEFAULT)
    expected = int((table.day >= day_number(since)).sum())
    assert len(result.predictions) == expected
    assert 0 < len(result.fit_seconds) <= result.windows
    for p in result.predictions:
        assert p.p_home + p.p_draw + p.p_away == pytest.approx(1.0)
        assert 0 < p.p_over_2_5 < 1 and 0 < p.p_btts < 1
    # Better than the base rate on a league with real differences between the teams.
    assert result.rps < result.base_rate_rps
    assert 0 < result.over_2_5_brier < 0.3


def test_half_time_forecasts_are_sharper_than_pre_match_ones():
    table = ResultsTable.from_results(league())
    since = day_number(date(2018, 7, 1))
    before = walk_forward(table, since_day=since, config=DEFAULT)
    at_half_time = walk_forward(table, since_day=since, config=DEFAULT, at_half_time=True)
    assert len(at_half_time.predictions) == len(before.predictions)
    assert at_half_time.rps < before.rps


def test_a_promoted_team_starts_from_the_relegated_teams_ratings():
    table = ResultsTable.from_results(league())
    season = table.seasons.index("1819")
    first_day = int(table.day[table.season == season].min())
    config = ModelConfig(prior_sd=0.3, newcomer=NEWCOMER_RELEGATED)
    ratings = league_fit(table, as_of_day=first_day, season=season, config=config)
    previous = league_fit(table, as_of_day=first_day, season=season - 1, config=config)
    promoted = table.teams_of_season(season) - table.teams_of_season(season - 1)
    relegated = table.teams_of_season(season - 1) - table.teams_of_season(season)
    assert promoted == {"Club J"} and not ratings.knows("Club J")
    expected = np.mean([previous.team_ratings(t) for t in relegated], axis=0)
    np.testing.assert_allclose(ratings.team_ratings("Club J"), expected, atol=0.02)


def test_anchor_config_is_plain_dixon_coles():
    assert ANCHOR.prior_sd is None and ANCHOR.shots_weight == 0 and ANCHOR.xi == 0.0018


def test_read_results_csv(tmp_path: Path):
    path = tmp_path / "season-2324.csv"
    path.write_text(
        HEADER
        + "2023-08-11,Burnley,Man City,0,3,A,0,2,A,C Pawson,6,17,1,8,11,8,6,5,0,0,1,0\n"
        + "2023-08-12,Arsenal,Nott'm Forest,2,1,H,,,,,,,,,,,,,,,,\n"
    )
    first, second = read_results_csv(path)
    assert first == MatchResult(
        season="2324", date=date(2023, 8, 11), home="Burnley", away="Man City", home_goals=0, away_goals=3,
        home_goals_half_time=0, away_goals_half_time=2, home_shots_on_target=1, away_shots_on_target=8,
        home_red_cards=1, away_red_cards=0,
    )  # fmt: skip
    assert second.home_goals_half_time is None and second.home_shots_on_target is None


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("2023-13-11,A,B,0,3,A", "Date"),
        ("2023-08-11,A,A,0,3,A", "two different teams"),
        ("2023-08-11,A,B,x,3,A", "FTHG"),
        ("2023-08-11,A,B,,3,A", "full-time score"),
        ("2023-08-11,A,B,-1,3,A", "negative"),
    ],
)
def test_bad_rows_are_refused_with_their_line(tmp_path: Path, row, message):
    path = tmp_path / "season-2324.csv"
    path.write_text("Date,HomeTeam,AwayTeam,FTHG,FTAG,FTR\n" + row + "\n")
    with pytest.raises(ResultsFormatError, match=message) as error:
        read_results_csv(path)
    assert "line 2" in str(error.value)


def test_missing_columns_and_empty_folders_are_refused(tmp_path: Path):
    (tmp_path / "season-2324.csv").write_text("Date,HomeTeam,FTHG\n")
    with pytest.raises(ResultsFormatError, match="missing columns AwayTeam, FTAG"):
        read_results_dir(tmp_path)
    with pytest.raises(ResultsFormatError, match="no CSV"):
        read_results_dir(tmp_path / "nothing")


def test_plain_fit_agrees_with_penaltyblog_on_the_shipped_data():
    """Reference figures from penaltyblog 1.13.1's DixonColesGoalModel (the anchor's library, run
    outside the project) on the same matches and weights: the Premier League's three years
    before 2023-07-01, ξ = 0.0018. Its optimiser stops a little short of ours, hence the tolerance."""
    from teammodel.backtest import outcome_probabilities
    from teammodel.services import SHIPPED_RESULTS

    table = ResultsTable.from_results(read_results_dir(SHIPPED_RESULTS / "premier-league"))
    as_of = day_number(date(2023, 7, 1))
    season = int(table.season[table.day >= as_of][0])
    ratings = league_fit(table, as_of_day=as_of, season=season, config=ANCHOR)
    home_rate, away_rate = ratings.rates("Arsenal", "Chelsea")
    home_win, draw, _ = outcome_probabilities(ratings.score_matrix("Arsenal", "Chelsea"))
    assert ratings.home_advantage == pytest.approx(0.20224, abs=0.002)
    assert ratings.rho == pytest.approx(0.03110, abs=0.002)
    assert home_rate == pytest.approx(1.72841, abs=0.005)
    assert away_rate == pytest.approx(1.02287, abs=0.005)
    assert home_win == pytest.approx(0.54270, abs=0.001)
    assert draw == pytest.approx(0.23055, abs=0.001)
