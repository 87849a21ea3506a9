"""Pricing every market of a match from its score prior and its bets, and writing the new
version with optimistic concurrency.

The engine (`betting.engine.book.price_markets`) runs outside the match row lock, which every
bet on the match takes: a bet never waits for the engine, however costly it is
(docs/odds-engine.md). The lock is taken only to write, and only if no other recompute wrote
since the pricing read the match. One write updates every market's row, the 1X2 mirror on the
match and the history, under one new `odds_version`.

Before kick-off every market is read from the stored score prior; in play, from the
distribution of the final score given the match's live state (the clock, the score, the red
cards: `teammodel.inplay.final_score_matrix`, from the prior's own rates), and the money moves
it the same way (docs/in-play.md, "Prices in play").
"""

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.utils import timezone

from betting import events
from betting.cashout import match_cashout_values_publish
from betting.engine.book import DEFAULT_MARKET_PARAMS, BookParams, MarketParams, MarketQuote, price_markets
from betting.engine.markets import ONE_X_TWO, decided_selections, match_markets
from betting.engine.money import BookTotals
from betting.models import Bet, BetLeg, Market, Match, OddsVersion
from betting.priors import Distribution, prior_matrix
from betting.rows import rows_update
from config.after_commit import on_commit_robust
from teammodel.inplay import MatchState as InPlayState
from teammodel.inplay import Period as InPlayPeriod
from teammodel.inplay import final_score_matrix

logger = logging.getLogger(__name__)

ZERO = Decimal(0)


def book_params() -> BookParams:
    """The multi-market book's parameters from the settings: the 1X2 margin band is
    ODDS_MARGIN / ODDS_MARGIN_MAX, every kind's liability limit ODDS_LIABILITY_LIMITS, the rest
    the engine's defaults. ValueError if the engine refuses them (system check betting.E001)."""
    limits: Mapping[str, Decimal] = settings.ODDS_LIABILITY_LIMITS
    unknown = set(limits) - set(DEFAULT_MARKET_PARAMS)
    if unknown:
        raise ValueError(f"ODDS_LIABILITY_LIMITS names unknown market kinds {sorted(unknown)}.")
    kinds = {}
    for kind, defaults in DEFAULT_MARKET_PARAMS.items():
        margin, margin_max = defaults.margin, defaults.margin_max
        if kind == ONE_X_TWO:
            margin, margin_max = settings.ODDS_MARGIN, settings.ODDS_MARGIN_MAX
        kinds[kind] = MarketParams(margin, margin_max, Decimal(limits.get(kind, defaults.liability_limit)))
    return BookParams(liquidity=settings.ODDS_BOOK_LIQUIDITY, markets=kinds)


def price_text(price: Decimal | None) -> str | None:
    """A price or an amount as stored in JSON: an exact two-place string, never a float."""
    return None if price is None else f"{price:.2f}"


def totals_of(market: Market) -> BookTotals:
    return BookTotals(
        stakes={s: Decimal(v) for s, v in market.stakes.items()},
        payouts={s: Decimal(v) for s, v in market.payouts.items()},
    )


def totals_add(
    totals: dict[str, BookTotals], bets: Iterable[tuple[str, str, Decimal, Decimal]]
) -> dict[str, BookTotals]:
    """`totals` (market key → its money) with the bets (market, selection, stake, odds) added."""
    stakes = {key: dict(t.stakes) for key, t in totals.items()}
    payouts = {key: dict(t.payouts) for key, t in totals.items()}
    for market_key, selection, stake, odds in bets:
        market_stakes = stakes.setdefault(market_key, {})
        market_payouts = payouts.setdefault(market_key, {})
        market_stakes[selection] = market_stakes.get(selection, ZERO) + stake
        market_payouts[selection] = market_payouts.get(selection, ZERO) + stake * odds
    return {key: BookTotals(stakes=stakes[key], payouts=payouts[key]) for key in stakes}


