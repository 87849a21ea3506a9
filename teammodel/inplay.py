"""The distribution of a match's final score given its state: clock, score and red cards.

From the pre-match scoring rates (λ, μ) of the team model:

1. **Time left.** Goals do not fall evenly: the second half holds `second_half_share` of them
   (0.560 in the shipped data: 2015/16 to 2025/26, four leagues, 16,395 matches). The scoring
   intensity is taken to grow linearly with time played, g(u) ∝ 1 + κu, with κ set so that
   the second half's share is that figure; each half is played with its expected stoppage
   time. The expected goals still to come are the rate times the share of ∫ g(u) du over the
   time left.
2. **The score.** While a side is behind, its rate is multiplied by `trailing_factor` (1.1: it
   pushes forward); the side ahead keeps its rate (`leading_factor` 1.0). Chosen on the
   seasons before the backtest's (2016/17 to 2018/19), where both the half-time RPS and the
   likelihood of the second-half goals say a side behind scores more than its rate.
3. **Red cards.** Each red card multiplies the rest of the match's rate of the side down to
   ten by `red_card_own` (0.75) and the opponent's by `red_card_opponent` (1.2);
   docs/team-model.md says where these come from.
4. The goals to come are added to the current score, so every final score below the current
   one has probability 0 (an over 2.5 is certain once three goals are in). The matrix is
   truncated at MAX_GOALS per side and renormalised, as before kick-off.

Two variants were measured on the half-time backtest and are off by default: the low-score
correction on the goals still to come (`rho_in_play`), and a Bayesian update of each side's
rate from its goals so far (`form_shape`: a Gamma prior on a rate multiplier, which makes the
goals to come negative binomial). Both made the forecast worse on every league.

Pure: numpy and scipy only; no Django.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from scipy.special import gammaln

from teammodel.dixon_coles import MAX_GOALS, FloatArray, low_score_correction, score_matrix


class Period(StrEnum):
    PRE_MATCH = "pre_match"
    FIRST_HALF = "first_half"
    HALF_TIME = "half_time"
    SECOND_HALF = "second_half"
    FULL_TIME = "full_time"


HALF_MINUTES = 45.0


@dataclass(frozen=True)
class MatchState:
    """Where a match stands. `minute` is the clock (0 at kick-off, 45 at the second half's
    start, past 45 or 90 in stoppage time); it is ignored before kick-off, at half-time and
    at full time."""

    period: Period
    minute: float = 0.0
    home_goals: int = 0
    away_goals: int = 0
    home_red_cards: int = 0
    away_red_cards: int = 0

    def __post_init__(self) -> None:
        counts = (self.home_goals, self.away_goals, self.home_red_cards, self.away_red_cards)
        if min(counts) < 0:
            raise ValueError("goals and red cards cannot be negative")
        if self.home_red_cards > 5 or self.away_red_cards > 5:
            raise ValueError("a side has at most 5 red cards (7 players on the pitch)")
        if not np.isfinite(self.minute) or self.minute < 0:
            raise ValueError("the clock must be a non-negative number of minutes")


@dataclass(frozen=True)
class InPlayParams:
    """How the rates scale in play (docs/team-model.md has where each figure comes from)."""

    second_half_share: float = 0.560
    # Expected stoppage time of each half, in minutes.
    first_half_stoppage: float = 2.0
    second_half_stoppage: float = 5.0
    # Least playing time still to come while a half is on, whatever the clock says.
    minimum_minutes_left: float = 1.0
    red_card_own: float = 0.75
    red_card_opponent: float = 1.2
    # The rest of the match's rate of the side ahead, and of the side behind, while the score
    # is not level.
    leading_factor: float = 1.0
    trailing_factor: float = 1.1
    # Shape of the Gamma prior on each side's rate multiplier; None: no update (Poisson).
    form_shape: float | None = None
    # Whether the low-score correction applies to the goals still to come.
    rho_in_play: bool = False

    @property
    def intensity_growth(self) -> float:
        """κ in g(u) ∝ 1 + κu, set so the second half holds `second_half_share` of the goals."""
        first = HALF_MINUTES + self.first_half_stoppage
        total = first + HALF_MINUTES + self.second_half_stoppage
        share = self.second_half_share
        # share · ∫0^T g = ∫first^T g, linear in κ: share(T + κT²/2) = (T - first) + κ(T² - first²)/2
        denominator = (total**2 - first**2) / 2 - share * total**2 / 2
        return (share * total - (total - first)) / denominator

    def elapsed_minutes(self, state: MatchState) -> float:
        """Playing time behind the state, on the model's clock (each half with its stoppage)."""
        first = HALF_MINUTES + self.first_half_stoppage
        second = HALF_MINUTES + self.second_half_stoppage
        if state.period is Period.PRE_MATCH:
            return 0.0
        if state.period is Period.FIRST_HALF:
            return min(state.minute, first - self.minimum_minutes_left)
        if state.period is Period.HALF_TIME:
            return first
        if state.period is Period.SECOND_HALF:
            played = max(state.minute - HALF_MINUTES, 0.0)
            return first + min(played, second - self.minimum_minutes_left)
        return first + second

    def remaining_share(self, state: MatchState) -> float:
        """The share of a whole match's expected goals still to come."""
        kappa = self.intensity_growth
        total = 2 * HALF_MINUTES + self.first_half_stoppage + self.second_half_stoppage
        elapsed = self.elapsed_minutes(state)

        def integral(u: float) -> float:
            return u + kappa * u * u / 2

        return (integral(total) - integral(elapsed)) / integral(total)


