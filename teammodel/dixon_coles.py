"""Dixon–Coles team ratings by (penalised, time-weighted) maximum likelihood, and score matrices.

The model (Dixon and Coles 1997, "Modelling association football scores and inefficiencies in
the football betting market"): in a match of home team i against away team j,

    log λ = c + h + attack_i - defence_j        (home goals ~ Poisson(λ))
    log μ = c     + attack_j - defence_i        (away goals ~ Poisson(μ))

with a low-score correction τ on the four cells 0-0, 0-1, 1-0 and 1-1 (parameter ρ), and each
past match weighted by exp(-ξ · days ago) so that old form counts less. Ratings are centred
(attack and defence each sum to zero) so that c is the league's log scoring rate.

Beyond the original model, two things the walk-forward backtest showed to help on every
league (docs/team-model.md has the numbers):

- A Gaussian prior on each team's attack and defence (a ridge penalty, standard deviation
  `prior_sd`), centred on a prior mean per team (zero: a league-average team; below average
  for a promoted side). It keeps a team seen in few matches near its prior, and is what gives
  a team with no history at all its ratings.
- The scoring rates can be fitted to a blend of goals and shots on target: the Poisson target
  of each side is (1 - β) · goals + β · k · shots on target, with k the window's goals per shot
  on target. Shots on target are a less noisy measure of a side's chances than the goals they
  produced. ρ is still fitted on the real scores.

Fitting minimises the negative log-likelihood with its analytic gradient (L-BFGS-B); a fit of
three seasons of one league takes a few milliseconds.

Pure: numpy and scipy only; no Django, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from threadpoolctl import ThreadpoolController

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

# Rows and columns of a score matrix: 0..MAX_GOALS goals per side.
MAX_GOALS = 10
# ρ is searched in this box; the clamp below narrows it further where the rates demand.
RHO_BOUNDS = (-0.3, 0.3)
# τ is kept this far above zero, so every cell of a score matrix stays strictly positive.
_TAU_FLOOR = 1e-6
# The optimiser's BLAS calls work on vectors of a few dozen numbers: threads only add
# synchronisation (a fit ran 10x slower with two threads on a busy two-core machine).
_THREADPOOLS = ThreadpoolController()


@dataclass(frozen=True)
class FitData:
    """The matches a fit sees, as arrays indexed by match (teams as indices into `teams`)."""

    teams: tuple[str, ...]
    home: IntArray
    away: IntArray
    home_goals: FloatArray
    away_goals: FloatArray
    weights: FloatArray
    # Shots on target; NaN where the source has none (the match then counts by its goals).
    home_shots_on_target: FloatArray | None = None
    away_shots_on_target: FloatArray | None = None


@dataclass(frozen=True)
class FitOptions:
    """How a fit weighs the data: the model's hyper-parameters (docs/team-model.md says why)."""

    # Standard deviation of the Gaussian prior on each attack and defence rating, in log-goals;
    # None fits by plain maximum likelihood (the original Dixon–Coles).
    prior_sd: float | None = None
    # Weight β of shots on target in the scoring-rate target (0: goals only).
    shots_weight: float = 0.0


@dataclass(frozen=True)
class Ratings:
    """A fitted model: everything needed to price a fixture between two of `teams`."""

    teams: tuple[str, ...]
    attack: FloatArray
    defence: FloatArray
    intercept: float
    home_advantage: float
    rho: float
    # Ratings given to a team the fit never saw (see `rates`): the prior mean of a newcomer.
    newcomer_attack: float = 0.0
    newcomer_defence: float = 0.0
    _index: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._index.update({team: i for i, team in enumerate(self.teams)})

    def team_ratings(self, team: str) -> tuple[float, float]:
        """(attack, defence) of `team`; a team the fit never saw gets the newcomer's."""
        i = self._index.get(team)
        if i is None:
            return self.newcomer_attack, self.newcomer_defence
        return float(self.attack[i]), float(self.defence[i])

    def knows(self, team: str) -> bool:
        return team in self._index

    def rates(self, home: str, away: str) -> tuple[float, float]:
        """Expected goals (λ home, μ away) of `home` at home against `away`."""
        home_attack, home_defence = self.team_ratings(home)
        away_attack, away_defence = self.team_ratings(away)
        home_rate = np.exp(self.intercept + self.home_advantage + home_attack - away_defence)
        away_rate = np.exp(self.intercept + away_attack - home_defence)
        return float(home_rate), float(away_rate)

    def score_matrix(self, home: str, away: str) -> FloatArray:
        home_rate, away_rate = self.rates(home, away)
        return score_matrix(home_rate, away_rate, self.rho)


