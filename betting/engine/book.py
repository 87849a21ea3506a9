"""A match's whole book priced from one score distribution: fair probabilities, the money's
move, the margin, the ladder, closed selections and maximum stakes.

Input: the distribution of the final score, a (GRID, GRID) array P with P[h, a] the
probability that the match ends h-a (h, a = 0..MAX_GOALS). Before kick-off it is the team
model's; in play it is the distribution of the final score given the state, so scores the
state rules out have probability 0 and the same functions price both.

1. **Fair probabilities.** A selection's probability is the mass of the scores on which it
   wins (`Market.outcome`, the settlement rule itself), taken conditionally on the bet not
   being void (a draw no bet's draws): every market is read from the same matrix, so no two
   markets contradict each other.
2. **The money moves the distribution, not the markets.** The book's net result is computed
   for every final score from every bet on every market (`book_liability`: payouts of the
   selections that win there, stakes of those void there, less every stake taken). Each
   score's probability is tilted by exp(liability / liquidity) and the matrix renormalised
   (docs/decisions/0005-money-moves-the-score-distribution.md). A bet on a selection raises
   the liability of every score where it wins and lowers it where it loses, so the
   selection's probability rises and every market is then read from the moved matrix.
3. **Closed selections.** A selection whose fair probability is below 1/1000 (its fair price
   is off the ladder) or so high that even the shortest price, 1.01, would leave the house
   less than half the market's margin is closed: it has no price. In play this closes the
   impossible scores, an over that has already happened and a both-teams-to-score yes once
   both have scored.
4. **The margin.** The open selections of a market carry its margin in proportion to their
   fair probability (`implied_with_margin`): implied = fair x (1 + margin), a selection held
   at the 1.01 floor passing the rest to the others; each price is snapped down the ladder.
   With every selection open, a market's overround (Σ 1/price, over 2 for double chance,
   whose selections cover every result twice) lies in [1 + margin, 1 + margin_max].
5. **Maximum stake.** The most a bet on a selection may stake so that the market's worst
   loss over the scores still possible stays within the market kind's liability limit.

Pure: no Django, no I/O, deterministic.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from betting.engine.ladder import LADDER, MAX_PRICE, MIN_PRICE
from betting.engine.margin import (
    LADDER_FLOATS,
    implied_with_margin,
    ladder_indexes_for_implied,
    ladder_rounding_bound,
)
from betting.engine.markets import (
    ASIAN_HANDICAP,
    BOTH_TEAMS_TO_SCORE,
    CORRECT_SCORE,
    DOUBLE_CHANCE,
    DRAW_NO_BET,
    GRID,
    KINDS,
    ONE_X_TWO,
    OVER_UNDER,
    Market,
    UnknownMarket,
    asian_handicap,
    both_teams_to_score,
    correct_score,
    double_chance,
    draw_no_bet,
    market,
    one_x_two,
    outcome_masks,
    over_under,
)
from betting.engine.money import ZERO, BookTotals

Distribution = npt.NDArray[np.float64]
MatchMoney = Mapping[str, BookTotals]  # market key → the money that market has taken

NO_MATCH_MONEY: MatchMoney = MappingProxyType({})

LOWEST_OPEN_PROBABILITY = 1.0 / float(MAX_PRICE)  # below it the fair price is off the ladder
_SHORTEST_IMPLIED = 1.0 / float(MIN_PRICE)
_DISTRIBUTION_TOLERANCE = 1e-6


@dataclass(frozen=True)
class MarketParams:
    """The parameters of one market kind."""

    margin: Decimal  # the market's margin: open selections carry implied = fair x (1 + margin)
    margin_max: Decimal  # the overround's ceiling (1 + margin_max), room for the ladder rounding
    liability_limit: Decimal  # the most the book may lose on one market of this kind

    @property
    def overround_band(self) -> tuple[float, float]:
        return 1.0 + float(self.margin), 1.0 + float(self.margin_max)

    @property
    def highest_open_probability(self) -> float:
        """Above it, a bet at the shortest price (1.01) leaves the house less than half its margin."""
        return (1.0 - float(self.margin) / 2.0) / float(MIN_PRICE)


# A market of each kind, for the selection count its parameters are checked against.
_KIND_EXAMPLES: Mapping[str, Market] = MappingProxyType(
    {
        ONE_X_TWO: one_x_two(),
        DOUBLE_CHANCE: double_chance(),
        DRAW_NO_BET: draw_no_bet(),
        OVER_UNDER: over_under(2.5),
        BOTH_TEAMS_TO_SCORE: both_teams_to_score(),
        CORRECT_SCORE: correct_score(),
        ASIAN_HANDICAP: asian_handicap(-0.5),
    }
)

DEFAULT_MARKET_PARAMS: Mapping[str, MarketParams] = MappingProxyType(
    {
        ONE_X_TWO: MarketParams(Decimal("0.05"), Decimal("0.09"), Decimal("20000")),
        DOUBLE_CHANCE: MarketParams(Decimal("0.04"), Decimal("0.07"), Decimal("20000")),
        DRAW_NO_BET: MarketParams(Decimal("0.04"), Decimal("0.07"), Decimal("20000")),
        OVER_UNDER: MarketParams(Decimal("0.05"), Decimal("0.08"), Decimal("20000")),
        BOTH_TEAMS_TO_SCORE: MarketParams(Decimal("0.05"), Decimal("0.08"), Decimal("20000")),
        CORRECT_SCORE: MarketParams(Decimal("0.15"), Decimal("0.25"), Decimal("5000")),
        ASIAN_HANDICAP: MarketParams(Decimal("0.04"), Decimal("0.07"), Decimal("20000")),
    }
)


def rounding_room(kind: str, margin_max: Decimal) -> float:
    """The most that snapping a market of `kind` down the ladder can add to its overround."""
    example = _KIND_EXAMPLES[kind]
    cover = example.covers_each_score
    return ladder_rounding_bound(len(example.selections), cover * (1.0 + float(margin_max))) / cover


@dataclass(frozen=True)
class BookParams:
    """The parameters of the multi-market book."""

    # Money: a score on which the book would lose `liquidity` more than on another gets e
    # (2.72) times the weight, relative to it, that the model gave it.
    liquidity: Decimal = Decimal("5000")
    markets: Mapping[str, MarketParams] = field(default_factory=lambda: DEFAULT_MARKET_PARAMS)

    def __post_init__(self) -> None:
        if self.liquidity <= 0:
            raise ValueError("The liquidity must be positive.")
        missing = [kind for kind in KINDS if kind not in self.markets]
        if missing:
            raise ValueError(f"Parameters missing for the market kinds {missing}.")
        for kind in KINDS:
            params = self.markets[kind]
            if params.margin < 0:
                raise ValueError(f"The {kind} margin cannot be negative: the book would lose on every outcome.")
            room = rounding_room(kind, params.margin_max)
            if float(params.margin_max - params.margin) < room:
                raise ValueError(
                    f"The {kind} margin_max must exceed its margin by at least {room:.4f}, "
                    "the most that snapping its prices down the ladder can add to the overround."
                )
            if params.liability_limit < 0:
                raise ValueError(f"The {kind} liability limit cannot be negative.")

    def for_market(self, market: Market) -> MarketParams:
        return self.markets[market.kind]


DEFAULT_BOOK_PARAMS = BookParams()


class SelectionClosed(ValueError):
    """A bet asked for a selection the book does not price (closed)."""


@dataclass(frozen=True)
class MarketQuote:
    """One market's answer. A selection whose price is None is closed: it takes no bet."""

    market: Market
    prices: dict[str, Decimal | None]
    probabilities: dict[str, float]  # fair (margin-free), after the money; given not void
    max_stakes: dict[str, Decimal | None]

    def open_price(self, selection: str) -> Decimal:
        """The price of `selection`; SelectionClosed if it takes no bet, UnknownMarket if it is not one."""
        if selection not in self.prices:
            raise UnknownMarket(f"{selection!r} is not a selection of {self.market.key!r}.")
        price = self.prices[selection]
        if price is None:
            raise SelectionClosed(f"{self.market.key} {selection} is closed: it takes no bet.")
        return price

    @property
    def is_open(self) -> bool:
        """Whether any selection takes bets."""
        return any(price is not None for price in self.prices.values())

    @property
    def overround(self) -> float | None:
        """Σ 1/price over the selections, per result they cover; None while one is closed."""
        if any(price is None for price in self.prices.values()):
            return None
        implied = sum(1.0 / float(price) for price in self.prices.values() if price is not None)
        return implied / self.market.covers_each_score


