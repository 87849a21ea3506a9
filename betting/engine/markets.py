"""The markets of a match: their stable keys, their selections and how each one settles.

A market is read from the final score alone (home goals, away goals at full time), so one
function, `Market.outcome`, is both the settlement rule and the definition the pricing reads
the score distribution with: a selection's probability is the mass of the scores on which it
wins. Pricing and settlement cannot disagree.

Keys are what a database row and the wire carry; they never change once a match is priced:

| market key | kind | selections |
|---|---|---|
| `1x2` | 1x2 | `home`, `draw`, `away` |
| `double_chance` | double_chance | `home_or_draw`, `home_or_away`, `draw_or_away` |
| `draw_no_bet` | draw_no_bet | `home`, `away` (stake returned on a draw) |
| `over_under_0_5` … `over_under_4_5` | over_under | `over`, `under` |
| `both_teams_to_score` | both_teams_to_score | `yes`, `no` |
| `correct_score` | correct_score | `0-0` … `4-4`, `other` |
| `asian_handicap_minus_1_5`, `asian_handicap_plus_0_5`, … | asian_handicap | `home`, `away` |

An Asian handicap key names the home side's handicap: `asian_handicap_minus_1_5` is home
-1.5 (away +1.5). Lines are half goals only, so a bet never pushes.

Pure: no Django, no I/O, deterministic.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from functools import lru_cache

import numpy as np
import numpy.typing as npt

WON, LOST, VOID = "won", "lost", "void"
OUTCOMES = (WON, LOST, VOID)

# Market kinds: the unit the parameters (margin, liability limit) are set per.
ONE_X_TWO = "1x2"
DOUBLE_CHANCE = "double_chance"
DRAW_NO_BET = "draw_no_bet"
OVER_UNDER = "over_under"
BOTH_TEAMS_TO_SCORE = "both_teams_to_score"
CORRECT_SCORE = "correct_score"
ASIAN_HANDICAP = "asian_handicap"
KINDS = (ONE_X_TWO, DOUBLE_CHANCE, DRAW_NO_BET, OVER_UNDER, BOTH_TEAMS_TO_SCORE, CORRECT_SCORE, ASIAN_HANDICAP)

OVER_UNDER_LINES = (0.5, 1.5, 2.5, 3.5, 4.5)
CORRECT_SCORE_MAX_GOALS = 4  # 0-0 to 4-4 are named; every other score is "other"
CORRECT_SCORE_OTHER = "other"
ASIAN_HANDICAP_LINES_EACH_SIDE = 2  # lines offered either side of the main one
MAX_ASIAN_HANDICAP = 9.5  # a home handicap beyond ±9.5 cannot win or lose inside the score grid

# The score distribution's grid: rows are home goals 0..MAX_GOALS, columns away goals.
MAX_GOALS = 10
GRID = MAX_GOALS + 1
CENT = Decimal("0.01")


class UnknownMarket(ValueError):
    """A market key or selection the catalogue does not define."""


def _line_key(line: float) -> str:
    """2.5 → '2_5': the decimal point spelt so the key is safe in a URL, a file or a column."""
    return f"{abs(line):.1f}".replace(".", "_")


def _is_half_goal(line: float) -> bool:
    return (line * 2) % 2 == 1


@dataclass(frozen=True)
class Market:
    """One market of a match: its key, its kind, its selections and its line (if any).

    `line` is the goal total of an over/under market and the home side's handicap of an
    Asian handicap market.
    """

    key: str
    kind: str
    selections: tuple[str, ...]
    line: float | None = None

    @property
    def covers_each_score(self) -> int:
        """How many of the selections win on any one score: 2 for double chance (every
        result is in two of them), 1 for every other market (its selections split the
        scores, a draw no bet's after its void draws are left out)."""
        return 2 if self.kind == DOUBLE_CHANCE else 1

    def outcome(self, selection: str, home: int, away: int) -> str:
        """WON, LOST or VOID for a bet on `selection` when the match ends `home`-`away`.

        The settlement rules, stated in docs/odds-engine.md#settlement-rules-per-market.
        """
        if selection not in self.selections:
            raise UnknownMarket(f"{selection!r} is not a selection of {self.key!r}; expected one of {self.selections}.")
        if home < 0 or away < 0:
            raise ValueError(f"A score cannot be negative: {home}-{away}.")
        return _outcome(self, selection, home, away)


def _won(condition: bool) -> str:
    return WON if condition else LOST


def _outcome(market: Market, selection: str, home: int, away: int) -> str:
    if market.kind == ONE_X_TWO:
        result = "home" if home > away else "away" if away > home else "draw"
        return _won(selection == result)
    if market.kind == DOUBLE_CHANCE:
        result = "home" if home > away else "away" if away > home else "draw"
        return _won(result in selection.split("_or_"))
    if market.kind == DRAW_NO_BET:
        if home == away:
            return VOID
        return _won((home > away) == (selection == "home"))
    if market.kind == OVER_UNDER:
        assert market.line is not None
        return _won((home + away > market.line) == (selection == "over"))
    if market.kind == BOTH_TEAMS_TO_SCORE:
        return _won((home > 0 and away > 0) == (selection == "yes"))
    if market.kind == CORRECT_SCORE:
        named = home <= CORRECT_SCORE_MAX_GOALS and away <= CORRECT_SCORE_MAX_GOALS
        return _won(selection == (f"{home}-{away}" if named else CORRECT_SCORE_OTHER))
    if market.kind == ASIAN_HANDICAP:
        assert market.line is not None
        return _won((home + market.line > away) == (selection == "home"))
    raise UnknownMarket(f"Unknown market kind {market.kind!r}.")


# Goals either side that a decided outcome is checked over, beyond the goal difference: enough
# to cross every line the catalogue has from any score (a ±9.5 handicap whichever side leads,
# the 4.5 total, correct scores up to 4 goals a side).
DECIDED_HORIZON = MAX_GOALS


@lru_cache(maxsize=8192)
def decided_outcome(market: Market, selection: str, home: int, away: int) -> str | None:
    """The outcome a bet on `selection` has whatever the rest of the match brings, once the score
    is `home`-`away` in play: WON, LOST or VOID when every final score still possible (each side's
    goals can only rise) gives it, None while the goals to come can change it.

    Over 0.5 is won once a goal is in; both teams to score "yes" once both have scored; a correct
    score below the current one is lost. A disallowed goal lowers the score again: a decided
    outcome is the current score's, and the settlement reads the final one (`Market.outcome`),
    which never disagrees with it while the score only rises."""
    horizon = abs(home - away) + DECIDED_HORIZON
    homes, aways = range(home, home + horizon + 1), range(away, away + horizon + 1)
    outcomes = {market.outcome(selection, h, a) for h in homes for a in aways}
    return outcomes.pop() if len(outcomes) == 1 else None


def decided_selections(market: Market, home: int, away: int) -> dict[str, str]:
    """The selections of `market` already decided at `home`-`away`, with their outcome."""
    found = {selection: decided_outcome(market, selection, home, away) for selection in market.selections}
    return {selection: outcome for selection, outcome in found.items() if outcome is not None}


def one_x_two() -> Market:
    return Market(ONE_X_TWO, ONE_X_TWO, ("home", "draw", "away"))


def double_chance() -> Market:
    return Market(DOUBLE_CHANCE, DOUBLE_CHANCE, ("home_or_draw", "home_or_away", "draw_or_away"))


def draw_no_bet() -> Market:
    return Market(DRAW_NO_BET, DRAW_NO_BET, ("home", "away"))


def over_under(line: float) -> Market:
    if line not in OVER_UNDER_LINES:
        raise UnknownMarket(f"Over/under is offered at {OVER_UNDER_LINES} goals, not {line}.")
    return Market(f"{OVER_UNDER}_{_line_key(line)}", OVER_UNDER, ("over", "under"), line)


def both_teams_to_score() -> Market:
    return Market(BOTH_TEAMS_TO_SCORE, BOTH_TEAMS_TO_SCORE, ("yes", "no"))


CORRECT_SCORE_SELECTIONS: tuple[str, ...] = (
    *(f"{h}-{a}" for h in range(CORRECT_SCORE_MAX_GOALS + 1) for a in range(CORRECT_SCORE_MAX_GOALS + 1)),
    CORRECT_SCORE_OTHER,
)


def correct_score() -> Market:
    return Market(CORRECT_SCORE, CORRECT_SCORE, CORRECT_SCORE_SELECTIONS)


def asian_handicap(line: float) -> Market:
    """The Asian handicap market giving the home side `line` goals (negative: it concedes them)."""
    if not _is_half_goal(line) or abs(line) > MAX_ASIAN_HANDICAP:
        raise UnknownMarket(f"Asian handicap lines are half goals within ±{MAX_ASIAN_HANDICAP}, not {line}.")
    sign = "minus" if line < 0 else "plus"
    return Market(f"{ASIAN_HANDICAP}_{sign}_{_line_key(line)}", ASIAN_HANDICAP, ("home", "away"), line)


FIXED_MARKETS: tuple[Market, ...] = (
    one_x_two(),
    double_chance(),
    draw_no_bet(),
    *(over_under(line) for line in OVER_UNDER_LINES),
    both_teams_to_score(),
    correct_score(),
)
_FIXED_BY_KEY = {m.key: m for m in FIXED_MARKETS}


@lru_cache(maxsize=256)
def market(key: str) -> Market:
    """The market a key names (the inverse of `Market.key`); UnknownMarket if none."""
    if key in _FIXED_BY_KEY:
        return _FIXED_BY_KEY[key]
    prefix = f"{ASIAN_HANDICAP}_"
    if key.startswith(prefix):
        sign, _, number = key[len(prefix) :].partition("_")
        try:
            size = float(number.replace("_", "."))
        except ValueError:
            size = -1.0
        if sign in ("minus", "plus") and size > 0:
            found = asian_handicap(-size if sign == "minus" else size)
            if found.key == key:  # the one spelling: "plus_0_5", never "plus_0_50"
                return found
    raise UnknownMarket(f"Unknown market {key!r}.")


def match_markets(asian_handicap_lines: Iterable[float]) -> tuple[Market, ...]:
    """Every market of a match: the fixed ones and the Asian handicap lines chosen for it."""
    return (*FIXED_MARKETS, *(asian_handicap(line) for line in sorted(asian_handicap_lines)))


def goal_difference_distribution(distribution: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """P(home goals - away goals = d) for d = -MAX_GOALS..MAX_GOALS (index d + MAX_GOALS)."""
    weighted = np.bincount(_DIFFERENCE_INDEX, weights=distribution.ravel(), minlength=2 * MAX_GOALS + 1)
    return weighted.astype(np.float64)


def main_asian_handicap_line(distribution: npt.NDArray[np.float64]) -> float:
    """The half-goal home handicap closest to an even bet: the line where the favourite's
    supremacy is priced, P(home covers) nearest to 1/2. Ties go to the line giving the home
    side fewer goals."""
    difference = goal_difference_distribution(distribution)
    best, best_gap = -0.5, 2.0
    for goals in range(-MAX_GOALS, MAX_GOALS):
        line = goals + 0.5  # home covers when difference > -line
        home_covers = float(difference[int(-line + 0.5) + MAX_GOALS :].sum())
        gap = abs(home_covers - 0.5)
        if gap < best_gap - 1e-12:
            best, best_gap = line, gap
    return best


def asian_handicap_lines(
    distribution: npt.NDArray[np.float64], each_side: int = ASIAN_HANDICAP_LINES_EACH_SIDE
) -> tuple[float, ...]:
    """The Asian handicap lines of a match: the main line and `each_side` lines either side
    of it, one goal apart.

    Chosen once, from the opening distribution, and kept while the match is priced: a line
    that has taken bets must stay the same market until it settles, so the lines do not follow
    the score in play (a line whose outcome is all but decided closes instead).
    """
    main = main_asian_handicap_line(distribution)
    lines = (main + step for step in range(-each_side, each_side + 1))
    return tuple(line for line in lines if abs(line) <= MAX_ASIAN_HANDICAP)


def grade(market_key: str, selection: str, home: int, away: int) -> str:
    """WON, LOST or VOID for a bet on `selection` of the market `market_key`, final score `home`-`away`."""
    return market(market_key).outcome(selection, home, away)


def settlement_amount(outcome: str, stake: Decimal, odds: Decimal) -> Decimal:
    """What a settled bet credits the bettor: stake x odds when it won (rounded down to the
    cent: the book never pays a fraction more than the price), the stake when void, nothing
    when lost."""
    if outcome == WON:
        return (stake * odds).quantize(CENT, rounding=ROUND_DOWN)
    if outcome == VOID:
        return stake.quantize(CENT, rounding=ROUND_DOWN)
    if outcome == LOST:
        return Decimal("0.00")
    raise ValueError(f"Unknown outcome {outcome!r}; expected one of {OUTCOMES}.")


_HOME_GOALS, _AWAY_GOALS = np.indices((GRID, GRID))
_DIFFERENCE_INDEX = (_HOME_GOALS - _AWAY_GOALS + MAX_GOALS).ravel()


@lru_cache(maxsize=256)
def outcome_masks(market: Market) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Per selection, over the score grid (flattened, home-major): 1.0 where it wins, and
    1.0 where it is void. Shape (selections, GRID * GRID) each; read-only, shared."""
    won = np.zeros((len(market.selections), GRID * GRID))
    void = np.zeros_like(won)
    for row, selection in enumerate(market.selections):
        for cell, (home, away) in enumerate(zip(_HOME_GOALS.ravel(), _AWAY_GOALS.ravel(), strict=True)):
            outcome = market.outcome(selection, int(home), int(away))
            won[row, cell] = outcome == WON
            void[row, cell] = outcome == VOID
    won.flags.writeable = False
    void.flags.writeable = False
    return won, void


@lru_cache(maxsize=1024)
@lru_cache(maxsize=1024)  # the catalogue never changes: computed once per pair, not per bet
def overlapping_selections(market_key: str, selection: str) -> tuple[str, ...]:
    """The selections of the market that win on some score where `selection` wins, itself
    included: the bets whose payouts can add to the loss a bet on `selection` would add to.
    Disjoint for every market but double chance (home_or_draw and home_or_away share home)."""
    one = market(market_key)
    won, _ = outcome_masks(one)
    mine = won[one.selections.index(selection)] > 0
    return tuple(other for row, other in enumerate(one.selections) if (won[row] > 0)[mine].any() or other == selection)
