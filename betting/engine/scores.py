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
_STEP = 1e-6  # finite-difference step on the log-means

OVER_UNDER_LINE = 2.5


def _poisson(mean: float) -> list[float]:
    pmf = [exp(-mean)]
    for goals in range(1, MAX_GOALS + 1):
        pmf.append(pmf[-1] * mean / goals)
    return pmf


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
        home, away, mass = self._pmfs()
        home_below = 0.0  # P(home goals < a) as a runs over the away score
        home_win = draw = away_win = 0.0
        home_total = sum(home)
        for goals, away_p in enumerate(away):
            draw += home[goals] * away_p
            away_win += home_below * away_p
            home_below += home[goals]
            home_win += (home_total - home_below) * away_p
        return {"home": home_win / mass, "draw": draw / mass, "away": away_win / mass}

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


def _residuals(log_home: float, log_away: float, target: Mapping[str, float]) -> tuple[float, float]:
    outcome = ScoreModel(exp(log_home), exp(log_away)).outcome_probabilities()
    return outcome["home"] - target["home"], outcome["away"] - target["away"]


def _clamp(log_mean: float) -> float:
    return min(max(log_mean, log(MIN_MEAN)), log(MAX_MEAN))


def fit_score_model(outcome: Mapping[str, float]) -> ScoreModel:
    """The Poisson means whose home-win and away-win probabilities match `outcome`.

    Damped Newton on the log-means with a finite-difference Jacobian: two unknowns, two
    equations (the draw follows because both sides sum to 1). Starts from a typical
    football match (1.4 and 1.1 goals) tilted by the odds ratio.
    """
    log_home = _clamp(log(1.3) + 0.5 * log(outcome["home"] / outcome["away"]))
    log_away = _clamp(log(1.3) - 0.5 * log(outcome["home"] / outcome["away"]))
    r_home, r_away = _residuals(log_home, log_away, outcome)
    for _ in range(_MAX_ITERATIONS):
        error = abs(r_home) + abs(r_away)
        if error < _TOLERANCE:
            break
        dh_home, dh_away = _residuals(log_home + _STEP, log_away, outcome)
        da_home, da_away = _residuals(log_home, log_away + _STEP, outcome)
        j11, j21 = (dh_home - r_home) / _STEP, (dh_away - r_away) / _STEP
        j12, j22 = (da_home - r_home) / _STEP, (da_away - r_away) / _STEP
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
            c_home, c_away = _residuals(candidate_home, candidate_away, outcome)
            if abs(c_home) + abs(c_away) < error:
                log_home, log_away, r_home, r_away = candidate_home, candidate_away, c_home, c_away
                break
            scale /= 2.0
        else:
            break  # no step improves: the closest distribution the family allows
    return ScoreModel(exp(log_home), exp(log_away))
