"""Writes of betting: placing a bet and recomputing a match's odds.

Lock order, everywhere: the match row first, then any wallet row. Taking them in one order
is what keeps a bet and a settlement on the same match from deadlocking.
"""

import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from betting import events, jobs
from betting.engine.model import BookTotals, EngineParams, Quote, compute_quote
from betting.errors import (
    InsufficientFunds,
    MatchNotFound,
    MatchNotOpen,
    MatchStarted,
    OddsChanged,
    OddsRequired,
    StakeOutOfRange,
)
from betting.models import Bet, LedgerKind, Match, MatchBook, MatchStatus, OddsVersion
from betting.selectors import LISTED_STATUSES
from betting.wallets import CENT, wallet_lock, wallet_post

logger = logging.getLogger(__name__)

ACCEPT_NONE = "none"
ACCEPT_HIGHER = "higher"
ACCEPT_ANY = "any"
ACCEPT_MODES = (ACCEPT_NONE, ACCEPT_HIGHER, ACCEPT_ANY)


def price_is_acceptable(*, quoted: Decimal, current: Decimal, mode: str) -> bool:
    """Whether a bet quoted at `quoted` may be struck at `current` under `mode`."""
    if quoted == current or mode == ACCEPT_ANY:
        return True
    if mode == ACCEPT_HIGHER:
        return current > quoted  # a longer price pays more: the bettor only gains
    return False


@transaction.atomic
def bet_place(
    *,
    user: User,
    match_id: int,
    selection: str,
    stake: Decimal,
    quoted_odds: Decimal | None = None,
    accept_odds_change: str = ACCEPT_NONE,
) -> Bet:
    """Debit the stake and record a bet at the current price, then ask for the match's odds
    to be recomputed.

    The match row is locked for the length of the transaction, then the wallet row: the
    price checked is the price struck, the balance checked is the balance debited, and the
    bet's sequence number is taken in commit order. Any refusal raises before anything is
    written.
    """
    stake_check(stake)
    if quoted_odds is None and accept_odds_change != ACCEPT_ANY:
        # Without the price the bettor saw there is nothing to check: only `any` may omit it.
        message = "Give the price you saw (`odds`), or accept any price."
        raise OddsRequired(message, errors={"odds": [message]})
    try:
        match = Match.objects.select_for_update().get(pk=match_id)
    except Match.DoesNotExist:
        message = f"Match {match_id} does not exist."
        raise MatchNotFound(message, errors={"match": [message]}) from None
    if match.status != MatchStatus.OPEN:
        raise MatchNotOpen(f"Match {match_id} is {match.status}: it takes no bets.", status=match.status)
    match_not_started_check(match)

    current = match.price_of(selection)
    if quoted_odds is not None and not price_is_acceptable(
        quoted=quoted_odds, current=current, mode=accept_odds_change
    ):
        raise OddsChanged(
            f"The price of {selection} moved from {quoted_odds} to {current}.",
            odds=events.odds_as_numbers(match.current_prices),
            version=match.odds_version,
        )

    wallet = wallet_lock(user_id=user.pk)
    if wallet.balance < stake:
        raise InsufficientFunds(
            f"The stake {stake} is more than the balance {wallet.balance}.", balance=events.money(wallet.balance)
        )

    match.bet_sequence += 1
    match.save(update_fields=["bet_sequence"])
    bet = Bet.objects.create(
        user=user,
        match=match,
        selection=selection,
        stake=stake,
        odds=current,
        odds_version=match.odds_version,
        sequence=match.bet_sequence,
    )
    wallet_post(wallet=wallet, kind=LedgerKind.STAKE, amount=-stake, bet=bet)
    events.bet_publish_on_commit(bet)
    if settings.ODDS_RECOMPUTE_INLINE:
        # The baseline of the system benchmark: recompute in the request, under the match
        # lock, and publish as it commits, as the odds seed's post_save signal does.
        match_odds_recompute(match_id=match.pk)
    else:
        transaction.on_commit(lambda: odds_recompute_request(match_id=match.pk))
    return bet