# --- Score matrices ------------------------------------------------------------


def rho_bounds(home_rate: float, away_rate: float) -> tuple[float, float]:
    """The ρ for which every τ of a fixture with these rates stays positive.

    τ(0,0) = 1 - λμρ, τ(0,1) = 1 + λρ, τ(1,0) = 1 + μρ, τ(1,1) = 1 - ρ must all be > 0:
    ρ > -1/λ and ρ > -1/μ, ρ < 1/(λμ) and ρ < 1. A margin keeps each τ at least _TAU_FLOOR.
    """
    slack = 1.0 - _TAU_FLOOR
    low = -slack / max(home_rate, away_rate)
    high = slack * min(1.0, 1.0 / (home_rate * away_rate))
    return low, high


def clamp_rho(rho: float, home_rate: float, away_rate: float) -> float:
    low, high = rho_bounds(home_rate, away_rate)
    return min(max(rho, low), high)


def low_score_correction(matrix: FloatArray, home_rate: float, away_rate: float, rho: float) -> None:
    """Multiply the four low-score cells of `matrix` by Dixon–Coles' τ, in place (ρ clamped)."""
    rho = clamp_rho(rho, home_rate, away_rate)
    matrix[0, 0] *= 1.0 - home_rate * away_rate * rho
    matrix[0, 1] *= 1.0 + home_rate * rho
    matrix[1, 0] *= 1.0 + away_rate * rho
    matrix[1, 1] *= 1.0 - rho


_GOALS = np.arange(MAX_GOALS + 1, dtype=np.float64)
_LOG_FACTORIAL = np.concatenate(([0.0], np.cumsum(np.log(np.arange(1, MAX_GOALS + 1)))))


def poisson_pmf(rate: float) -> FloatArray:
    """P(k goals), k = 0..MAX_GOALS, for a Poisson count with mean `rate`."""
    return np.exp(_GOALS * np.log(rate) - rate - _LOG_FACTORIAL)


def score_matrix(home_rate: float, away_rate: float, rho: float = 0.0) -> FloatArray:
    """P[i, j] = P(home goals = i, away goals = j), i, j in 0..MAX_GOALS, summing to 1.

    Independent Poisson goals with the low-score correction, truncated at MAX_GOALS per side
    and renormalised (the tail beyond is spread pro rata: below 1e-4 for rates up to 4).
    """
    if not (home_rate > 0 and away_rate > 0 and np.isfinite(home_rate) and np.isfinite(away_rate)):
        raise ValueError(f"scoring rates must be positive and finite, got {home_rate!r}, {away_rate!r}")
    matrix = np.outer(poisson_pmf(home_rate), poisson_pmf(away_rate))
    low_score_correction(matrix, home_rate, away_rate, rho)
    matrix /= matrix.sum()
    return matrix


# --- The likelihood ------------------------------------------------------------


@dataclass
class _Problem:
    """The arrays of one fit, precomputed once for the objective's many evaluations."""

    n_teams: int
    home: IntArray
    away: IntArray
    target_home: FloatArray  # Poisson targets (goals, or the goals/shots blend)
    target_away: FloatArray
    weights: FloatArray
    # Index sets of the matches on which τ acts, and their weights.
    nil_nil: IntArray
    nil_one: IntArray
    one_nil: IntArray
    one_one: IntArray
    prior_sd: float | None
    prior_attack: FloatArray
    prior_defence: FloatArray


# Layout of the parameter vector: attack (n), defence (n), intercept, home advantage, ρ.
def _unpack(theta: FloatArray, n: int) -> tuple[FloatArray, FloatArray, float, float, float]:
    attack = theta[:n] - theta[:n].mean()
    defence = theta[n : 2 * n] - theta[n : 2 * n].mean()
    return attack, defence, theta[2 * n], theta[2 * n + 1], theta[2 * n + 2]


