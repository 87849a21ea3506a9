"""Cash-out: settling an open bet early at what it is worth now, less a margin
(docs/bet-types.md#cash-out).

The offer is the bet's potential payout times the current fair (margin-free) probability that it
wins, legs already won counting 1, less CASHOUT_MARGIN. The fair probabilities are the ones the
odds recompute stored beside the prices (`Market.probabilities`), so no engine runs here.

A quote (`CashoutQuote`) carries an id and is valid CASHOUT_QUOTE_SECONDS (at most 10 s).
Accepting it settles the bet at exactly the quoted amount, once: the quote id is the key, a retry
returns the same settled bet, and the bet row lock with the conditional update from `open` make
two acceptances (or an acceptance and a settlement) at once settle it once. A cashed-out bet is
`cashed_out`, which no settlement, first or corrected, ever moves.

In play (a leg's match traded on its feed), the acceptance waits out the bet delay like a bet:
it is recorded pending and answered 202, the stake stays with the bet, and a worker decides it
once the delay is over (betting/cashout_delay.py).

Lock order: the match rows of the bet's open legs (id order), the bet row, then the wallet: the
order of settlement (match, then an accumulator's row, then wallets), so the two never deadlock.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from betting import events, jobs
from betting.engine.accumulators import combined_odds
from betting.engine.markets import CENT, DRAW_NO_BET, ONE_X_TWO, market
from betting.errors import (
    CashoutPending,
    CashoutQuoteExpired,
    CashoutQuoteNotFound,
    CashoutRefused,
    CashoutUnavailable,
    MarketSuspended,
)
from betting.models import Bet, BetKind, BetStatus, CashoutQuote, LedgerKind, Market, MarketStatus, Match, MatchStatus
from betting.wallets import wallet_lock, wallet_post
from config.after_commit import on_commit_robust


@dataclass(frozen=True)
class Leg:
    """What a cash-out reads of one selection of a bet: a single is one such leg."""

    match_id: int
    market: str
    selection: str
    odds: Decimal
    status: str  # open, won, lost, void


def legs_of(bet: Bet) -> list[Leg]:
    if bet.kind == BetKind.ACCUMULATOR:
        return [Leg(leg.match_id, leg.market, leg.selection, leg.odds, leg.status) for leg in bet.legs.all()]
    assert bet.match_id is not None
    return [Leg(bet.match_id, bet.market, bet.selection, bet.odds, BetStatus.OPEN)]


def win_factor(leg: Leg, rows: Mapping[tuple[int, str], Market]) -> Decimal:
    """What the open leg keeps of the potential payout: P(it wins) + P(void) / odds (a void leg
    counts 1.00, so it returns 1/odds of the payout). P(void) is a draw no bet's draw."""
    row = rows[leg.match_id, leg.market]
    given_not_void = row.probabilities.get(leg.selection)
    if given_not_void is None:
        raise CashoutUnavailable("This bet's prices are not published yet: try again shortly.", reason="not_priced")
    won, void = Decimal(str(given_not_void)), Decimal(0)
    if market(leg.market).kind == DRAW_NO_BET:
        draw = rows.get((leg.match_id, ONE_X_TWO))
        void = Decimal(str(draw.probabilities.get("draw", 0))) if draw is not None else Decimal(0)
        won *= 1 - void
    return won + void / leg.odds


def cashout_offer(bet: Bet, legs: list[Leg], rows: Mapping[tuple[int, str], Market]) -> Decimal:
    """The offer for `bet` now, or CashoutUnavailable / MarketSuspended.

    potential payout = stake x the combined odds of the legs not void (capped at 1,000);
    offer = potential payout x Π over open legs of their `win_factor` x (1 - CASHOUT_MARGIN),
    rounded down to the cent. `rows` holds the market rows of the open legs (and the 1X2 rows of
    their matches, for a draw no bet's draw)."""
    if bet.status != BetStatus.OPEN:
        raise CashoutUnavailable(
            f"Bet {bet.pk} is {bet.status}: only an open bet is cashed out.", reason="bet_not_open"
        )
    if any(leg.status == BetStatus.LOST for leg in legs):
        raise CashoutUnavailable(f"A leg of bet {bet.pk} has lost: there is nothing to cash out.", reason="leg_lost")
    value = bet.stake * combined_odds(leg.odds for leg in legs if leg.status != BetStatus.VOID)
    for leg in legs:
        if leg.status != BetStatus.OPEN:
            continue
        leg_open_check(leg, rows[leg.match_id, leg.market])
        value *= win_factor(leg, rows)
    offer = (value * (1 - settings.CASHOUT_MARGIN)).quantize(CENT, rounding=ROUND_DOWN)
    if offer <= 0:
        raise CashoutUnavailable(f"Bet {bet.pk} is worth nothing to cash out now.", reason="no_value")
    return offer


