"""Cash-out in play: an acceptance waits out the bet delay, then a worker decides it, once
(docs/bet-types.md#cash-out-in-play).

An acceptance of a quote while an open leg's match is traded in play is recorded pending
(`CashoutQuote.decide_at`, INPLAY_BET_DELAY_SECONDS after the request) and the bet stays `open`
with its stake. After the delay the decision follows the bet delay's rule (betting/delay.py),
in this order:

- `timed_out`: decided more than INPLAY_BET_DECISION_LIMIT_SECONDS after the delay ended;
- `market_suspended` / `market_closed`: a suspension, a material feed event (goal, red card,
  penalty) or a closing of any open leg's match fell inside the delay, read from the logs by
  time as for a bet;
- the bet valued again from the prices then (the market rows the in-play recompute keeps):
  refused with the offer's own code if it is no longer offered (`bet_not_open` once settled,
  `leg_lost`, `market_suspended`, `market_closed`, ...);
- `cashout_value_changed` if that value is below the quoted amount: the bet delay's "higher"
  acceptance (the bettor only gains), applied to money instead of a price.

Accepted, the bet is settled at the quoted amount (`cashout.cashout_settle`, the one place the
money moves). Either way the bettor's private feed gets a `cashout_decision` frame.

Once: under the match rows' locks (id order) and then the bet row's, the order of settlement
and of a pre-match acceptance, a decision already taken is returned as it is, and the database
allows one pending and one accepted quote per bet. A worker killed half-way decided nothing.
"""

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from betting import events
from betting.cashout import Leg, bet_and_matches_lock, cashout_offer, cashout_settle, legs_of, market_rows
from betting.delay import MARKET_CLOSED, ODDS_CHANGED, SUSPENDED_DURING_DELAY, delay_interruptions, delay_verdict
from betting.errors import CashoutUnavailable, MarketSuspended
from betting.models import Bet, BetStatus, CashoutQuote
from betting.placement import ACCEPT_HIGHER

logger = logging.getLogger(__name__)

MARKET_SUSPENDED = "market_suspended"
VALUE_CHANGED = "cashout_value_changed"
# The bet delay's reasons, in a cash-out's words: a cash-out's market is suspended or its value
# changed where a bet's delay was interrupted or its odds changed.
REASONS = {SUSPENDED_DURING_DELAY: MARKET_SUSPENDED, ODDS_CHANGED: VALUE_CHANGED, MARKET_CLOSED: MARKET_CLOSED}


def cashout_verdict(*, bet: Bet, legs: list[Leg], quote: CashoutQuote, decided_at: datetime) -> str | None:
    """None to accept the pending acceptance, else the code of its refusal."""
    assert quote.requested_at is not None and quote.decide_at is not None  # a pending acceptance
    match_ids = sorted({leg.match_id for leg in legs if leg.status == BetStatus.OPEN})
    interruptions = [
        interruption
        for match_id in match_ids
        for interruption in delay_interruptions(match_id=match_id, start=quote.requested_at, end=quote.decide_at)
    ]
    value, refusal = quote.amount, None
    try:
        value = cashout_offer(bet, legs, market_rows(legs))
    except CashoutUnavailable as exc:
        refusal = str(exc.extra.get("reason", exc.code))
    except MarketSuspended:
        refusal = MARKET_SUSPENDED
    reason = delay_verdict(
        placed_at=quote.requested_at,
        decide_at=quote.decide_at,
        decided_at=decided_at,
        interruptions=interruptions,
        quoted=quote.amount,
        price_then=value,
        accept_odds_change=ACCEPT_HIGHER,
    )
    if reason is not None:
        return REASONS.get(reason, reason)
    return refusal


def cashout_decide(*, quote_id: str, now: datetime | None = None) -> CashoutQuote | None:
    """Accept or refuse a pending in-play cash-out once its delay is over; returns the quote,
    or None when it is not due yet (the sweep decides it then) or does not exist."""
    with transaction.atomic():
        found = CashoutQuote.objects.filter(pk=quote_id).select_related("bet").first()
        if found is None:
            return None
        bet = bet_and_matches_lock(found.bet)
        quote = CashoutQuote.objects.get(pk=quote_id)  # as committed before the locks were granted
        if quote.decide_at is None or quote.decided_at is not None:
            return quote  # pre-match, or decided already
        decided_at = now or timezone.now()
        if decided_at < quote.decide_at:
            return None
        reason = cashout_verdict(bet=bet, legs=legs_of(bet), quote=quote, decided_at=decided_at)
        if reason is None:
            cashout_settle(bet=bet, quote=quote, now=decided_at)
        quote.decided_at, quote.reason = decided_at, reason or ""
        quote.save(update_fields=["decided_at", "reason"])
        events.cashout_decision_publish_on_commit(user_id=bet.user_id, quote=quote)
    assert quote.requested_at is not None
    logger.info(
        "Cash-out of bet %s %s after %.0f ms",
        bet.pk,
        f"refused ({reason})" if reason else "accepted",
        (decided_at - quote.requested_at).total_seconds() * 1000,
    )
    return quote


def cashout_delay_sweep(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Decide every pending in-play cash-out whose delay is over (its task was lost, or ran
    early). Returns the bets whose cash-out it decided."""
    now = now or timezone.now()
    due = list(
        CashoutQuote.objects.filter(decide_at__lte=now, decided_at__isnull=True)
        .order_by("decide_at")
        .values_list("pk", "bet_id")[:limit]
    )
    decided = []
    for quote_id, bet_id in due:
        quote = cashout_decide(quote_id=str(quote_id), now=now)
        if quote is not None and quote.decided_at is not None:
            decided.append(bet_id)
    return decided