def negative_log_likelihood(theta: FloatArray, problem: _Problem) -> tuple[float, FloatArray]:
    """The penalised, weighted negative log-likelihood and its gradient with respect to theta.

    The ratings enter centred (x - mean(x)), so the objective is flat along a shift of all
    attacks (or defences) and the gradient has no component there: sum-to-zero without a
    constraint the optimiser must handle.
    """
    n = problem.n_teams
    attack, defence, intercept, home_advantage, rho = _unpack(theta, n)
    home, away, w = problem.home, problem.away, problem.weights

    log_home_rate = intercept + home_advantage + attack[home] - defence[away]
    log_away_rate = intercept + attack[away] - defence[home]
    home_rate = np.exp(log_home_rate)
    away_rate = np.exp(log_away_rate)

    loglik = problem.target_home * log_home_rate - home_rate + problem.target_away * log_away_rate - away_rate
    d_home = problem.target_home - home_rate  # d loglik / d log λ, per match (unweighted)
    d_away = problem.target_away - away_rate
    d_rho = 0.0

    # τ on the low scores. d log τ / d log λ and / d log μ and / d ρ, cell by cell.
    i = problem.nil_nil
    if i.size:
        product = home_rate[i] * away_rate[i]
        tau = np.maximum(1.0 - product * rho, _TAU_FLOOR)
        loglik[i] += np.log(tau)
        d_home[i] -= product * rho / tau
        d_away[i] -= product * rho / tau
        d_rho += float(np.dot(w[i], -product / tau))
    i = problem.nil_one
    if i.size:
        tau = np.maximum(1.0 + home_rate[i] * rho, _TAU_FLOOR)
        loglik[i] += np.log(tau)
        d_home[i] += home_rate[i] * rho / tau
        d_rho += float(np.dot(w[i], home_rate[i] / tau))
    i = problem.one_nil
    if i.size:
        tau = np.maximum(1.0 + away_rate[i] * rho, _TAU_FLOOR)
        loglik[i] += np.log(tau)
        d_away[i] += away_rate[i] * rho / tau
        d_rho += float(np.dot(w[i], away_rate[i] / tau))
    i = problem.one_one
    if i.size:
        tau_one_one = max(1.0 - float(rho), _TAU_FLOOR)
        loglik[i] += np.log(tau_one_one)
        d_rho -= float(w[i].sum()) / tau_one_one

    value = -float(np.dot(w, loglik))
    wd_home = w * d_home
    wd_away = w * d_away
    # (np.bincount with weights sums floats; its stubs say int.)
    grad_attack = -(np.bincount(home, wd_home, n) + np.bincount(away, wd_away, n)).astype(np.float64, copy=False)
    grad_defence = (np.bincount(away, wd_home, n) + np.bincount(home, wd_away, n)).astype(np.float64, copy=False)
    grad_intercept = -float(wd_home.sum() + wd_away.sum())
    grad_home = -float(wd_home.sum())

    if problem.prior_sd is not None:
        precision = 1.0 / problem.prior_sd**2
        attack_gap = attack - problem.prior_attack
        defence_gap = defence - problem.prior_defence
        value += 0.5 * precision * float(attack_gap @ attack_gap + defence_gap @ defence_gap)
        grad_attack = grad_attack + precision * attack_gap
        grad_defence = grad_defence + precision * defence_gap

    # Through the centring x = X - mean(X): dX = dx - mean(dx).
    grad = np.empty_like(theta)
    grad[:n] = grad_attack - grad_attack.mean()
    grad[n : 2 * n] = grad_defence - grad_defence.mean()
    grad[2 * n] = grad_intercept
    grad[2 * n + 1] = grad_home
    grad[2 * n + 2] = -d_rho
    return value, grad


def _targets(data: FitData, shots_weight: float) -> tuple[FloatArray, FloatArray]:
    if shots_weight == 0.0 or data.home_shots_on_target is None or data.away_shots_on_target is None:
        return data.home_goals, data.away_goals
    home_sot, away_sot = data.home_shots_on_target, data.away_shots_on_target
    known = np.isfinite(home_sot) & np.isfinite(away_sot)
    if not known.any():
        return data.home_goals, data.away_goals
    w = data.weights[known]
    goals = float(w @ (data.home_goals[known] + data.away_goals[known]))
    shots = float(w @ (home_sot[known] + away_sot[known]))
    if shots <= 0:
        return data.home_goals, data.away_goals
    per_shot = goals / shots  # the window's conversion: goals per shot on target
    blend = np.where(known, shots_weight, 0.0)
    target_home = (1.0 - blend) * data.home_goals + blend * per_shot * np.nan_to_num(home_sot)
    target_away = (1.0 - blend) * data.away_goals + blend * per_shot * np.nan_to_num(away_sot)
    return target_home, target_away


