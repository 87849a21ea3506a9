"""The in-play bet delay: a bet placed in play waits INPLAY_BET_DELAY_SECONDS as `pending`, its
stake held, then a worker accepts it (the hold becomes its stake entry) or rejects it (the hold
is released), once.

The decision reads the logs by time, never the current status, so a worker that runs late
decides as one on time would:

- the match's status log (`MatchStatusChange`): a suspension, closing or settlement at any
  moment of the delay rejects the bet;
- the sources named in BET_DELAY_INTERRUPTION_SOURCES (the feed's log of goals, red cards,
  penalties and disallowed goals, `inplay.selectors.bet_delay_interruptions`), as intervals;
- the published odds history (`OddsVersion`): the price at the end of the delay, which the
  bettor's `accept_odds_change` must accept; the bet is struck at it.

Only what the book knew by the end of the delay counts. A bet still undecided
INPLAY_BET_DECISION_LIMIT_SECONDS after its delay ended is rejected `timed_out`.

`delay_verdict` is the rule, pure; `delay_interruption` and `price_at` read the logs for it:
any delayed decision (a cash-out in play, say) may call the same three.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from betting import events
from betting.models import (
    Bet,
    BetStatus,
    LedgerKind,
    Market,
    Match,
    MatchStatus,
    MatchStatusChange,
    OddsVersion,
    Wallet,
)
from betting.placement import bet_odds_recompute_schedule, max_stake_check, price_is_acceptable
from betting.settlement import match_lock
from betting.wallet_rules import wallet_rules
from betting.wallets import wallet_hold_capture, wallet_hold_release, wallet_lock
from config.errors import ApplicationError

logger = logging.getLogger(__name__)

SUSPENDED_DURING_DELAY = "suspended_during_delay"
MARKET_CLOSED = "market_closed"
ODDS_CHANGED = "odds_changed"
TIMED_OUT = "timed_out"
STAKE_TOO_HIGH = "stake_too_high"

# Match statuses that reject a delay they fall in, and the reason they give.
INTERRUPTING_STATUSES: dict[str, str] = {
    MatchStatus.SUSPENDED: SUSPENDED_DURING_DELAY,
    MatchStatus.CLOSED: MARKET_CLOSED,
    MatchStatus.SETTLED: MARKET_CLOSED,
    MatchStatus.VOID: MARKET_CLOSED,
}
# Statuses a match may have when a bet is accepted onto it (a suspension after the delay does
# not undo a delay that passed clean; a finished match takes no new bet).
ACCEPTING_STATUSES = (MatchStatus.OPEN, MatchStatus.SUSPENDED)


@dataclass(frozen=True)
class Interruption:
    """A stretch of time during which no delay may pass: from `start` to `end` (None: not over,
    as far as the book knew), with the reason a bet whose delay it overlaps is rejected."""

    start: datetime
    end: datetime | None
    reason: str


def delay_verdict(
    *,
    placed_at: datetime,
    decide_at: datetime,
    decided_at: datetime,
    interruptions: Iterable[Interruption],
    quoted: Decimal | None,
    price_then: Decimal | None,
    accept_odds_change: str,
) -> str | None:
    """The decision on a delay that ran from `placed_at` to `decide_at`, taken at `decided_at`:
    None to accept, else the reason to reject.

    Pure: the same logs give the same verdict whenever it is taken, up to the limit. Only
    interruptions that started by `decide_at` count (what the book knew when the delay ended).
    `quoted` is the price the bettor saw (None: they accept any); `price_then` the price at
    `decide_at` (None: the selection had no price)."""
    if decided_at > decide_at + timedelta(seconds=settings.INPLAY_BET_DECISION_LIMIT_SECONDS):
        return TIMED_OUT
    for interruption in sorted(interruptions, key=lambda item: item.start):
        if interruption.start <= decide_at and (interruption.end is None or interruption.end >= placed_at):
            return interruption.reason
    if price_then is None:
        return ODDS_CHANGED
    if quoted is not None and not price_is_acceptable(quoted=quoted, current=price_then, mode=accept_odds_change):
        return ODDS_CHANGED
    return None


def status_interruptions(*, match_id: int, start: datetime, end: datetime) -> list[Interruption]:
    """The match's status changes between `start` and `end` away from open, from its status log.

    A bet is placed only while its match is open, so only a change inside the delay can
    interrupt it; each counts from its time on."""
    changes = MatchStatusChange.objects.filter(match_id=match_id, at__gte=start, at__lte=end)
    return [
        Interruption(start=at, end=None, reason=INTERRUPTING_STATUSES[status])
        for status, at in changes.values_list("status", "at")
        if status in INTERRUPTING_STATUSES
    ]


def delay_interruption(*, match_id: int, start: datetime, end: datetime) -> str | None:
    """Why a delay of the match from `start` to `end` did not pass clean (`suspended_during_delay`,
    `market_closed`), or None. Call once `end` has passed."""
    for interruption in sorted(delay_interruptions(match_id=match_id, start=start, end=end), key=lambda i: i.start):
        if interruption.start <= end and (interruption.end is None or interruption.end >= start):
            return interruption.reason
    return None


def delay_interruptions(*, match_id: int, start: datetime, end: datetime) -> list[Interruption]:
    """Every interruption of the match between `start` and `end`: its status log's and those of
    every BET_DELAY_INTERRUPTION_SOURCES (the feed's material events), read by time."""
    found = status_interruptions(match_id=match_id, start=start, end=end)
    for path in settings.BET_DELAY_INTERRUPTION_SOURCES:
        found += import_string(path)(match_id=match_id, start=start, end=end)
    return found


def price_at(*, match_id: int, market: str, selection: str, at: datetime) -> tuple[Decimal | None, int | None]:
    """The price of `selection` in `market` as published at `at` (the newest odds version
    computed by then), with that version; (None, None) if none was, or the selection had no
    price."""
    version = (
        OddsVersion.objects.filter(match_id=match_id, computed_at__lte=at)
        .order_by("-version")
        .values("version", "markets", "home", "draw", "away")
        .first()
    )
    if version is None:
        return None, None
    prices = (version["markets"] or {}).get(market)
    if prices is None and market == "1x2":
        price = version.get(selection)  # a version from before the market rows
        return (None if price is None else Decimal(str(price))), version["version"]
    text = (prices or {}).get(selection)
    return (None if text is None else Decimal(str(text))), version["version"]


def bet_delay_decide(*, bet_id: int, now: datetime | None = None) -> Bet | None:
    """Accept or reject a pending in-play bet once its delay is over; returns the bet, or None
    when it is not due yet (the sweep decides it then) or does not exist.

    Once: under the match row lock (the lock order of every betting write; it also waits for
    any status change or recompute in flight) and the bet row's, a bet already decided is
    returned as it is. A worker killed half-way decided nothing: its transaction rolls back."""
    with transaction.atomic():
        match_id = Bet.objects.filter(pk=bet_id).values_list("match_id", flat=True).first()
        if match_id is None:
            return None
        match = match_lock(match_id)
        bet = Bet.objects.select_for_update().get(pk=bet_id)
        if bet.status != BetStatus.PENDING:
            return bet
        decided_at = now or timezone.now()
        assert bet.decide_at is not None  # every pending bet has one (bet_pending_create)
        if decided_at < bet.decide_at:
            return None
        delay = bet.delay
        price_then, version_then = price_at(
            match_id=match_id, market=bet.market, selection=bet.selection, at=bet.decide_at
        )
        reason = delay_verdict(
            placed_at=bet.created_at,
            decide_at=bet.decide_at,
            decided_at=decided_at,
            interruptions=delay_interruptions(match_id=match_id, start=bet.created_at, end=bet.decide_at),
            quoted=delay.quoted_odds,
            price_then=price_then,
            accept_odds_change=delay.accept_odds_change,
        )
        if reason is None and match.status not in ACCEPTING_STATUSES:
            reason = MARKET_CLOSED  # finished since: a settled match takes no new bet
        wallet = wallet_lock(user_id=bet.user_id)
        if reason is None:
            assert price_then is not None and version_then is not None  # else delay_verdict refused
            reason = acceptance_refusal(bet=bet, match=match, wallet=wallet, price=price_then)
        if reason is None and price_then is not None and version_then is not None:
            match.bet_sequence += 1
            match.save(update_fields=["bet_sequence"])
            bet.status, bet.sequence = BetStatus.OPEN, match.bet_sequence
            bet.odds, bet.odds_version = price_then, version_then
            bet.save(update_fields=["status", "sequence", "odds", "odds_version"])
            captured = wallet_hold_capture(wallet=wallet, hold=delay.hold, kind=LedgerKind.STAKE, bet=bet)
            assert captured is not None  # the hold ends only with its bet's decision, under these locks
            bet_odds_recompute_schedule(match_id=match_id)
        else:
            bet.status, bet.reason = BetStatus.REJECTED, reason or ODDS_CHANGED
            bet.save(update_fields=["status", "reason"])
            wallet_hold_release(wallet=wallet, hold=delay.hold)
        delay.decided_at = decided_at
        delay.decision_ms = (decided_at - bet.created_at).total_seconds() * 1000
        delay.save(update_fields=["decided_at", "decision_ms"])
        events.bet_publish_on_commit(bet)
    logger.info(
        "Bet %s %s%s after %.0f ms",
        bet.pk,
        bet.status,
        f" ({bet.reason})" if bet.reason else "",
        delay.decision_ms,
        extra={"match": match_id},
    )
    return bet


def acceptance_refusal(*, bet: Bet, match: Match, wallet: Wallet, price: Decimal) -> str | None:
    """What the book and the account say now, at the price struck: the selection's maximum stake
    (other bets may have been accepted during the delay) and the account's own rules (a break
    or a loss limit reached meanwhile). The code of the refusal, or None."""
    row = Market.objects.filter(match=match, key=bet.market).first()
    try:
        if row is not None:
            max_stake_check(match=match, row=row, selection=bet.selection, price=price, stake=bet.stake)
        wallet_rules().bet_allowed_check(wallet=wallet, stake=bet.stake)  # safer gambling's, by its hook
    except ApplicationError as refusal:
        return str(refusal.code)
    return None


def bet_delay_sweep(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """What beat runs every INPLAY_BET_SWEEP_SECONDS: decide every pending bet whose delay is
    over (its task was lost with a worker, or ran early). Returns the bets it decided."""
    now = now or timezone.now()
    due = list(
        Bet.objects.filter(status=BetStatus.PENDING, decide_at__lte=now)
        .order_by("decide_at")
        .values_list("pk", flat=True)[:limit]
    )
    decided = []
    for bet_id in due:
        bet = bet_delay_decide(bet_id=bet_id)
        if bet is not None and bet.status != BetStatus.PENDING:
            decided.append(bet_id)
    return decided
