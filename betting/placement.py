"""Placing a bet: check it, debit the stake, record it at the current price.

Lock order, everywhere: the match row first, then any wallet row. Taking them in one order
is what keeps a bet and a settlement on the same match from deadlocking.
"""

from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction

from betting import events
from betting.errors import (
    MarketSuspended,
    MatchNotFound,
    MatchNotOpen,
    OddsChanged,
    OddsRequired,
    StakeOutOfRange,
)
from betting.matches import match_not_started_check
from betting.models import Bet, LedgerKind, Match, MatchStatus
from betting.recompute import odds_recompute_request
from betting.wallets import amount_out_of_bounds, wallet_available_check, wallet_lock, wallet_post
from config.after_commit import on_commit_robust
from safergambling.services import bet_allowed_check

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
    if match.status == MatchStatus.SUSPENDED:
        raise MarketSuspended(
            f"Betting on match {match_id} is suspended ({match.suspended_reason or 'trader'}): try again shortly.",
            status=match.status,
            reason=match.suspended_reason,
        )
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
    # The account's own rules (a break, its stake and loss limits), under the wallet lock that
    # serialises its bets: two bets at once cannot both pass a loss limit one would reach.
    bet_allowed_check(wallet=wallet, stake=stake)
    wallet_available_check(wallet=wallet, amount=stake, what=f"The stake {stake}")

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
    bet_odds_recompute_schedule(match_id=match.pk)
    return bet


def bet_odds_recompute_schedule(*, match_id: int) -> None:
    """Hand the match over to the odds pipeline once the bet commits (called under the match
    row lock, inside the bet's transaction).

    The one seam between a bet and the pipeline: the system benchmark's inline baseline
    replaces it to recompute right here, under the lock (bench/hooks.py)."""
    on_commit_robust("odds_recompute_request", lambda: odds_recompute_request(match_id=match_id))


def stake_check(stake: Decimal) -> None:
    """Refuse a stake outside the book's bounds, or finer than a cent."""
    message = amount_out_of_bounds(stake, minimum=settings.BET_MIN_STAKE, maximum=settings.BET_MAX_STAKE, name="stake")
    if message is not None:
        raise StakeOutOfRange(message, errors={"stake": [message]})
