"""Walk-forward backtest: fit on what came before each week, predict that week, score it.

For each 7-day window from `since`, the ratings are fitted as of the window's first day on the
three years before it (`teammodel.forecast.league_fit`, warm-started from the previous week)
and every match of the window is predicted from them; before kick-off, or, with
`at_half_time`, given the match's half-time score. The forecasts are scored with the ranked
probability score of the 1X2 (Epstein 1969; the mean over matches of
½ · Σ_k (cumulative forecast_k - cumulative outcome_k)² over home, draw) and the Brier score of
over/under 2.5 goals ((p_over - outcome)²), beside the league's base rate: the H/D/A
frequencies of the matches before `since`, forecast for every match.

Pure: numpy and scipy only; no Django.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from teammodel.dixon_coles import FloatArray, Ratings
from teammodel.forecast import DEFAULT, ModelConfig, league_fit
from teammodel.inplay import DEFAULT_PARAMS, InPlayParams, MatchState, Period, final_score_matrix
from teammodel.results import ResultsTable, day_date

WINDOW_DAYS = 7


def outcome_probabilities(matrix: FloatArray) -> tuple[float, float, float]:
    """P(home win), P(draw), P(away win) of a score matrix."""
    return float(np.tril(matrix, -1).sum()), float(np.trace(matrix)), float(np.triu(matrix, 1).sum())


def over_probability(matrix: FloatArray, line: float = 2.5) -> float:
    goals = np.add.outer(np.arange(matrix.shape[0]), np.arange(matrix.shape[1]))
    return float(matrix[goals > line].sum())


def both_score_probability(matrix: FloatArray) -> float:
    return float(matrix[1:, 1:].sum())


def ranked_probability_score(forecasts: FloatArray, outcomes: np.ndarray) -> float:
    """Mean RPS of (n, 3) home/draw/away forecasts against outcomes 0 (home), 1 (draw), 2 (away)."""
    if len(forecasts) == 0:
        return float("nan")
    observed = np.zeros_like(forecasts)
    observed[np.arange(len(outcomes)), outcomes] = 1.0
    gaps = np.cumsum(forecasts, axis=1)[:, :2] - np.cumsum(observed, axis=1)[:, :2]
    return float(np.mean(np.sum(gaps**2, axis=1) / 2))


def brier_score(probabilities: FloatArray, happened: np.ndarray) -> float:
    if len(probabilities) == 0:
        return float("nan")
    return float(np.mean((probabilities - happened.astype(np.float64)) ** 2))


def outcome_codes(home_goals: FloatArray, away_goals: FloatArray) -> np.ndarray:
    return np.where(home_goals > away_goals, 0, np.where(home_goals == away_goals, 1, 2))


@dataclass(frozen=True)
class Prediction:
    day: int
    home: str
    away: str
    p_home: float
    p_draw: float
    p_away: float
    p_over_2_5: float
    p_btts: float
    home_rate: float
    away_rate: float
    home_goals: int
    away_goals: int
    home_goals_half_time: int | None = None
    away_goals_half_time: int | None = None

    @property
    def date(self) -> str:
        return day_date(self.day).isoformat()


@dataclass
class BacktestResult:
    predictions: list[Prediction] = field(default_factory=list)
    # CPU seconds of each weekly fit (one core: a fit is single-threaded).
    fit_seconds: list[float] = field(default_factory=list)
    base_rates: tuple[float, float, float] = (1 / 3, 1 / 3, 1 / 3)
    windows: int = 0

    def _outcomes(self) -> np.ndarray:
        return outcome_codes(
            np.array([p.home_goals for p in self.predictions], dtype=np.float64),
            np.array([p.away_goals for p in self.predictions], dtype=np.float64),
        )

    @property
    def rps(self) -> float:
        forecasts = np.array([(p.p_home, p.p_draw, p.p_away) for p in self.predictions]).reshape(-1, 3)
        return ranked_probability_score(forecasts, self._outcomes())

    @property
    def base_rate_rps(self) -> float:
        forecasts = np.tile(np.array(self.base_rates), (len(self.predictions), 1))
        return ranked_probability_score(forecasts, self._outcomes())

    @property
    def over_2_5_brier(self) -> float:
        over = np.array([p.p_over_2_5 for p in self.predictions])
        happened = np.array([p.home_goals + p.away_goals > 2.5 for p in self.predictions])
        return brier_score(over, happened)


def base_rates(table: ResultsTable, before_day: int) -> tuple[float, float, float]:
    """The league's home/draw/away frequencies before `before_day` (thirds if none)."""
    earlier = table.day < before_day
    if not earlier.any():
        return (1 / 3, 1 / 3, 1 / 3)
    codes = outcome_codes(table.home_goals[earlier], table.away_goals[earlier])
    counts = np.bincount(codes, minlength=3).astype(np.float64)
    home, draw, away = counts / counts.sum()
    return float(home), float(draw), float(away)


