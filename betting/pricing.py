"""Pricing a match's odds from its bets, and writing the new version with optimistic concurrency.

The engine runs outside the match row lock, which every bet on the match takes: a bet never
waits for the engine, however costly it is (docs/odds-engine.md). The lock is taken only to
write, and only if no other recompute wrote since the pricing read the match.
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from betting import events
from betting.engine.model import BookTotals, EngineParams, Quote, compute_quote
from betting.models import Bet, Match, MatchBook, OddsVersion

logger = logging.getLogger(__name__)


def engine_params() -> EngineParams:
    return EngineParams(
        margin=settings.ODDS_MARGIN,
        margin_max=settings.ODDS_MARGIN_MAX,
        prior_liquidity=settings.ODDS_PRIOR_LIQUIDITY,
        liability_weight=settings.ODDS_LIABILITY_WEIGHT,
        margin_method=settings.ODDS_MARGIN_METHOD,
        max_move_ticks=settings.ODDS_MAX_MOVE_TICKS,
    )


def markets_as_strings(markets: dict[str, dict[str, Decimal]]) -> dict[str, dict[str, str]]:
    """Derived-market prices as stored in JSON: exact two-place strings, not floats."""
    return {
        name: {selection: f"{price:.2f}" for selection, price in prices.items()} for name, prices in markets.items()
    }


# A recompute prices outside the match row lock and writes only if no other recompute wrote
# meanwhile; after this many lost races in a row it prices under the lock, so it always ends.
ODDS_RECOMPUTE_OPTIMISTIC_ATTEMPTS = 3

# What a recompute writes on the match row, under its lock.
ODDS_RECOMPUTE_FIELDS = [
    "odds_home",
    "odds_draw",
    "odds_away",
    "markets",
    "odds_version",
    "odds_updated_at",
    "bets_counted",
]


@dataclass
class PricedOdds:
    """A recompute's result, priced from the match as it was at `odds_version`."""

    odds_version: int
    counted_to: int  # the match's bet_sequence when it was read: every bet up to it is counted
    book: MatchBook
    quote: Quote
    first_bet_at: datetime | None


def match_odds_recompute(*, match_id: int) -> OddsVersion | None:
    """Bring a match's odds up to date with every bet committed so far, and publish them.

    Incremental: the match's book holds the running totals of the bets up to
    `bets_counted`; only the bets after it are read (through the (match, sequence) unique
    index) and added, so the cost does not grow with the bets already taken.

    The pricing runs outside the match row lock; the write happens only if the match's
    `odds_version` is still the one priced from, i.e. no other recompute wrote meanwhile
    (each write raises it, with the book in the same transaction); otherwise the pricing
    starts again from the new state. Bets committed during the pricing are counted by the
    next recompute, which their commit requested.

    Every recompute that counts new bets (or prices a match without markets yet) stores
    and publishes a version, even when no price moved: the published `bets` then always
    names the newest bet the odds include. Returns it, or None when there was nothing new.
    """
    for _attempt in range(ODDS_RECOMPUTE_OPTIMISTIC_ATTEMPTS):
        priced = odds_price(Match.objects.get(pk=match_id))
        if priced is None:
            return None
        with transaction.atomic():
            match = Match.objects.select_for_update().get(pk=match_id)
            if match.odds_version == priced.odds_version:
                return odds_write(match, priced)
        logger.info("Match %s: another recompute wrote during the pricing; pricing again", match_id)
    with transaction.atomic():
        match = Match.objects.select_for_update().get(pk=match_id)
        priced = odds_price(match)
        return odds_write(match, priced) if priced is not None else None


def odds_price(match: Match) -> PricedOdds | None:
    """Price `match` as read, with the bets committed after its counted ones; None when there
    is nothing new. Every bet up to the read `bet_sequence` is visible: a bet takes its
    sequence number and commits in one transaction."""
    if match.bets_counted == match.bet_sequence and match.markets:
        return None
    # Read after the match: a book written since then comes with a higher odds_version,
    # which the write's check refuses.
    book = MatchBook.objects.filter(match=match).first() or MatchBook(match=match)
    new_bets = list(
        Bet.objects.filter(match=match, sequence__gt=match.bets_counted, sequence__lte=match.bet_sequence)
        .order_by("sequence")
        .values_list("selection", "stake", "odds", "created_at")
    )
    if len(new_bets) != match.bet_sequence - match.bets_counted:
        # Sequence numbers are taken under the match lock and bets are never deleted (PROTECT).
        logger.error(
            "Match %s: expected %s new bets after %s, found %s",
            match.pk,
            match.bet_sequence - match.bets_counted,
            match.bets_counted,
            len(new_bets),
        )
    for selection, stake, odds, _created_at in new_bets:
        book.add_bet(selection=selection, stake=stake, odds=odds)
    quote = compute_quote(
        match.opening_prices,
        BookTotals(stakes=book.stakes, payouts=book.payouts),
        engine_params(),
        current=match.current_prices,
    )
    return PricedOdds(
        odds_version=match.odds_version,
        counted_to=match.bet_sequence,
        book=book,
        quote=quote,
        first_bet_at=new_bets[0][3] if new_bets else None,
    )


def odds_write(match: Match, priced: PricedOdds) -> OddsVersion:
    """Store `priced` on `match` (locked by the caller, at the version priced from) as its next
    version, with the book and the history row, and publish it after commit."""
    now = timezone.now()
    prices = priced.quote.prices
    match.odds_home, match.odds_draw, match.odds_away = prices["home"], prices["draw"], prices["away"]
    match.markets = markets_as_strings(priced.quote.markets)
    match.bets_counted = priced.counted_to
    match.odds_version += 1
    match.odds_updated_at = now
    match.save(update_fields=ODDS_RECOMPUTE_FIELDS)
    priced.book.save()
    # Bet rows are stamped inside their own transaction, a moment before it commits; this
    # one publishes right after it commits: close to the commit → publish delay.
    latency_ms = (now - priced.first_bet_at).total_seconds() * 1000 if priced.first_bet_at else None
    version = OddsVersion.objects.create(
        match=match,
        version=match.odds_version,
        home=prices["home"],
        draw=prices["draw"],
        away=prices["away"],
        markets=match.markets,
        bets_counted=match.bets_counted,
        pipeline_latency_ms=latency_ms,
    )
    events.odds_publish_on_commit(match)
    return version
