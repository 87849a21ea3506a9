"""A match's score prior: the distribution of the final score every market is priced from.

It is chosen once, when the match opens (or when a trader overrides the opening prices), and
stored on the match (`Match.score_prior`), so the odds recompute reads a matrix and fits
nothing (docs/odds-engine.md, "What prices a match").

- **From the team model:** `teammodel.selectors.fixture_score_prior`, the Dixon-Coles matrix
  of the latest ratings covering the fixture.
- **From a trader's 1X2 odds:** the odds lose their margin (`ODDS_MARGIN_METHOD`), then the
  two Poisson means whose home-win and away-win probabilities match them are fitted (two
  equations, two unknowns: the draw follows, and so does the total of goals), with no
  low-score correction (rho = 0). The 1X2 the book then prices is the typed one re-margined
  with the book's own 1X2 margin.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from math import lgamma, log
from typing import Any

import numpy as np
import numpy.typing as npt
from django.apps import apps

from betting.engine.margin import fair_probabilities
from betting.engine.markets import GRID
from betting.engine.scores import fit_score_model

Distribution = npt.NDArray[np.float64]


class NoModelPrices(LookupError):
    """The team model has no ratings covering the fixture: its prices must be typed."""


@dataclass(frozen=True)
class ScorePrior:
    """The stored form of a score distribution and where it came from."""

    matrix: Distribution
    home_goals: float  # λ, the home side's expected goals
    away_goals: float  # μ
    rho: float  # the Dixon-Coles low-score correction (0: independent Poisson)
    source: str  # PriorSource: "model" or "trader"
    fit_id: int | None = None  # the team model's fit, for a model prior

    def as_json(self) -> dict[str, Any]:
        return {
            "matrix": [[round(float(p), 12) for p in row] for row in self.matrix],
            **self.parameters(),
            "fit_id": self.fit_id,
        }

    def parameters(self) -> dict[str, Any]:
        return {
            "home_goals": round(self.home_goals, 6),
            "away_goals": round(self.away_goals, 6),
            "rho": round(self.rho, 6),
            "source": self.source,
        }


def _poisson(mean: float) -> npt.NDArray[np.float64]:
    goals = np.arange(GRID)
    return np.exp(goals * log(mean) - mean - np.array([lgamma(k + 1) for k in goals]))


def poisson_matrix(home_goals: float, away_goals: float) -> Distribution:
    """Independent Poisson goals, 0..10 a side, renormalised to sum to 1."""
    matrix = np.outer(_poisson(home_goals), _poisson(away_goals))
    return matrix / matrix.sum()


def prior_from_odds(odds: Mapping[str, Decimal], margin_method: str) -> ScorePrior:
    """The score distribution a trader's 1X2 odds stand for (see the module's docstring)."""
    fair = fair_probabilities(odds, margin_method)
    fitted = fit_score_model(fair)
    return ScorePrior(
        matrix=poisson_matrix(fitted.home_mean, fitted.away_mean),
        home_goals=fitted.home_mean,
        away_goals=fitted.away_mean,
        rho=0.0,
        source="trader",
    )


def prior_from_model(*, home_team: str, away_team: str, league: str | None = None) -> ScorePrior:
    """The team model's distribution for the fixture; NoModelPrices when no fit covers it."""
    if not apps.is_installed("teammodel"):
        raise NoModelPrices("the team model is not installed")
    from teammodel.selectors import NoRatings, fixture_score_prior

    try:
        found = fixture_score_prior(home=home_team, away=away_team, league=league)
    except NoRatings as exc:
        raise NoModelPrices(str(exc)) from None
    return ScorePrior(
        matrix=np.asarray(found.matrix, dtype=np.float64),
        home_goals=float(found.home_goals),
        away_goals=float(found.away_goals),
        rho=float(found.rho),
        source="model",
        fit_id=found.fit_id,
    )


def prior_matrix(stored: Mapping[str, Any]) -> Distribution:
    """The matrix of a stored prior, renormalised (its JSON form is rounded to 12 places)."""
    matrix = np.asarray(stored["matrix"], dtype=np.float64)
    return matrix / matrix.sum()