@dataclass(frozen=True)
class _Layout:
    """Every selection of a set of markets stacked into one matrix, so one product reads them all."""

    markets: tuple[Market, ...]
    won: npt.NDArray[np.float64]  # (selections, GRID * GRID): 1 where the selection wins
    void: npt.NDArray[np.float64]  # 1 where its bet is void
    counted: npt.NDArray[np.float64]  # 1 where its bet is not void
    wins: npt.NDArray[np.bool_]  # won, as booleans
    spans: tuple[tuple[int, int], ...]  # each market's rows


@lru_cache(maxsize=64)
def _layout(markets: tuple[Market, ...]) -> _Layout:
    won, void, spans, start = [], [], [], 0
    for one in markets:
        market_won, market_void = outcome_masks(one)
        won.append(market_won)
        void.append(market_void)
        spans.append((start, start + len(one.selections)))
        start += len(one.selections)
    stacked_won, stacked_void = np.vstack(won), np.vstack(void)
    stacked_won.flags.writeable = False
    stacked_void.flags.writeable = False
    counted = 1.0 - stacked_void
    wins = stacked_won > 0
    counted.flags.writeable = False
    wins.flags.writeable = False
    return _Layout(markets, stacked_won, stacked_void, counted, wins, tuple(spans))


def checked_distribution(distribution: Distribution) -> Distribution:
    """The distribution as a flat float array summing to exactly 1, or ValueError if it is not
    a (GRID, GRID) array of non-negative probabilities summing to 1 (within 1e-6)."""
    array = np.asarray(distribution, dtype=np.float64)
    if array.shape != (GRID, GRID):
        raise ValueError(f"A score distribution is a {GRID}x{GRID} array, not {array.shape}.")
    flat = array.ravel()
    total = float(flat.sum())
    if not np.isfinite(total) or flat.min() < 0 or abs(total - 1.0) > _DISTRIBUTION_TOLERANCE:
        raise ValueError(f"A score distribution holds non-negative probabilities summing to 1, not {total}.")
    return flat / total