DEFAULT_PARAMS = InPlayParams()
# The anchor: the pre-match rates times the second half's share (0.555), nothing else.
ANCHOR_PARAMS = InPlayParams(
    second_half_share=0.555, red_card_own=1.0, red_card_opponent=1.0, leading_factor=1.0, trailing_factor=1.0
)


def _goals_to_come(rate: float, scored: int, expected_so_far: float, shape: float | None) -> FloatArray:
    """P(k more goals), k = 0..MAX_GOALS: Poisson, or negative binomial after the form update."""
    k = np.arange(MAX_GOALS + 1, dtype=np.float64)
    if shape is None:
        return np.exp(k * np.log(rate) - rate - gammaln(k + 1))
    # Multiplier θ ~ Gamma(shape, shape); goals so far ~ Poisson(θ · expected_so_far);
    # posterior θ ~ Gamma(shape + scored, shape + expected_so_far); goals to come ~
    # Poisson(θ · rate), a negative binomial with r = shape + scored.
    r = shape + scored
    p = (shape + expected_so_far) / (shape + expected_so_far + rate)
    return np.exp(gammaln(k + r) - gammaln(r) - gammaln(k + 1) + r * np.log(p) + k * np.log1p(-p))


def remaining_rates(
    home_rate: float, away_rate: float, state: MatchState, params: InPlayParams = DEFAULT_PARAMS
) -> tuple[float, float]:
    """Expected goals still to come (home, away), before the form update, given the state."""
    share = params.remaining_share(state)
    home = home_rate * share * params.red_card_own**state.home_red_cards
    home *= params.red_card_opponent**state.away_red_cards
    away = away_rate * share * params.red_card_own**state.away_red_cards
    away *= params.red_card_opponent**state.home_red_cards
    if state.home_goals > state.away_goals:
        home, away = home * params.leading_factor, away * params.trailing_factor
    elif state.home_goals < state.away_goals:
        home, away = home * params.trailing_factor, away * params.leading_factor
    return home, away


def final_score_matrix(
    home_rate: float,
    away_rate: float,
    rho: float,
    state: MatchState,
    params: InPlayParams = DEFAULT_PARAMS,
) -> FloatArray:
    """P[i, j] = P(final score i-j | state), i, j in 0..MAX_GOALS, summing to 1.

    Before kick-off this is the pre-match matrix. Scores below the current one are 0; a
    current score past MAX_GOALS on a side is held at MAX_GOALS (the matrix's last row or
    column then means "MAX_GOALS or more").
    """
    if state.period is Period.PRE_MATCH:
        return score_matrix(home_rate, away_rate, rho)
    home_goals = min(state.home_goals, MAX_GOALS)
    away_goals = min(state.away_goals, MAX_GOALS)
    matrix = np.zeros((MAX_GOALS + 1, MAX_GOALS + 1))
    if state.period is Period.FULL_TIME:
        matrix[home_goals, away_goals] = 1.0
        return matrix
    home_left, away_left = remaining_rates(home_rate, away_rate, state, params)
    home_left = max(home_left, 1e-9)
    away_left = max(away_left, 1e-9)
    elapsed_share = 1.0 - params.remaining_share(state)
    to_come = np.outer(
        _goals_to_come(home_left, state.home_goals, home_rate * elapsed_share, params.form_shape),
        _goals_to_come(away_left, state.away_goals, away_rate * elapsed_share, params.form_shape),
    )
    if params.rho_in_play:
        low_score_correction(to_come, home_left, away_left, rho)
    rows, cols = MAX_GOALS + 1 - home_goals, MAX_GOALS + 1 - away_goals
    matrix[home_goals:, away_goals:] = to_come[:rows, :cols]
    matrix /= matrix.sum()
    return matrix