def in_play_state(match: Match, now: datetime | None = None) -> InPlayState | None:
    """The match's live state as the in-play model reads it (period, clock, score, red cards),
    or None while the match is not in play (before its feed's kick-off, after full time).

    The state row is the feed's fold, written by the feed worker; the clock runs on from it
    to `now`. The model's clock counts minutes played (0 at kick-off, 45 when the second half
    starts); the feed's is the minute being played (1 in the first minute, 46 in the second
    half's first), hence the one minute less."""
    if not match.in_play:
        return None
    try:
        row = match.live_state  # inplay.MatchState, the feed's fold
    except ObjectDoesNotExist:
        return None
    period = InPlayPeriod(row.period)
    if period in (InPlayPeriod.PRE_MATCH, InPlayPeriod.FULL_TIME):
        return None
    minute = row.clock(now)["minute"] or 1
    return InPlayState(
        period=period,
        minute=float(max(0, minute - 1)),
        home_goals=row.home_score,
        away_goals=row.away_score,
        home_red_cards=min(row.home_red_cards, 5),
        away_red_cards=min(row.away_red_cards, 5),
    )


def pricing_distribution(match: Match, now: datetime | None = None) -> Distribution:
    """The score distribution `match`'s markets are read from: its stored prior before kick-off;
    in play, the final score given the live state, from the prior's own rates (λ, μ, ρ)."""
    prior = match.score_prior
    state = in_play_state(match, now)
    if state is None or "home_goals" not in prior:
        return prior_matrix(prior)
    return final_score_matrix(float(prior["home_goals"]), float(prior["away_goals"]), float(prior["rho"]), state)


def match_quotes(match: Match, money: Mapping[str, BookTotals]) -> dict[str, MarketQuote]:
    """Every market of `match` priced from its score distribution (the prior, or in play the
    final score given the state) and `money`: the engine only. In play, a selection the score
    has decided (`match_decided`) is closed, whatever the engine made of it."""
    markets = match_markets(match.asian_handicap_lines)
    quotes = price_markets(pricing_distribution(match), markets, money, book_params())
    for key, decided in match_decided(match).items():
        quote = quotes[key]
        quotes[key] = replace(
            quote,
            prices={s: None if s in decided else p for s, p in quote.prices.items()},
            max_stakes={s: None if s in decided else m for s, m in quote.max_stakes.items()},
        )
    return quotes


def match_decided(match: Match, now: datetime | None = None) -> dict[str, dict[str, str]]:
    """In play, the selections of each market that the score has decided whatever the goals to
    come ({"over_under_0_5": {"over": "won", "under": "lost"}, ...}); none before the kick-off.
    They take no bet, and the settlement at full time gives them the same outcome (the final
    score is at least this one)."""
    state = in_play_state(match, now)
    if state is None:
        return {}
    found = {}
    for market in match_markets(match.asian_handicap_lines):
        decided = decided_selections(market, state.home_goals, state.away_goals)
        if decided:
            found[market.key] = decided
    return found


def market_row_values(quote: MarketQuote) -> dict[str, Any]:
    return {
        "prices": {s: price_text(p) for s, p in quote.prices.items()},
        "max_stakes": {s: price_text(m) for s, m in quote.max_stakes.items()},
    }


def market_row_probabilities(quote: MarketQuote) -> dict[str, float]:
    """The fair probabilities stored beside the prices (six places: what a cash-out reads).
    Kept out of `market_row_values`, which a migration of an older model calls."""
    return {s: round(p, 6) for s, p in quote.probabilities.items()}


# A recompute prices outside the match row lock and writes only if no other recompute wrote
# meanwhile; after this many lost races in a row it prices under the lock, so it always ends.
ODDS_RECOMPUTE_OPTIMISTIC_ATTEMPTS = 3