@lru_cache(maxsize=256)
def _rows(selections: tuple[str, ...]) -> Mapping[str, int]:
    return MappingProxyType({selection: row for row, selection in enumerate(selections)})


def _amounts(one: Market, amounts: Mapping[str, Decimal]) -> tuple[list[int], npt.NDArray[np.float64]]:
    rows = _rows(one.selections)
    try:
        indexes = [rows[selection] for selection in amounts]
    except KeyError as unknown:
        raise UnknownMarket(f"{unknown.args[0]!r} is not a selection of {one.key!r}.") from None
    return indexes, np.array([float(amount) for amount in amounts.values()])


def market_liability(one: Market, totals: BookTotals) -> npt.NDArray[np.float64]:
    """The book's net loss on one market for every final score (flat, home-major): what it
    pays (payouts of the winning selections, stakes of the void ones) less every stake it took."""
    won, void = outcome_masks(one)
    stake_rows, stakes = _amounts(one, totals.stakes)
    payout_rows, payouts = _amounts(one, totals.payouts)
    return payouts @ won[payout_rows] + stakes @ void[stake_rows] - stakes.sum()


def _has_money(totals: BookTotals) -> bool:
    return any(v != ZERO for v in totals.stakes.values()) or any(v != ZERO for v in totals.payouts.values())


def market_liabilities(money: MatchMoney) -> dict[str, npt.NDArray[np.float64]]:
    """`market_liability` of every market that has taken money (a market of zero amounts is left out)."""
    return {key: market_liability(market(key), totals) for key, totals in money.items() if _has_money(totals)}


def book_liability(money: MatchMoney) -> npt.NDArray[np.float64]:
    """The book's net loss over every market of the match, per final score, as a (GRID, GRID) array."""
    return sum(market_liabilities(money).values(), np.zeros(GRID * GRID)).reshape(GRID, GRID)


def moved_distribution(
    distribution: Distribution, money: MatchMoney = NO_MATCH_MONEY, liquidity: Decimal = DEFAULT_BOOK_PARAMS.liquidity
) -> Distribution:
    """The score distribution after the money: each score's probability times
    exp(book's net loss there / liquidity), renormalised. Scores with probability 0 stay 0;
    with no money the distribution is returned as it is."""
    flat = checked_distribution(distribution)
    return _moved(flat, market_liabilities(money), float(liquidity)).reshape(GRID, GRID)


