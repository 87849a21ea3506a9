"""The Dixon–Coles fit and its score matrices (pure: no database)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from teammodel import dixon_coles as dc

rates = st.floats(min_value=0.05, max_value=6.0)
rhos = st.floats(min_value=-1.5, max_value=1.5)


def simulated_league(seed: int = 7, seasons: int = 3, n_teams: int = 12) -> tuple[dc.FitData, np.ndarray, np.ndarray]:
    """A double round robin per season, scores drawn from Dixon–Coles with known ratings."""
    rng = np.random.default_rng(seed)
    attack = rng.normal(0, 0.3, n_teams)
    attack -= attack.mean()
    defence = rng.normal(0, 0.3, n_teams)
    defence -= defence.mean()
    pairs = np.array([(i, j) for _ in range(seasons) for i in range(n_teams) for j in range(n_teams) if i != j])
    home_idx, away_idx = pairs[:, 0], pairs[:, 1]
    home_rate = np.exp(0.1 + 0.25 + attack[home_idx] - defence[away_idx])
    away_rate = np.exp(0.1 + attack[away_idx] - defence[home_idx])
    home_goals = rng.poisson(home_rate).astype(float)
    away_goals = rng.poisson(away_rate).astype(float)
    data = dc.FitData(
        teams=tuple(f"Team {i:02d}" for i in range(n_teams)),
        home=home_idx,
        away=away_idx,
        home_goals=home_goals,
        away_goals=away_goals,
        weights=np.linspace(0.4, 1.0, len(home_idx)),
        home_shots_on_target=home_goals * 2 + rng.poisson(2.0, len(home_idx)),
        away_shots_on_target=away_goals * 2 + rng.poisson(2.0, len(home_idx)),
    )
    return data, attack, defence


@pytest.mark.parametrize(
    ("options", "rho"),
    [
        (dc.FitOptions(), -0.12),
        (dc.FitOptions(), 0.08),
        (dc.FitOptions(prior_sd=0.3), -0.05),
        (dc.FitOptions(prior_sd=0.3, shots_weight=0.4), 0.02),
    ],
)
def test_gradient_matches_finite_differences(options, rho):
    data, _, _ = simulated_league(seed=3, seasons=1, n_teams=6)
    n = len(data.teams)
    rng = np.random.default_rng(0)
    prior = rng.normal(0, 0.1, n)
    problem = dc._problem(data, options, prior, -prior)
    theta = np.concatenate([rng.normal(0, 0.3, 2 * n), [0.1, 0.3, rho]])
    _, gradient = dc.negative_log_likelihood(theta, problem)
    step = 1e-6
    numeric = np.array(
        [
            (
                dc.negative_log_likelihood(theta + step * e, problem)[0]
                - dc.negative_log_likelihood(theta - step * e, problem)[0]
            )
            / (2 * step)
            for e in np.eye(len(theta))
        ]
    )
    np.testing.assert_allclose(gradient, numeric, rtol=1e-5, atol=1e-6)


def test_fit_recovers_the_ratings_of_a_simulated_league():
    data, attack, defence = simulated_league(seasons=12)
    ratings = dc.fit(dc.FitData(**{**data.__dict__, "weights": np.ones(len(data.home))}))
    assert ratings.attack.sum() == pytest.approx(0, abs=1e-9)
    assert ratings.defence.sum() == pytest.approx(0, abs=1e-9)
    np.testing.assert_allclose(ratings.attack, attack, atol=0.12)
    np.testing.assert_allclose(ratings.defence, defence, atol=0.12)
    assert ratings.home_advantage == pytest.approx(0.25, abs=0.06)
    assert ratings.intercept == pytest.approx(0.1, abs=0.06)
    assert abs(ratings.rho) < 0.1


def test_prior_pulls_ratings_towards_their_prior_means():
    data, _, _ = simulated_league(seasons=1)
    free = dc.fit(data)
    shrunk = dc.fit(data, dc.FitOptions(prior_sd=0.05))
    assert np.abs(shrunk.attack).max() < np.abs(free.attack).max()
    weak = dc.fit(data, dc.FitOptions(prior_sd=0.02), prior_means={"Team 00": (-0.3, -0.3)})
    assert weak.team_ratings("Team 00")[0] < shrunk.team_ratings("Team 00")[0] - 0.1


def test_a_team_the_fit_never_saw_gets_the_newcomer_ratings():
    data, _, _ = simulated_league(seasons=1)
    ratings = dc.fit(data, newcomer=(-0.2, -0.1))
    assert not ratings.knows("Promoted FC")
    assert ratings.team_ratings("Promoted FC") == (-0.2, -0.1)
    home_rate, away_rate = ratings.rates("Promoted FC", "Team 01")
    assert home_rate == pytest.approx(np.exp(ratings.intercept + ratings.home_advantage - 0.2 - ratings.defence[1]))
    assert away_rate == pytest.approx(np.exp(ratings.intercept + ratings.attack[1] + 0.1))


def test_warm_start_reaches_the_same_optimum():
    data, _, _ = simulated_league(seasons=2)
    cold = dc.fit(data)
    warm = dc.fit(data, warm_start=cold)
    np.testing.assert_allclose(warm.attack, cold.attack, atol=1e-4)
    assert warm.rho == pytest.approx(cold.rho, abs=1e-4)


def test_fit_refuses_no_matches():
    empty = dc.FitData(
        teams=(), home=np.array([], dtype=np.intp), away=np.array([], dtype=np.intp),
        home_goals=np.array([]), away_goals=np.array([]), weights=np.array([]),
    )  # fmt: skip
    with pytest.raises(ValueError, match="no matches"):
        dc.fit(empty)


@settings(max_examples=200, deadline=None)
@given(home_rate=rates, away_rate=rates, rho=rhos)
def test_score_matrix_is_a_distribution_whatever_rho(home_rate, away_rate, rho):
    matrix = dc.score_matrix(home_rate, away_rate, rho)
    assert matrix.shape == (dc.MAX_GOALS + 1, dc.MAX_GOALS + 1)
    assert matrix.dtype == np.float64
    assert (matrix > 0).all()
    assert matrix.sum() == pytest.approx(1.0, abs=1e-12)


@given(home_rate=rates, away_rate=rates, rho=rhos)
def test_clamped_rho_keeps_every_tau_positive(home_rate, away_rate, rho):
    clamped = dc.clamp_rho(rho, home_rate, away_rate)
    low, high = dc.rho_bounds(home_rate, away_rate)
    assert low <= clamped <= high
    assert 1 - home_rate * away_rate * clamped > 0
    assert 1 + home_rate * clamped > 0
    assert 1 + away_rate * clamped > 0
    assert 1 - clamped > 0
    if low <= rho <= high:
        assert clamped == rho


def test_rho_only_moves_the_four_low_scores_and_keeps_the_means():
    plain = dc.score_matrix(1.6, 1.1, 0.0)
    corrected = dc.score_matrix(1.6, 1.1, -0.1)
    changed = ~np.isclose(plain, corrected, rtol=1e-9, atol=0)
    # Renormalisation aside (the correction moves no mass overall), only the 2x2 corner moves.
    assert changed[:2, :2].all()
    assert not changed[2:, :].any() and not changed[:, 2:].any()
    assert corrected[0, 0] > plain[0, 0] and corrected[1, 1] > plain[1, 1]
    goals = np.arange(dc.MAX_GOALS + 1)
    # The marginals keep their means (λ, μ, less the truncated tail beyond MAX_GOALS).
    assert goals @ corrected.sum(axis=1) == pytest.approx(goals @ plain.sum(axis=1), abs=1e-12)
    assert goals @ corrected.sum(axis=0) == pytest.approx(goals @ plain.sum(axis=0), abs=1e-12)
    assert goals @ plain.sum(axis=1) == pytest.approx(1.6, abs=1e-4)


def test_score_matrix_without_rho_is_independent_poisson():
    matrix = dc.score_matrix(2.0, 0.7)
    from math import exp, factorial

    assert matrix[2, 1] == pytest.approx(exp(-2.0) * 2.0**2 / 2 * exp(-0.7) * 0.7, rel=1e-5)
    assert matrix[3, 0] == pytest.approx(exp(-2.0) * 8 / factorial(3) * exp(-0.7), rel=1e-5)


@pytest.mark.parametrize(("home_rate", "away_rate"), [(0.0, 1.0), (1.0, -1.0), (float("nan"), 1.0)])
def test_score_matrix_refuses_impossible_rates(home_rate, away_rate):
    with pytest.raises(ValueError, match="positive and finite"):
        dc.score_matrix(home_rate, away_rate)
