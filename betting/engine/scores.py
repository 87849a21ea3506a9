"""One score distribution behind every market of a match.

The 1X2 probabilities say who wins but not by how much; Over/Under and Both Teams To Score
need the distribution of the score itself. Goals of each side are modelled as independent
Poisson counts (Maher 1982), with means chosen so the model gives back the 1X2
probabilities; every derived market is then read from that one distribution, so the
markets cannot contradict each other or the 1X2.

Scores are truncated at `MAX_GOALS` per side and the distribution renormalised; means are
bounded to [`MIN_MEAN`, `MAX_MEAN`], where the truncated mass stays below 1e-6. A 1X2 the
Poisson family cannot express (a draw below about 8% with evenly matched sides) gets the
closest distribution, found by the same solver.

Pure: no Django, no I/O, deterministic.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from math import exp, log

MAX_GOALS = 20
MIN_MEAN = 0.02
MAX_MEAN = 8.0
_TOLERANCE = 1e-10
_MAX_ITERATIONS = 60

OVER_UNDER_LINE = 2.5


def _poisson(mean: float) -> list[float]:
    pmf = [exp(-mean)]
    for goals in range(1, MAX_GOALS + 1):
        pmf.append(pmf[-1] * mean / goals)
    return pmf


def _outcome_probabilities(home: list[float], away: list[float], mass: float) -> dict[str, float]:
    """P(home win), P(draw), P(away win) from the two sides' goal distributions, in one pass."""
    home_below = 0.0  # P(home goals < a) as a runs over the away score
    home_win = draw = away_win = 0.0
    home_total = sum(home)
    for goals, away_p in enumerate(away):
        draw += home[goals] * away_p
        away_win += home_below * away_p
        home_below += home[goals]
        home_win += (home_total - home_below) * away_p
    return {"home": home_win / mass, "draw": draw / mass, "away": away_win / mass}


@dataclass(frozen=True)
class ScoreModel:
    """Independent Poisson goals for each side, truncated at MAX_GOALS and renormalised."""

    home_mean: float
    away_mean: float

    def _pmfs(self) -> tuple[list[float], list[float], float]:
        home, away = _poisson(self.home_mean), _poisson(self.away_mean)
        return home, away, sum(home) * sum(away)

    def outcome_probabilities(self) -> dict[str, float]:
        """P(home win), P(draw), P(away win) of this distribution."""
        return _outcome_probabilities(*self._pmfs())

    def total_goals_at_most(self, goals: int) -> float:
        home, away, mass = self._pmfs()
        return sum(home[h] * away[a] for h in range(goals + 1) for a in range(goals + 1 - h)) / mass

    def both_teams_score(self) -> float:
        home, away, mass = self._pmfs()
        return (sum(home) - home[0]) * (sum(away) - away[0]) / mass

    def market_probabilities(self) -> dict[str, dict[str, float]]:
        """Fair probabilities of the derived markets, each summing to 1."""
        under = self.total_goals_at_most(int(OVER_UNDER_LINE))
        both = self.both_teams_score()
        return {
            "over_under_2_5": {"over": 1.0 - under, "under": under},
            "both_teams_to_score": {"yes": both, "no": 1.0 - both},
        }


def _residuals_and_jacobian(
    log_home: float, log_away: float, target: Mapping[str, float]
) -> tuple[float, float, tuple[float, float, float, float]]:
    """Residuals (home-win, away-win) and their derivatives by the log-means, in one pass.

    For a Poisson count, d/dλ P(X > k) = P(X = k); so d P(home win)/d λ_home = Σ_k P(H = k)
    P(A = k) (the draw mass), d P(home win)/d λ_away = -Σ_k P(A = k) P(H = k + 1), and
    symmetrically. (The truncation's renormalisation is left out of the derivatives: it
    changes Newton's steps a little, never the solution it converges to.)
    """
    home_mean, away_mean = exp(log_home), exp(log_away)
    home, away = _poisson(home_mean), _poisson(away_mean)
    outcome = _outcome_probabilities(home, away, sum(home) * sum(away))
    draw_mass = sum(h * a for h, a in zip(home, away, strict=True))
    home_one_more = sum(away[k] * home[k + 1] for k in range(MAX_GOALS))
    away_one_more = sum(home[k] * away[k + 1] for k in range(MAX_GOALS))
    jacobian = (
        draw_mass * home_mean,
        -home_one_more * away_mean,
        -away_one_more * home_mean,
        draw_mass * away_mean,
    )
    return outcome["home"] - target["home"], outcome["away"] - target["away"], jacobian


def _clamp(log_mean: float) -> float:
    return min(max(log_mean, log(MIN_MEAN)), log(MAX_MEAN))


def fit_score_model(outcome: Mapping[str, float]) -> ScoreModel:
    """The Poisson means whose home-win and away-win probabilities match `outcome`.

    Damped Newton on the log-means with the analytic Jacobian: two unknowns, two equations
    (the draw follows because all three sum to 1). Starts from a typical football match
    (1.3 goals a side) tilted by the odds ratio; converges in about five steps.
    """
    log_home = _clamp(log(1.3) + 0.5 * log(outcome["home"] / outcome["away"]))
    log_away = _clamp(log(1.3) - 0.5 * log(outcome["home"] / outcome["away"]))
    r_home, r_away, (j11, j12, j21, j22) = _residuals_and_jacobian(log_home, log_away, outcome)
    for _ in range(_MAX_ITERATIONS):
        error = abs(r_home) + abs(r_away)
        if error < _TOLERANCE:
            break
        determinant = j11 * j22 - j12 * j21
        if abs(determinant) < 1e-14:
            break
        step_home = (r_home * j22 - r_away * j12) / determinant
        step_away = (r_away * j11 - r_home * j21) / determinant
        # Halve the step until the error falls: keeps Newton from overshooting near the bounds.
        scale = 1.0
        while scale > 1e-4:
            candidate_home = _clamp(log_home - scale * step_home)
            candidate_away = _clamp(log_away - scale * step_away)
            c_home, c_away, c_jacobian = _residuals_and_jacobian(candidate_home, candidate_away, outcome)
            if abs(c_home) + abs(c_away) < error:
                log_home, log_away, r_home, r_away = candidate_home, candidate_away, c_home, c_away
                j11, j12, j21, j22 = c_jacobian
                break
            scale /= 2.0
        else:
            break  # no step improves: the closest distribution the family allows
    return ScoreModel(exp(log_home), exp(log_away))