def leg_open_check(leg: Leg, row: Market) -> None:
    """An open leg's market must be open: 409 `market_suspended` or `cashout_unavailable`.

    A match traded in play (on its feed) is offered, at its in-play probabilities; its
    acceptance waits out the bet delay. One past its kick-off and not traded in play has no
    price the book stands by: it waits for its result, `market_closed`."""
    match = row.match
    if match.status == MatchStatus.SUSPENDED or row.status == MarketStatus.SUSPENDED:
        raise MarketSuspended(
            f"Market {row.key} of match {match.pk} is suspended: no cash-out until it reopens.",
            status=MarketStatus.SUSPENDED,
            reason=match.suspended_reason or "trader",
        )
    if row.status != MarketStatus.OPEN or match.status != MatchStatus.OPEN:
        raise CashoutUnavailable(
            f"Market {row.key} of match {match.pk} is {row.status}: it waits for its result.", reason="market_closed"
        )
    if not match.in_play and match.kickoff <= timezone.now():
        raise CashoutUnavailable(
            f"Match {match.pk} has kicked off and is not traded in play: it waits for its result.",
            reason="market_closed",
        )


def in_play(legs: Iterable[Leg], rows: Mapping[tuple[int, str], Market]) -> bool:
    """Whether an open leg's match is traded in play: then an acceptance waits out the bet delay."""
    return any(rows[leg.match_id, leg.market].match.in_play for leg in legs if leg.status == BetStatus.OPEN)


def market_rows(legs: Iterable[Leg]) -> dict[tuple[int, str], Market]:
    """The market rows (with their match) the open legs are valued from, and their 1X2 rows."""
    open_legs = [leg for leg in legs if leg.status == BetStatus.OPEN]
    keys = {(leg.match_id, leg.market) for leg in open_legs} | {(leg.match_id, ONE_X_TWO) for leg in open_legs}
    rows = Market.objects.select_related("match").filter(
        match_id__in={match_id for match_id, _ in keys}, key__in={key for _, key in keys}
    )
    return {(row.match_id, row.key): row for row in rows}


def bet_of_user(*, user: User, bet_id: int, lock: bool = False) -> Bet:
    bets = Bet.objects.select_for_update() if lock else Bet.objects
    try:
        return bets.get(pk=bet_id, user=user)
    except Bet.DoesNotExist:
        raise CashoutQuoteNotFound(f"You have no bet {bet_id}.") from None


def cashout_quote(*, user: User, bet_id: int) -> CashoutQuote:
    """Price the user's open bet now and record the offer, valid CASHOUT_QUOTE_SECONDS."""
    bet = bet_of_user(user=user, bet_id=bet_id)
    legs = legs_of(bet)
    amount = cashout_offer(bet, legs, market_rows(legs))
    now = timezone.now()
    return CashoutQuote.objects.create(
        bet=bet, amount=amount, created_at=now, expires_at=now + timedelta(seconds=settings.CASHOUT_QUOTE_SECONDS)
    )


@transaction.atomic
def cashout_accept(*, user: User, bet_id: int, quote_id: str) -> tuple[Bet, CashoutQuote, bool]:
    """Accept the quote: pre-match, settle the bet at its amount now; in play, record the
    acceptance pending for the bet delay (`quote.decide_at`) and ask a worker for its decision.
    Returns the bet, the quote and whether this call changed anything (False: a retry of an
    acceptance already settled or pending: nothing moves).

    Refused, nothing written: an unknown quote (404), an expired one (`cashout_quote_expired`),
    a bet no longer open or a leg lost (`cashout_unavailable`), a leg's market suspended
    (`market_suspended`), another acceptance of the bet pending (`cashout_pending`), or this
    quote's acceptance already refused after the delay (`cashout_refused`, with its `reason`)."""
    try:
        found = CashoutQuote.objects.get(pk=quote_id, bet_id=bet_id, bet__user=user)
    except (CashoutQuote.DoesNotExist, ValueError):
        raise CashoutQuoteNotFound(f"No cash-out quote {quote_id} for your bet {bet_id}.") from None
    bet = bet_and_matches_lock(bet_of_user(user=user, bet_id=bet_id))
    quote = CashoutQuote.objects.get(pk=found.pk)  # as committed before the bet lock was granted
    if quote.accepted_at is not None:
        return bet, quote, False  # accepted before: the same answer, nothing moves
    if quote.decide_at is not None:
        if quote.decided_at is None:
            return bet, quote, False  # pending: the same 202, one decision to come
        raise CashoutRefused(
            f"This cash-out was refused after the bet delay ({quote.reason}): ask for a new quote.",
            reason=quote.reason,
        )
    if timezone.now() > quote.expires_at:
        raise CashoutQuoteExpired(f"The quote expired at {quote.expires_at.isoformat()}: ask for a new one.")
    legs = legs_of(bet)
    rows = market_rows(legs)
    cashout_offer(bet, legs, rows)  # still open, no leg lost, no market suspended
    if in_play(legs, rows):
        cashout_pending_create(bet=bet, quote=quote)
    else:
        cashout_settle(bet=bet, quote=quote, now=timezone.now())
    return bet, quote, True


