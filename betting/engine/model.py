"""The odds model: opening prices and the money taken → the prices of every market.

1. The opening prices are the trader's prior. Their margin is removed (power method or
   Shin's method) to give fair probabilities p.
2. The money moves them. Each selection gets a weight
       w_i = p_i · L + s_i + κ · max(0, E_i)
   where L is the prior liquidity (how much money the opening prices are worth), s_i the
   stakes on the selection, E_i = payouts_i - total stakes the book's net loss if it wins
   (payouts = Σ stake x odds taken), and κ the liability weight. The posterior
   probabilities are q_i = w_i / Σ w: a Bayesian blend of the prior with the money,
   plus a term that shortens the selection on which the book would lose most.
3. The margin is put back. Each selection keeps the share of margin the trader gave it
   in the opening book (the ratio of quoted to fair probability), scaled so the book sums
   to the target overround: the opening's own overround, held inside
   [1 + margin, 1 + margin_max - ladder allowance], so that snapping every price *down*
   the ladder (in the house's favour) lands the overround inside [1 + margin, 1 + margin_max].
4. Optionally, a price may lengthen by at most `max_move_ticks` ladder steps per
   recompute. Shortening is never held back: it protects the book, and holding a price
   shorter than its target only raises the overround.
5. Derived markets (Over/Under 2.5, Both Teams To Score) are read from one Poisson score
   distribution fitted to q, then margined and laddered the same way.

Why these properties hold: more money on i raises w_i and lowers every other w_j (their
net liability falls by the stake), so q_i rises; the margin shares are fixed by the
opening, so the implied probability of i rises and its price never lengthens. With no
money the opening prices are returned as they are.

Pure: no Django, no I/O, deterministic.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from betting.engine.ladder import move_by_ticks
from betting.engine.margin import (
    MARGIN_METHODS,
    POWER,
    book_prices,
    fair_probabilities,
    ladder_rounding_allowance,
    overround,
)
from betting.engine.money import NO_MONEY, BookTotals
from betting.engine.scores import fit_score_model

SELECTIONS: tuple[str, ...] = ("home", "draw", "away")


@dataclass(frozen=True)
class EngineParams:
    margin: Decimal = Decimal("0.05")  # the book's minimum margin (overround - 1)
    margin_max: Decimal = Decimal("0.09")  # the most the overround may exceed 100% by
    prior_liquidity: Decimal = Decimal("2000")  # money the opening prices are worth
    liability_weight: Decimal = Decimal("0.25")  # money-equivalent of one unit of net liability
    margin_method: str = POWER  # how the opening's margin is removed: "power" or "shin"
    max_move_ticks: int = 0  # most ladder steps a price may lengthen per recompute; 0: no limit

    def __post_init__(self) -> None:
        if self.margin < 0:
            raise ValueError("The margin cannot be negative: the book would lose on every outcome.")
        if float(self.margin_max - self.margin) < ladder_rounding_allowance(len(SELECTIONS)):
            raise ValueError(
                f"margin_max must exceed margin by at least {ladder_rounding_allowance(len(SELECTIONS)):.4f}, "
                "the most that snapping three prices down the ladder can add to the overround."
            )
        if self.prior_liquidity <= 0:
            raise ValueError("The prior liquidity must be positive.")
        if self.liability_weight < 0:
            raise ValueError("The liability weight cannot be negative.")
        if self.margin_method not in MARGIN_METHODS:
            raise ValueError(f"Unknown margin method {self.margin_method!r}; expected one of {MARGIN_METHODS}.")
        if self.max_move_ticks < 0:
            raise ValueError("max_move_ticks cannot be negative; 0 means no limit.")

    @property
    def overround_band(self) -> tuple[float, float]:
        return 1.0 + float(self.margin), 1.0 + float(self.margin_max)


DEFAULT_PARAMS = EngineParams()


@dataclass(frozen=True)
class Quote:
    """The engine's answer: 1X2 prices and the derived markets."""

    prices: dict[str, Decimal]
    markets: dict[str, dict[str, Decimal]]


def target_overround(opening: Mapping[str, Decimal], params: EngineParams) -> float:
    """The overround the book aims at before ladder rounding: the trader's own, held in the band."""
    lowest, highest = params.overround_band
    highest -= ladder_rounding_allowance(len(SELECTIONS))
    return min(max(overround(opening), lowest), highest)


def posterior_probabilities(
    opening: Mapping[str, Decimal], totals: BookTotals, params: EngineParams = DEFAULT_PARAMS
) -> dict[str, float]:
    """Fair probabilities after the money: the prior blended with stakes and liabilities."""
    prior = fair_probabilities(opening, params.margin_method)
    liquidity = float(params.prior_liquidity)
    kappa = float(params.liability_weight)
    weights = {
        s: prior[s] * liquidity + float(totals.stake(s)) + kappa * max(0.0, float(totals.net_liability(s)))
        for s in SELECTIONS
    }
    total = sum(weights.values())
    return {s: weights[s] / total for s in SELECTIONS}


def compute_prices(
    opening: Mapping[str, Decimal],
    totals: BookTotals = NO_MONEY,
    params: EngineParams = DEFAULT_PARAMS,
    current: Mapping[str, Decimal] | None = None,
) -> dict[str, Decimal]:
    """New 1X2 ladder prices. `current` (the prices on show) is needed only for max_move_ticks."""
    return _prices_from_posterior(opening, posterior_probabilities(opening, totals, params), totals, params, current)


def _prices_from_posterior(
    opening: Mapping[str, Decimal],
    posterior: Mapping[str, float],
    totals: BookTotals,
    params: EngineParams,
    current: Mapping[str, Decimal] | None,
) -> dict[str, Decimal]:
    if totals.total_staked <= 0:
        return {s: opening[s] for s in SELECTIONS}  # the trader's prices stand until money arrives
    prior = fair_probabilities(opening, params.margin_method)
    # The trader's margin share per selection (quoted / fair), applied to the posterior.
    weights = {s: posterior[s] * (1.0 / float(opening[s])) / prior[s] for s in SELECTIONS}
    prices = book_prices(weights, target_overround(opening, params))
    if params.max_move_ticks and current is not None:
        prices = {s: min(prices[s], move_by_ticks(current[s], params.max_move_ticks)) for s in SELECTIONS}
    return prices


def compute_markets(
    probabilities: Mapping[str, float], params: EngineParams = DEFAULT_PARAMS
) -> dict[str, dict[str, Decimal]]:
    """Derived markets priced from the score distribution that reproduces the 1X2 `probabilities`."""
    model = fit_score_model(probabilities)
    book = float(1 + params.margin)
    return {name: book_prices(fair, book) for name, fair in model.market_probabilities().items()}


def compute_quote(
    opening: Mapping[str, Decimal],
    totals: BookTotals = NO_MONEY,
    params: EngineParams = DEFAULT_PARAMS,
    current: Mapping[str, Decimal] | None = None,
) -> Quote:
    """Every market of a match from the same numbers."""
    posterior = posterior_probabilities(opening, totals, params)
    return Quote(
        prices=_prices_from_posterior(opening, posterior, totals, params, current),
        markets=compute_markets(posterior, params),
    )