# What a recompute writes on the match row, under its lock.
ODDS_RECOMPUTE_FIELDS = [
    "odds_home",
    "odds_draw",
    "odds_away",
    "odds_version",
    "odds_updated_at",
    "bets_counted",
]


@dataclass
class PricedOdds:
    """A recompute's result, priced from the match as it was at `odds_version`."""

    odds_version: int
    counted_to: int  # the match's bet_sequence when it was read: every bet up to it is counted
    rows: list[Market]  # the match's markets, with their new totals
    quotes: dict[str, MarketQuote]
    decided: dict[str, dict[str, str]]  # in play: the selections the score has decided, by market
    first_bet_at: datetime | None


def match_odds_recompute(*, match_id: int, reprice: bool = False) -> OddsVersion | None:
    """Bring a match's prices up to date with every bet committed so far, and publish them.

    `reprice`: price a match in play again even with no new bet, because its state moved
    (a feed event, the clock); a new version is written only if a price or a maximum stake
    changed.

    Incremental: each market row holds the running totals of its bets up to `bets_counted`;
    only the bets after it are read (through the (match, sequence) unique index) and added, so
    the cost does not grow with the bets already taken.

    The pricing runs outside the match row lock; the write happens only if the match's
    `odds_version` is still the one priced from, i.e. no other recompute wrote meanwhile
    (each write raises it, with the totals in the same transaction); otherwise the pricing
    starts again from the new state. Bets committed during the pricing are counted by the
    next recompute, which their commit requested.

    Every recompute that counts new bets stores and publishes a version, even when no price
    moved: the published `bets` then always names the newest bet the prices include. Returns
    it, or None when there was nothing new.
    """
    for _attempt in range(ODDS_RECOMPUTE_OPTIMISTIC_ATTEMPTS):
        priced = odds_price(Match.objects.select_related("live_state").get(pk=match_id), reprice=reprice)
        if priced is None:
            return None
        with transaction.atomic():
            match = Match.objects.select_for_update().get(pk=match_id)
            if match.odds_version == priced.odds_version:
                return odds_write(match, priced)
        logger.info("Match %s: another recompute wrote during the pricing; pricing again", match_id)
    with transaction.atomic():
        match = Match.objects.select_for_update().get(pk=match_id)
        priced = odds_price(match, reprice=reprice)
        return odds_write(match, priced) if priced is not None else None


def odds_price(match: Match, *, reprice: bool = False) -> PricedOdds | None:
    """Price `match` as read, with the bets committed after its counted ones; None when there
    is nothing new. Every bet up to the read `bet_sequence` is visible: a bet takes its
    sequence number and commits in one transaction.

    `reprice` prices a match in play with no new bet too (its state moved); None if that
    changes no price and no maximum stake, or if the match is not in play."""
    no_new_bets = match.bets_counted == match.bet_sequence
    if no_new_bets and not (reprice and match.in_play):
        return None
    # Read after the match: rows written since then come with a higher odds_version, which
    # the write's check refuses.
    rows = list(Market.objects.filter(match=match))
    new_bets = new_bets_of(match)
    if len(new_bets) != match.bet_sequence - match.bets_counted:
        # Sequence numbers are taken under the match lock and bets are never deleted (PROTECT).
        logger.error(
            "Match %s: expected %s new bets after %s, found %s",
            match.pk,
            match.bet_sequence - match.bets_counted,
            match.bets_counted,
            len(new_bets),
        )
    money = totals_add({row.key: totals_of(row) for row in rows}, (bet[:4] for bet in new_bets))
    for row in rows:
        if row.key in money:
            row.stakes = {s: f"{v:.2f}" for s, v in money[row.key].stakes.items()}
            row.payouts = {s: f"{v:.4f}" for s, v in money[row.key].payouts.items()}
    quotes = match_quotes(match, money)
    decided = match_decided(match)
    unchanged = (
        row.key not in quotes
        or (
            market_row_values(quotes[row.key]) == {"prices": row.prices, "max_stakes": row.max_stakes}
            and decided.get(row.key, {}) == row.decided
        )
        for row in rows
    )
    if no_new_bets and all(unchanged):
        return None  # repriced, and nothing moved (half-time: the clock stands still)
    return PricedOdds(
        odds_version=match.odds_version,
        counted_to=match.bet_sequence,
        rows=rows,
        quotes=quotes,
        decided=decided,
        first_bet_at=new_bets[0][4] if new_bets else None,
    )


