"""One league's ratings as of a date: which matches a fit sees, how they weigh, and the priors.

This is the single path from results to ratings, used alike by the walk-forward backtest
(`teammodel/backtest.py`) and by the refit task (`teammodel/services.py`), so the ratings
the book prices with are the ones the backtest measured.

- The fit sees the matches of the `window_days` before `as_of` (three years), each weighted
  exp(-ξ · days before `as_of`).
- Each team's prior is centred on a league-average team, except a team that did not play in
  the league's previous season (promoted): its prior is centred on the average ratings of the
  teams that went down (the sides it replaces). A team with no match at all in the window
  gets exactly that prior as its ratings.

Pure: numpy and scipy only; no Django.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from teammodel.dixon_coles import FitData, FitOptions, Ratings, fit, team_index, time_weights
from teammodel.results import ResultsTable

# Promoted-team priors.
NEWCOMER_RELEGATED = "relegated"  # the average ratings of the teams relegated from the season before
NEWCOMER_FIXED = "fixed"  # a fixed below-average offset
NEWCOMER_AVERAGE = "average"  # a league-average team (plain Dixon–Coles has nothing better)


@dataclass(frozen=True)
class ModelConfig:
    """The model's hyper-parameters: one set for every league (docs/team-model.md says why)."""

    # Time decay per day: a match a year old weighs exp(-365 ξ).
    xi: float = 0.0018
    # How far back a fit looks.
    window_days: int = 3 * 365 + 1
    # Standard deviation of the prior on each rating (None: plain maximum likelihood).
    prior_sd: float | None = None
    # Weight of shots on target in the scoring-rate target.
    shots_weight: float = 0.0
    # The prior of a promoted team (NEWCOMER_*), and the offset NEWCOMER_FIXED uses.
    newcomer: str = NEWCOMER_AVERAGE
    newcomer_offset: float = 0.2

    @property
    def fit_options(self) -> FitOptions:
        return FitOptions(prior_sd=self.prior_sd, shots_weight=self.shots_weight)


# Penaltyblog's Dixon–Coles as the anchor ran it: ξ = 0.0018, three years, no prior.
ANCHOR = ModelConfig()
# The project's model (the backtest in docs/team-model.md chose it, on every league at once).
DEFAULT = ModelConfig(xi=0.0018, prior_sd=0.35, shots_weight=0.0, newcomer=NEWCOMER_RELEGATED)


def window_data(table: ResultsTable, *, as_of_day: int, config: ModelConfig) -> FitData | None:
    """The matches a fit as of `as_of_day` sees (None when there are none)."""
    start = np.searchsorted(table.day, as_of_day - config.window_days, side="left")
    stop = np.searchsorted(table.day, as_of_day, side="left")
    if stop <= start:
        return None
    rows = slice(start, stop)
    teams, home, away = team_index(table.home[rows].tolist(), table.away[rows].tolist())
    return FitData(
        teams=teams,
        home=home,
        away=away,
        home_goals=table.home_goals[rows],
        away_goals=table.away_goals[rows],
        weights=time_weights(as_of_day - table.day[rows], config.xi),
        home_shots_on_target=table.home_shots_on_target[rows],
        away_shots_on_target=table.away_shots_on_target[rows],
    )


def _mean_ratings(ratings: Ratings, teams: set[str]) -> tuple[float, float] | None:
    known = [ratings.team_ratings(t) for t in teams if ratings.knows(t)]
    if not known:
        return None
    attack, defence = np.mean(known, axis=0)
    return float(attack), float(defence)


def newcomer_prior(
    config: ModelConfig,
    *,
    promoted: set[str],
    relegated: set[str],
    reference: Ratings | None,
) -> tuple[float, float]:
    """The (attack, defence) a promoted team's prior is centred on."""
    if config.newcomer == NEWCOMER_FIXED:
        return -config.newcomer_offset, -config.newcomer_offset
    if config.newcomer == NEWCOMER_RELEGATED and reference is not None:
        mean = _mean_ratings(reference, relegated)
        if mean is not None:
            return mean
        return -config.newcomer_offset, -config.newcomer_offset
    return 0.0, 0.0


def league_fit(
    table: ResultsTable,
    *,
    as_of_day: int,
    season: int,
    config: ModelConfig,
    previous: Ratings | None = None,
) -> Ratings | None:
    """The ratings for `season`'s matches from `as_of_day` on (None with no data before it).

    `season` (an index into `table.seasons`) is the season being predicted: its teams that
    did not play the season before are the promoted ones. `previous` (last week's ratings)
    warm-starts the optimiser and gives the relegated teams' ratings for the promoted prior.
    """
    data = window_data(table, as_of_day=as_of_day, config=config)
    if data is None:
        return None
    current = table.teams_of_season(season)
    before = table.teams_of_season(season - 1) if season > 0 else set()
    promoted = current - before if before else set()
    relegated = before - current
    reference = previous
    if config.newcomer == NEWCOMER_RELEGATED and reference is None and promoted:
        # No ratings yet to take the relegated teams' from: a first fit without the prior.
        reference = fit(data, config.fit_options)
    newcomer = newcomer_prior(config, promoted=promoted, relegated=relegated, reference=reference)
    prior_means = dict.fromkeys(promoted, newcomer) if config.prior_sd is not None else None
    return fit(data, config.fit_options, prior_means=prior_means, newcomer=newcomer, warm_start=previous)
