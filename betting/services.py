"""Writes of betting: placing a bet and recomputing a match's odds.

Lock order, everywhere: the match row first, then any wallet row. Taking them in one order
is what keeps a bet and a settlement on the same match from deadlocking.
"""

import contextlib
import logging
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from betting import events
from betting.engine.model import EngineParams, compute_prices
from betting.errors import InsufficientFunds, MatchNotFound, MatchNotOpen, OddsChanged, StakeOutOfRange
from betting.models import Bet, LedgerKind, Match, MatchStatus, OddsVersion
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
    try:
        match = Match.objects.select_for_update().get(pk=match_id)
    except Match.DoesNotExist:
        message = f"Match {match_id} does not exist."
        raise MatchNotFound(message, errors={"match": [message]}) from None
    if match.status != MatchStatus.OPEN:
        raise MatchNotOpen(f"Match {match_id} is {match.status}: it takes no bets.", status=match.status)

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
    transaction.on_commit(lambda: odds_recompute_request(match_id=match.pk))
    return bet


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


# A pending flag outlives a lost task by at most this long; reconciliation covers the rest.
PENDING_FLAG_TTL = timedelta(seconds=60)


def odds_recompute_request(*, match_id: int) -> bool:
    """Enqueue one `recompute_odds` for the match unless one is already pending.

    Coalescing: the flag is set with SET NX; the task clears it when it *starts*, so a bet
    committed while a recompute runs enqueues exactly one more, and a bet committed before
    the start is read by the pending one. Returns whether a task was enqueued.
    """
    from workers.tasks import recompute_odds  # tasks import services: keep the cycle lazy

    key = _pending_key(match_id)
    try:
        if not cache.add(key, 1, timeout=int(PENDING_FLAG_TTL.total_seconds())):
            return False
        recompute_odds.apply_async(kwargs={"match_id": match_id})
        return True
    except Exception:
        # Broker or Redis down: the bet is committed and safe; the reconciler will enqueue
        # the recompute when the broker is back.
        logger.exception("Could not enqueue recompute_odds for match %s", match_id)
        with contextlib.suppress(Exception):
            cache.delete(key)
        return False


def odds_recompute_started(*, match_id: int) -> None:
    cache.delete(_pending_key(match_id))


def engine_params() -> EngineParams:
    return EngineParams(margin=settings.ODDS_MARGIN, prior_liquidity=settings.ODDS_PRIOR_LIQUIDITY)


@transaction.atomic
def match_odds_recompute(*, match_id: int) -> OddsVersion | None:
    """Recompute a match's prices from every bet committed so far.

    Returns the new version if a price moved, else None. Holding the match row lock means
    no bet can commit meanwhile, so every bet up to `bet_sequence` is visible and counted.
    """
    match = Match.objects.select_for_update().get(pk=match_id)
    if match.bets_counted == match.bet_sequence:
        return None
    newly_counted = Bet.objects.filter(match=match, sequence__gt=match.bets_counted)
    oldest_new_bet = newly_counted.order_by("sequence").only("created_at").first()

    stakes = events.stakes_by_selection(match)
    prices = compute_prices(match.opening_prices, stakes, engine_params())
    match.bets_counted = match.bet_sequence
    if prices == match.current_prices:
        match.save(update_fields=["bets_counted"])
        return None

    now = timezone.now()
    match.odds_home, match.odds_draw, match.odds_away = prices["home"], prices["draw"], prices["away"]
    match.odds_version += 1
    match.odds_updated_at = now
    match.save(update_fields=["odds_home", "odds_draw", "odds_away", "odds_version", "odds_updated_at", "bets_counted"])
    latency_ms = (now - oldest_new_bet.created_at).total_seconds() * 1000 if oldest_new_bet else None
    version = OddsVersion.objects.create(
        match=match,
        version=match.odds_version,
        home=prices["home"],
        draw=prices["draw"],
        away=prices["away"],
        bets_counted=match.bets_counted,
        pipeline_latency_ms=latency_ms,
    )
    events.odds_publish_on_commit(match)
    return version


def match_ids_needing_recompute() -> list[int]:
    """Matches with bets their current odds have not counted (e.g. committed while the
    broker was down)."""
    from django.db.models import F

    return list(Match.objects.filter(bet_sequence__gt=F("bets_counted")).values_list("pk", flat=True))


@transaction.atomic
def match_create(
    *,
    home_team: str,
    away_team: str,
    kickoff: datetime,
    opening: dict[str, Decimal],
    status: str = MatchStatus.OPEN,
) -> Match:
    match = Match.objects.create(
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
    OddsVersion.objects.create(match=match, version=1, home=opening["home"], draw=opening["draw"], away=opening["away"])
    return match