def new_bets_of(match: Match) -> list[tuple[str, str, Decimal, Decimal, datetime]]:
    """The match's bets after `bets_counted` up to `bet_sequence`, in sequence order, as
    (market, selection, stake, odds, placed at): the singles, and the accumulator legs, each
    counting its accumulator's stake at the combined odds (betting/accumulators.py)."""
    window = {"match": match, "sequence__gt": match.bets_counted, "sequence__lte": match.bet_sequence}
    singles = (
        Bet.objects.filter(**window)
        .order_by()
        .values_list("sequence", "market", "selection", "stake", "odds", "created_at")
    )
    legs = (
        BetLeg.objects.filter(**window)
        .order_by()
        .values_list("sequence", "market", "selection", "bet__stake", "bet__odds", "bet__created_at")
    )
    return [row[1:] for row in sorted(singles.union(legs, all=True))]


def one_x_two_mirror(match: Match, quote: MarketQuote) -> None:
    """Copy the 1X2 market's prices onto the match's 1X2 columns."""
    match.odds_home, match.odds_draw, match.odds_away = (quote.prices[s] for s in ("home", "draw", "away"))


# What a recompute writes on each market row.
MARKET_PRICED_FIELDS = ("prices", "max_stakes", "probabilities", "stakes", "payouts", "decided")


def odds_write(match: Match, priced: PricedOdds) -> OddsVersion:
    """Store `priced` on `match` (locked by the caller, at the version priced from) as its next
    version: every market row, the 1X2 mirror and the history row; publish it after commit."""
    now = timezone.now()
    for row in priced.rows:
        if row.key in priced.quotes:
            for name, value in market_row_values(priced.quotes[row.key]).items():
                setattr(row, name, value)
            row.probabilities = market_row_probabilities(priced.quotes[row.key])
            row.decided = priced.decided.get(row.key, {})
    rows_update(priced.rows, MARKET_PRICED_FIELDS, using=match._state.db or "default")
    one_x_two_mirror(match, priced.quotes[ONE_X_TWO])
    match.bets_counted = priced.counted_to
    match.odds_version += 1
    match.odds_updated_at = now
    match.save(update_fields=ODDS_RECOMPUTE_FIELDS)
    # Bet rows are stamped inside their own transaction, a moment before it commits; this
    # one publishes right after it commits: close to the commit → publish delay.
    latency_ms = (now - priced.first_bet_at).total_seconds() * 1000 if priced.first_bet_at else None
    version = odds_version_record(match, priced.rows, bets_counted=match.bets_counted, latency_ms=latency_ms)
    events.odds_publish_on_commit(match, priced.rows)
    # The bettors' cash-out values move with the prices: sent once these are committed.
    match_id = match.pk
    on_commit_robust("cashout_values_publish", lambda: match_cashout_values_publish(match_id=match_id))
    return version


def odds_version_record(
    match: Match, rows: Iterable[Market], *, bets_counted: int = 0, latency_ms: float | None = None
) -> OddsVersion:
    """The history row of the match's current version: the 1X2 and every market's prices."""
    return OddsVersion.objects.create(
        match=match,
        version=match.odds_version,
        home=match.odds_home,
        draw=match.odds_draw,
        away=match.odds_away,
        markets={row.key: row.prices for row in rows},
        bets_counted=bets_counted,
        pipeline_latency_ms=latency_ms,
    )