def match_not_started_check(match: Match) -> None:
    """Refuse once the kick-off time is reached. The clock decides, not the status: the
    status is closed by a periodic sweep that may run late, or not at all."""
    if match.kickoff <= timezone.now():
        raise MatchStarted(
            f"Match {match.pk} kicked off at {match.kickoff.isoformat()}: betting is over.",
            status=match.status,
            kickoff=match.kickoff.isoformat(),
        )


def stake_check(stake: Decimal) -> None:
    """Refuse a stake outside the book's bounds, or finer than a cent."""
    message = None
    if not stake.is_finite() or stake != stake.quantize(CENT):
        message = "The stake is an amount with at most two decimals."
    elif stake < settings.BET_MIN_STAKE:
        message = f"The stake must be at least {settings.BET_MIN_STAKE}."
    elif stake > settings.BET_MAX_STAKE:
        message = f"The stake must be at most {settings.BET_MAX_STAKE}."
    if message is not None:
        raise StakeOutOfRange(message, errors={"stake": [message]})


def _pending_key(match_id: int) -> str:
    return f"odds:recompute-pending:{match_id}"


def _last_start_key(match_id: int) -> str:
    return f"odds:recompute-last-start:{match_id}"


def _runs_key(match_id: int) -> str:
    return f"odds:recompute-runs:{match_id}"


# A pending flag outlives a lost task by at most this long; reconciliation covers the rest.
PENDING_FLAG_TTL = timedelta(seconds=60)


def _recompute_countdown(match_id: int) -> float:
    """Seconds to hold the next recompute so it starts ODDS_RECOMPUTE_MIN_INTERVAL after the last.

    This is what bounds a burst: starts are at least one interval apart, so a burst of D
    seconds causes at most D / interval + 2 recomputes, however many bets it holds.
    """
    interval = float(settings.ODDS_RECOMPUTE_MIN_INTERVAL)
    if interval <= 0:
        return 0.0
    last_start = cache.get(_last_start_key(match_id))
    if last_start is None:
        return 0.0
    return min(interval, max(0.0, float(last_start) + interval - time.time()))


def odds_recompute_request(*, match_id: int, force: bool = False) -> bool:
    """Enqueue one `recompute_odds` for the match unless one is already pending.

    Coalescing: the flag is set with SET NX; the task clears it when it *starts*, so a bet
    committed while a recompute runs enqueues exactly one more, and a bet committed before
    the start is read by the pending one. `force` enqueues even under a flag: for a request
    known to be lost (see `match_ids_recompute_overdue`). Returns whether a task was enqueued.
    """
    key = _pending_key(match_id)
    timeout = int(PENDING_FLAG_TTL.total_seconds())
    try:
        if force:
            cache.set(key, 1, timeout=timeout)
        elif not cache.add(key, 1, timeout=timeout):
            return False
        countdown = _recompute_countdown(match_id)
        jobs.odds_recompute_enqueue(match_id=match_id, countdown=countdown)  # 0: at once
        return True
    except Exception:
        # Broker or Redis down: the bet is committed and safe; the reconciler will enqueue
        # the recompute when the broker is back.
        logger.exception("Could not enqueue recompute_odds for match %s", match_id)
        with contextlib.suppress(Exception):
            cache.delete(key)
        return False


def odds_recompute_started(*, match_id: int) -> None:
    """Mark the start of a recompute: the start time and the run count first, then free the
    pending flag, so whoever takes the flag next already sees this start and waits the
    interval (and no two starts of one match count at once)."""
    cache.set(_last_start_key(match_id), time.time(), timeout=int(PENDING_FLAG_TTL.total_seconds()))
    try:
        cache.incr(_runs_key(match_id))
    except ValueError:  # the match's first run
        cache.set(_runs_key(match_id), 1, timeout=None)
    cache.delete(_pending_key(match_id))