def bet_and_matches_lock(bet: Bet) -> Bet:
    """Lock the match rows of the bet's open legs (id order), then the bet's: settlement's order.
    Returns the bet as read under its lock."""
    match_ids = sorted({leg.match_id for leg in legs_of(bet) if leg.status == BetStatus.OPEN})
    list(Match.objects.select_for_update().filter(pk__in=match_ids).order_by("pk"))
    return Bet.objects.select_for_update().get(pk=bet.pk)


def cashout_pending_create(*, bet: Bet, quote: CashoutQuote) -> None:
    """Record the in-play acceptance pending until the end of the bet delay, and ask for its
    decision then (called under the bet's lock). The stake stays with the bet meanwhile."""
    if CashoutQuote.objects.filter(bet=bet, decide_at__isnull=False, decided_at__isnull=True).exists():
        raise CashoutPending(f"A cash-out of bet {bet.pk} waits for its decision already.")
    now = timezone.now()
    quote.requested_at, quote.decide_at = now, now + timedelta(seconds=settings.INPLAY_BET_DELAY_SECONDS)
    quote.save(update_fields=["requested_at", "decide_at"])
    events.cashout_decision_publish_on_commit(user_id=bet.user_id, quote=quote)
    quote_id, countdown = str(quote.pk), settings.INPLAY_BET_DELAY_SECONDS + jobs.DECISION_GRACE_SECONDS
    on_commit_robust(
        "cashout_decide_request", lambda: jobs.cashout_decide_enqueue(quote_id=quote_id, countdown=countdown)
    )


def cashout_settle(*, bet: Bet, quote: CashoutQuote, now: datetime) -> None:
    """Settle the bet `cashed_out` at the quote's amount: the one place money moves for a
    cash-out (called under the bet's lock, the bet open)."""
    claimed = Bet.objects.filter(pk=bet.pk, status=BetStatus.OPEN).update(
        status=BetStatus.CASHED_OUT, payout=quote.amount, settled_at=now
    )
    if claimed != 1:  # cannot happen under the row lock; the conditional update backs it
        raise CashoutUnavailable(f"Bet {bet.pk} is no longer open.", reason="bet_not_open")
    quote.accepted_at = now
    quote.save(update_fields=["accepted_at"])
    bet.status, bet.payout, bet.settled_at = BetStatus.CASHED_OUT, quote.amount, now
    wallet = wallet_lock(user_id=bet.user_id)
    wallet_post(
        wallet=wallet, kind=LedgerKind.CASHOUT, amount=quote.amount, bet=bet, settlement_round=bet.settlement_round
    )
    events.bet_publish_on_commit(bet)


def cashout_values(bets: list[Bet]) -> dict[int, tuple[Decimal | None, str]]:
    """Each open bet's cash-out value now, or None with the code of the refusal (its `reason`
    for `cashout_unavailable`). One query for every market row the bets are valued from."""
    legs = {bet.pk: legs_of(bet) for bet in bets}
    rows = market_rows(leg for bet_legs in legs.values() for leg in bet_legs)
    values: dict[int, tuple[Decimal | None, str]] = {}
    for bet in bets:
        try:
            values[bet.pk] = (cashout_offer(bet, legs[bet.pk], rows), "")
        except CashoutUnavailable as exc:
            values[bet.pk] = (None, str(exc.extra.get("reason", exc.code)))
        except MarketSuspended as exc:
            values[bet.pk] = (None, exc.code)
    return values


def match_cashout_values_publish(*, match_id: int) -> int:
    """Send the bettors of the match's open bets (its singles, and the accumulators with a leg
    still to play on it) their cash-out values, as `cashout` frames on their private feed.

    Called after the match's new prices are committed: only the bets of a match whose prices
    changed are valued, at most CASHOUT_FEED_MAX_BETS of them (the newest), one query each for
    the bets, their legs and the market rows. Returns the frames sent."""
    limit = settings.CASHOUT_FEED_MAX_BETS
    singles = Bet.objects.filter(match_id=match_id, status=BetStatus.OPEN).order_by("-id")[:limit]
    accumulators = (
        Bet.objects.filter(status=BetStatus.OPEN, legs__match_id=match_id, legs__status=BetStatus.OPEN)
        .prefetch_related("legs")
        .order_by("-id")[:limit]
    )
    bets = sorted([*singles, *accumulators], key=lambda bet: -bet.pk)[:limit]
    values = cashout_values(bets)
    # One pipelined round trip for them all: one PUBLISH round trip a bet was most of a
    # recompute's CPU on a match with many open bets (docs/benchmarks.md#the-bet-path).
    events.cashouts_publish_on_commit([(bet.user_id, bet.pk, *values[bet.pk]) for bet in bets])
    return len(bets)