def walk_forward(
    table: ResultsTable,
    *,
    since_day: int,
    config: ModelConfig = DEFAULT,
    at_half_time: bool = False,
    in_play: InPlayParams = DEFAULT_PARAMS,
    progress: Callable[[int, int, BacktestResult], None] | None = None,
) -> BacktestResult:
    """Predict every match from `since_day` on, a week at a time (see the module's docstring).

    `progress(window, windows, result)` is called after each window. Matches without a
    half-time score are left out of a half-time run.
    """
    result = BacktestResult(base_rates=base_rates(table, since_day))
    if len(table) == 0 or table.day[-1] < since_day:
        return result
    windows = (int(table.day[-1]) - since_day) // WINDOW_DAYS + 1
    result.windows = windows
    previous: Ratings | None = None
    for window in range(windows):
        start = since_day + window * WINDOW_DAYS
        first = int(np.searchsorted(table.day, start, side="left"))
        stop = int(np.searchsorted(table.day, start + WINDOW_DAYS, side="left"))
        if stop > first:
            started = time.process_time()
            ratings = league_fit(
                table, as_of_day=start, season=int(table.season[first]), config=config, previous=previous
            )
            if ratings is not None:
                result.fit_seconds.append(time.process_time() - started)
                previous = ratings
                result.predictions.extend(_predict(table, range(first, stop), ratings, at_half_time, in_play))
        if progress is not None:
            progress(window + 1, windows, result)
    return result


def _predict(
    table: ResultsTable, rows: range, ratings: Ratings, at_half_time: bool, in_play: InPlayParams
) -> list[Prediction]:
    predictions = []
    for row in rows:
        home, away = str(table.home[row]), str(table.away[row])
        home_rate, away_rate = ratings.rates(home, away)
        half_home, half_away = table.home_goals_half_time[row], table.away_goals_half_time[row]
        half_time_known = bool(np.isfinite(half_home) and np.isfinite(half_away))
        if at_half_time:
            if not half_time_known:
                continue
            state = MatchState(period=Period.HALF_TIME, home_goals=int(half_home), away_goals=int(half_away))
            matrix = final_score_matrix(home_rate, away_rate, ratings.rho, state, in_play)
        else:
            matrix = ratings.score_matrix(home, away)
        p_home, p_draw, p_away = outcome_probabilities(matrix)
        predictions.append(
            Prediction(
                day=int(table.day[row]),
                home=home,
                away=away,
                p_home=p_home,
                p_draw=p_draw,
                p_away=p_away,
                p_over_2_5=over_probability(matrix),
                p_btts=both_score_probability(matrix),
                home_rate=home_rate,
                away_rate=away_rate,
                home_goals=int(table.home_goals[row]),
                away_goals=int(table.away_goals[row]),
                home_goals_half_time=int(half_home) if half_time_known else None,
                away_goals_half_time=int(half_away) if half_time_known else None,
            )
        )
    return predictions


PREDICTION_COLUMNS = ("date", "home", "away", "p_home", "p_draw", "p_away", "p_over_2_5", "p_btts")
# Further columns, after the contract's: the rates behind each forecast and what happened.
EXTRA_COLUMNS = ("lambda_home", "lambda_away", "home_goals", "away_goals", "half_time_home", "half_time_away")


def prediction_row(prediction: Prediction) -> list[str]:
    def optional(value: int | None) -> str:
        return "" if value is None else str(value)

    p = prediction
    return [
        p.date,
        p.home,
        p.away,
        *(f"{value:.6f}" for value in (p.p_home, p.p_draw, p.p_away, p.p_over_2_5, p.p_btts)),
        f"{p.home_rate:.4f}",
        f"{p.away_rate:.4f}",
        str(p.home_goals),
        str(p.away_goals),
        optional(p.home_goals_half_time),
        optional(p.away_goals_half_time),
    ]