def _moved(
    flat: npt.NDArray[np.float64], liabilities: Mapping[str, npt.NDArray[np.float64]], liquidity: float
) -> npt.NDArray[np.float64]:
    if not liabilities:
        return flat
    possible = flat > 0
    liability = sum(liabilities.values(), np.zeros_like(flat))
    # Only differences between scores matter: a liability every possible score shares (a bet
    # already won or lost) moves nothing. Logs keep exp() finite at any amount of money.
    log_weight = np.log(flat[possible]) + liability[possible] / liquidity
    weight = np.exp(log_weight - log_weight.max())
    moved = np.zeros_like(flat)
    moved[possible] = weight / weight.sum()
    return moved


def _fair(layout: _Layout, flat: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Per selection: its probability given the bet is not void, and the probability it is not void."""
    won = layout.won @ flat
    not_void = layout.counted @ flat  # summed, not 1 - P(void): no cancellation when the void is near certain
    fair = np.divide(won, not_void, out=np.zeros_like(won), where=not_void > 0)
    return np.clip(fair, 0.0, 1.0), not_void


def market_probabilities(distribution: Distribution, markets: Sequence[Market]) -> dict[str, dict[str, float]]:
    """Fair (margin-free) probabilities of every selection of `markets`, read from
    `distribution`; a draw no bet's are given that the bet is not void."""
    layout = _layout(tuple(markets))
    fair, _ = _fair(layout, checked_distribution(distribution))
    return {
        one.key: dict(zip(one.selections, fair[start:end].tolist(), strict=True))
        for one, (start, end) in zip(layout.markets, layout.spans, strict=True)
    }


@dataclass(frozen=True)
class _RowParams:
    """A market kind's parameters repeated on each of its selections' rows."""

    margin_factor: npt.NDArray[np.float64]  # 1 + margin
    highest_open: npt.NDArray[np.float64]
    limit: npt.NDArray[np.float64]


@lru_cache(maxsize=64)
def _row_params(markets: tuple[Market, ...], params: tuple[tuple[str, MarketParams], ...]) -> _RowParams:
    by_kind = dict(params)
    rows = [by_kind[one.kind] for one in markets for _ in one.selections]
    return _RowParams(
        margin_factor=np.array([1.0 + float(p.margin) for p in rows]),
        highest_open=np.array([p.highest_open_probability for p in rows]),
        limit=np.array([float(p.liability_limit) for p in rows]),
    )


def _implied(
    layout: _Layout,
    fair: npt.NDArray[np.float64],
    is_open: npt.NDArray[np.bool_],
    margin_factor: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """Implied probabilities: fair x (1 + margin) on the open selections, 0 on the closed.

    The market's book is (1 + margin) x Σ fair over its open selections, so the proportional
    share is the fair probability times (1 + margin) itself. Only a market with a selection
    beyond the 1.01 floor needs the floor's redistribution (`implied_with_margin`).
    """
    implied = np.where(is_open, fair * margin_factor, 0.0)
    if (implied > _SHORTEST_IMPLIED).any():
        for start, end in layout.spans:
            if (implied[start:end] > _SHORTEST_IMPLIED).any():
                open_fair = {row: float(fair[row]) for row in range(start, end) if is_open[row]}
                book = float(margin_factor[start]) * sum(open_fair.values())
                for row, value in implied_with_margin(open_fair, book).items():
                    implied[row] = value
    return implied


def _worst_loss_where_won(
    layout: _Layout, liabilities: Mapping[str, npt.NDArray[np.float64]], possible: npt.NDArray[np.bool_]
) -> npt.NDArray[np.float64]:
    """Per selection, the market's worst net loss over the possible scores on which the selection
    wins (-inf when it wins on none): what a new bet on it would add to."""
    wins_anywhere = layout.wins.any(axis=1) if possible.all() else layout.wins[:, possible].any(axis=1)
    worst = np.where(wins_anywhere, 0.0, -np.inf)
    for one, (start, end) in zip(layout.markets, layout.spans, strict=True):
        if one.key in liabilities:
            wins = layout.wins[start:end] & possible
            worst[start:end] = np.where(wins, liabilities[one.key], -np.inf).max(axis=1)
    return worst


def max_stake(
    one: Market,
    selection: str,
    price: Decimal,
    totals: BookTotals,
    limit: Decimal,
    distribution: Distribution | None = None,
) -> Decimal:
    """The largest stake (to the cent, rounded down) a bet on `selection` at `price` may take
    so that the book's worst loss on the market `one`, over the final scores still possible
    (those with a positive probability in `distribution`; all of them without one), stays
    within `limit`. 0 when the market is already at or past its limit where the selection wins.

    A bet adds stake x (price - 1) to the loss on the scores where it wins, returns the stake
    where it is void (no change) and takes the stake where it loses (less loss), so only the
    scores where it wins bind: x = (limit - worst loss there) / (price - 1).
    """
    if selection not in one.selections:
        raise UnknownMarket(f"{selection!r} is not a selection of {one.key!r}; expected one of {one.selections}.")
    won, _ = outcome_masks(one)
    wins = won[one.selections.index(selection)] > 0
    if distribution is not None:
        wins &= checked_distribution(distribution) > 0
    worst = float(market_liability(one, totals)[wins].max()) if wins.any() else -np.inf
    return _stake_within(worst, price, limit)


def _stake_within(worst_loss: float, price: Decimal, limit: Decimal) -> Decimal:
    cents = _cents_within(np.array([worst_loss]), np.array([float(price)]), np.array([float(limit)]))
    return Decimal(int(cents[0])).scaleb(-2)


def _cents_within(
    worst_loss: npt.NDArray[np.float64], price: npt.NDArray[np.float64], limit: npt.NDArray[np.float64]
) -> npt.NDArray[np.int64]:
    """Whole cents of stake that keep worst_loss + stake x (price - 1) within limit (0 if none).
    The 1e-6 of a cent absorbs float noise (21000 / 3.5 is 6000.00, not 5999.99)."""
    room = np.where(np.isfinite(worst_loss), limit - worst_loss, 0.0)
    per_unit = np.maximum(price - 1.0, 1e-12)
    cents = np.floor(np.maximum(room, 0.0) / per_unit * 100.0 + 1e-6)
    return np.where(price > 1.0, cents, 0.0).astype(np.int64)


def price_markets(
    distribution: Distribution,
    markets: Sequence[Market],
    money: MatchMoney = NO_MATCH_MONEY,
    params: BookParams = DEFAULT_BOOK_PARAMS,
) -> dict[str, MarketQuote]:
    """Every market of a match priced from the score distribution and the money taken.

    `markets` is the match's catalogue (`match_markets(lines)`), `money` maps a market key to
    the stakes and payouts (Σ stake x odds taken) per selection of the bets on it; bets on a
    market outside `markets` still count in the liability that moves the distribution.
    """
    flat = checked_distribution(distribution)
    liabilities = market_liabilities(money)
    moved = _moved(flat, liabilities, float(params.liquidity))
    layout = _layout(tuple(markets))
    rows = _row_params(layout.markets, tuple(params.markets.items()))
    fair, not_void = _fair(layout, moved)
    is_open = (not_void >= LOWEST_OPEN_PROBABILITY) & (fair >= LOWEST_OPEN_PROBABILITY) & (fair <= rows.highest_open)
    ladder_index = ladder_indexes_for_implied(_implied(layout, fair, is_open, rows.margin_factor))
    worst = _worst_loss_where_won(layout, liabilities, flat > 0)
    stake_cents = _cents_within(worst, LADDER_FLOATS[ladder_index], rows.limit).tolist()
    ladder_index = ladder_index.tolist()
    open_rows = is_open.tolist()
    fair_rows = fair.tolist()
    quotes: dict[str, MarketQuote] = {}
    for one, (start, end) in zip(layout.markets, layout.spans, strict=True):
        prices: dict[str, Decimal | None] = {}
        max_stakes: dict[str, Decimal | None] = {}
        for row, selection in enumerate(one.selections, start):
            if open_rows[row]:
                price = LADDER[ladder_index[row]]
                prices[selection] = price
                max_stakes[selection] = Decimal(stake_cents[row]).scaleb(-2)
            else:
                prices[selection] = max_stakes[selection] = None
        quotes[one.key] = MarketQuote(
            market=one,
            prices=prices,
            probabilities=dict(zip(one.selections, fair_rows[start:end], strict=True)),
            max_stakes=max_stakes,
        )
    return quotes