def odds_recompute_runs(*, match_id: int) -> int:
    """How many recomputes of the match have started, including those that found nothing
    new: what coalescing bounds. Kept with the flags it is counted next to."""
    return int(cache.get(_runs_key(match_id), 0))


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

    The pricing runs outside the match row lock, which every bet on the match takes: a bet
    never waits for the engine, however costly it is (docs/odds-engine.md). The row lock is
    taken only to write, and the write happens only if the match's `odds_version` is still
    the one priced from, i.e. no other recompute wrote meanwhile (each write raises it, with
    the book in the same transaction); otherwise the pricing starts again from the new state.
    Bets committed during the pricing are counted by the next recompute, which their commit
    requested.

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
    if settings.ODDS_RECOMPUTE_EXTRA_DELAY_MS:
        time.sleep(settings.ODDS_RECOMPUTE_EXTRA_DELAY_MS / 1000)  # bench only: a slower engine
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


def match_ids_needing_recompute() -> list[int]:
    """Matches with bets their current odds have not counted (e.g. committed while the
    broker was down), and listed matches not priced by this engine yet (no markets)."""
    behind = Q(bet_sequence__gt=F("bets_counted")) | Q(markets={}, status__in=LISTED_STATUSES)
    return list(Match.objects.filter(behind).values_list("pk", flat=True))


def match_ids_recompute_overdue() -> list[int]:
    """Matches whose oldest uncounted bet is older than ODDS_RECOMPUTE_OVERDUE_SECONDS.

    Their recompute request was lost while its pending flag stayed up: a worker killed while
    it held the task (reserved, or waiting out its countdown) takes the task with it until
    the broker's visibility timeout, and the flag blocks every new request until its TTL.
    Reconciliation forces a new request for these instead of waiting that long.
    """
    from django.db.models import Exists, OuterRef

    cutoff = timezone.now() - timedelta(seconds=settings.ODDS_RECOMPUTE_OVERDUE_SECONDS)
    oldest_uncounted = Bet.objects.filter(
        match=OuterRef("pk"), sequence=OuterRef("bets_counted") + 1, created_at__lt=cutoff
    )
    behind = Match.objects.filter(bet_sequence__gt=F("bets_counted"))
    return list(behind.filter(Exists(oldest_uncounted)).values_list("pk", flat=True))


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
# Written only by the services, holding the row lock: an edit form never writes them back.
MATCH_SERVICE_FIELDS = ("status", "result", "bet_sequence", *ODDS_RECOMPUTE_FIELDS)


@transaction.atomic
def match_save_edited_fields(*, match: Match, fields: list[str]) -> None:
    """Save a staff edit of a match: only the fields that were edited, under the row lock.

    The form read the whole row a while ago; writing all of it back would undo any bet or
    recompute committed since (the sequence, the counted bets, the prices, the version, a
    status change). The lock orders this write after any bet in flight."""
    edited = [name for name in fields if name not in MATCH_SERVICE_FIELDS]
    Match.objects.select_for_update().values_list("pk", flat=True).get(pk=match.pk)
    if edited:
        match.save(update_fields=edited)


@transaction.atomic
def match_create(
    *,
    home_team: str,
    away_team: str,
    kickoff: datetime,
    opening: dict[str, Decimal],
    status: str = MatchStatus.OPEN,
) -> Match:
    if status == MatchStatus.OPEN and kickoff <= timezone.now():
        message = "A match cannot be created open once its kick-off has passed."
        raise MatchStarted(message, errors={"kickoff": [message]})
    quote = compute_quote(opening, params=engine_params())
    match = Match.objects.create(
        markets=markets_as_strings(quote.markets),
        home_team=home_team,
        away_team=away_team,
        kickoff=kickoff,
        status=status,
        opening_home=opening["home"],
        opening_draw=opening["draw"],
        opening_away=opening["away"],
        odds_home=opening["home"],
        odds_draw=opening["draw"],
        odds_away=opening["away"],
    )
    OddsVersion.objects.create(
        match=match,
        version=1,
        home=opening["home"],
        draw=opening["draw"],
        away=opening["away"],
        markets=match.markets,
    )
    # Boards already open learn of the match from this frame (they fetch its details), so a
    # new match appears without a reload; `match_transition` announces every later change.
    events.match_status_publish_on_commit(match)
    return match