def _problem(
    data: FitData,
    options: FitOptions,
    prior_attack: FloatArray,
    prior_defence: FloatArray,
) -> _Problem:
    target_home, target_away = _targets(data, options.shots_weight)
    hg, ag = data.home_goals, data.away_goals
    return _Problem(
        n_teams=len(data.teams),
        home=data.home,
        away=data.away,
        target_home=np.ascontiguousarray(target_home, dtype=np.float64),
        target_away=np.ascontiguousarray(target_away, dtype=np.float64),
        weights=data.weights,
        nil_nil=np.flatnonzero((hg == 0) & (ag == 0)),
        nil_one=np.flatnonzero((hg == 0) & (ag == 1)),
        one_nil=np.flatnonzero((hg == 1) & (ag == 0)),
        one_one=np.flatnonzero((hg == 1) & (ag == 1)),
        prior_sd=options.prior_sd,
        prior_attack=prior_attack,
        prior_defence=prior_defence,
    )


def _initial_theta(data: FitData, warm_start: Ratings | None) -> FloatArray:
    n = len(data.teams)
    theta = np.zeros(2 * n + 3)
    total_weight = float(data.weights.sum()) or 1.0
    mean_goals = float(data.weights @ (data.home_goals + data.away_goals)) / (2 * total_weight)
    theta[2 * n] = np.log(max(mean_goals, 0.1))
    theta[2 * n + 1] = 0.2
    theta[2 * n + 2] = -0.05
    if warm_start is not None:
        for i, team in enumerate(data.teams):
            theta[i], theta[n + i] = warm_start.team_ratings(team)
        theta[2 * n] = warm_start.intercept
        theta[2 * n + 1] = warm_start.home_advantage
        theta[2 * n + 2] = min(max(warm_start.rho, RHO_BOUNDS[0]), RHO_BOUNDS[1])
    return theta


def fit(
    data: FitData,
    options: FitOptions | None = None,
    *,
    prior_means: Mapping[str, tuple[float, float]] | None = None,
    newcomer: tuple[float, float] = (0.0, 0.0),
    warm_start: Ratings | None = None,
) -> Ratings:
    """Fit the ratings to `data`.

    `prior_means` maps a team to the (attack, defence) its prior is centred on (default 0, 0:
    a league-average team); `newcomer` is what a team absent from `data` is given. A warm start
    (the previous week's ratings) cuts the optimiser's iterations by about half.
    """
    options = options or FitOptions()
    if len(data.home) == 0:
        raise ValueError("no matches to fit")
    n = len(data.teams)
    prior_attack = np.zeros(n)
    prior_defence = np.zeros(n)
    for i, team in enumerate(data.teams):
        if prior_means and team in prior_means:
            prior_attack[i], prior_defence[i] = prior_means[team]
    problem = _problem(data, options, prior_attack, prior_defence)
    bounds: list[tuple[float, float]] = [(-4.0, 4.0)] * (2 * n) + [(-3.0, 3.0), (-1.0, 1.0), RHO_BOUNDS]
    with _THREADPOOLS.limit(limits=1, user_api="blas"):
        result = minimize(
            negative_log_likelihood,
            _initial_theta(data, warm_start),
            args=(problem,),
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": 1000, "ftol": 1e-10, "gtol": 1e-6},
        )
    attack, defence, intercept, home_advantage, rho = _unpack(result.x, n)
    return Ratings(
        teams=data.teams,
        attack=attack,
        defence=defence,
        intercept=float(intercept),
        home_advantage=float(home_advantage),
        rho=float(rho),
        newcomer_attack=newcomer[0],
        newcomer_defence=newcomer[1],
    )


def time_weights(days_ago: NDArray[np.number], xi: float) -> FloatArray:
    """Dixon–Coles' exp(-ξ · days) match weights."""
    return np.exp(-xi * np.asarray(days_ago, dtype=np.float64))


def team_index(home: Sequence[str], away: Sequence[str]) -> tuple[tuple[str, ...], IntArray, IntArray]:
    """The sorted team names of a set of matches and each match's home and away index."""
    teams = tuple(sorted(set(home) | set(away)))
    index = {team: i for i, team in enumerate(teams)}
    return (
        teams,
        np.fromiter((index[t] for t in home), dtype=np.intp, count=len(home)),
        np.fromiter((index[t] for t in away), dtype=np.intp, count=len(away)),
    )
