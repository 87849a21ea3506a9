"""Placing a bet: check it, debit the stake, record it at the current price.

In play, the same checks, then the bet waits out the bet delay as `pending` with its stake
held, not debited: a worker accepts or rejects it (betting/delay.py).

Lock order, everywhere: the match row first, then any wallet row. Taking them in one order
is what keeps a bet and a settlement on the same match from deadlocking.
"""

import inspect
from collections.abc import Callable
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.contrib.auth.models import User
from django.db import router, transaction
from django.utils import timezone

from betting import events, jobs
from betting.engine.markets import CENT, ONE_X_TWO, overlapping_selections
from betting.errors import (
    MarketClosed,
    MarketSuspended,
    MatchNotFound,
    MatchNotOpen,
    OddsChanged,
    OddsRequired,
    SelectionClosed,
    SelectionDecided,
    StakeOutOfRange,
    StakeTooHigh,
)
from betting.matches import match_not_started_check
from betting.models import (
    Bet,
    BetDelay,
    BetLeg,
    BetStatus,
    LedgerKind,
    Market,
    MarketStatus,
    Match,
    MatchStatus,
    Wallet,
)
from betting.recompute import odds_recompute_request
from betting.rows import model_columns, row_insert, row_model
from betting.wallet_rules import wallet_rules
from betting.wallets import amount_out_of_bounds, wallet_available_check, wallet_hold, wallet_lock, wallet_post
from config.after_commit import on_commit_robust

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
    market: str = ONE_X_TWO,
) -> Bet:
    """Debit the stake and record a bet on `selection` of the match's `market` at its current
    price, then ask for the match's prices to be recomputed. In play (`Match.in_play`), hold
    the stake instead and record the bet `pending` until the bet delay's decision.

    Reads only what the recompute stored (the market's status, price and maximum stake): no
    model nor engine runs here.

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
    match = match_lock_sequence_take(match_id)
    if match is None:
        message = f"Match {match_id} does not exist."
        raise MatchNotFound(message, errors={"match": [message]})
    match_takes_bets_check(match)
    row = market_open_check(match, market, liability_of=selection)
    current = selection_price_check(
        match=match, row=row, selection=selection, quoted_odds=quoted_odds, accept_odds_change=accept_odds_change
    )
    max_stake_check(match=match, row=row, selection=selection, price=current, stake=stake)

    # Whether the account has a break or limits is read in the statement that locks the wallet,
    # so an account with none spends no statement of its own on them.
    # (Safer gambling's rules, reached through the hooks of betting/wallet_rules.py: it stands
    # above betting, whose ledger it reads.)
    now = timezone.now()
    rules = wallet_rules()
    wallet = wallet_lock(user_id=user.pk, columns=rules.bet_columns(user_id_column="w.user_id", now=now))
    # The account's own rules (a break, its stake and loss limits), under the wallet lock that
    # serialises its bets: two bets at once cannot both pass a loss limit one would reach.
    rules.bet_allowed_check(wallet=wallet, stake=stake, now=now)
    wallet_available_check(wallet=wallet, amount=stake, what=f"The stake {stake}")
    if match.in_play:
        return bet_pending_create(
            user=user,
            match=match,
            market=market,
            selection=selection,
            stake=stake,
            odds=current,
            quoted_odds=quoted_odds,
            accept_odds_change=accept_odds_change,
            wallet=wallet,
        )

    bet = row_insert(
        Bet(
            user=user,
            match=match,
            market=market,
            selection=selection,
            stake=stake,
            odds=current,
            odds_version=match.odds_version,
            sequence=match.bet_sequence,
        ),
        using=router.db_for_write(Bet),
    )
    wallet_post(wallet=wallet, kind=LedgerKind.STAKE, amount=-stake, bet=bet)
    events.bet_publish_on_commit(bet)
    bet_odds_recompute_schedule(match_id=match.pk)
    return bet


def match_lock_sequence_take(match_id: int) -> Match | None:
    """The match row, locked until the end of the transaction, its `bet_sequence` already
    moved on by one for a pre-match bet (in play, a bet takes no number until its acceptance):
    the lock, the read and the number taken in one `UPDATE ... RETURNING` (None: no such
    match). A bet refused after it rolls back, number included.

    The UPDATE's lock (PostgreSQL's FOR NO KEY UPDATE) conflicts with every other writer's
    `select_for_update()` and with another bet's UPDATE, so the lock order and what it
    serialises are those of `SELECT ... FOR UPDATE`; and under READ COMMITTED an UPDATE that
    waited for the lock returns the row as the previous holder committed it."""
    table = Match._meta.db_table
    sql = (
        f"UPDATE {table} SET bet_sequence = bet_sequence + (CASE WHEN in_play THEN 0 ELSE 1 END)"
        f" WHERE id = %s RETURNING {model_columns(Match)}"
    )
    return row_model(Match, sql, [match_id], using=router.db_for_write(Match))


def bet_pending_create(
    *,
    user: User,
    match: Match,
    market: str,
    selection: str,
    stake: Decimal,
    odds: Decimal,
    quoted_odds: Decimal | None,
    accept_odds_change: str,
    wallet: Wallet,
) -> Bet:
    """Record an in-play bet `pending`, its stake held, and ask for its decision once the delay
    is over (called with the match and wallet rows locked, every check passed).

    It takes no place in the book yet (no sequence number, no recompute): that waits for its
    acceptance."""
    bet = Bet.objects.create(
        user=user,
        match=match,
        market=market,
        selection=selection,
        stake=stake,
        odds=odds,
        odds_version=match.odds_version,
        status=BetStatus.PENDING,
        decide_at=timezone.now() + timedelta(seconds=settings.INPLAY_BET_DELAY_SECONDS),
    )
    hold = wallet_hold(wallet=wallet, amount=stake, purpose="bet")
    BetDelay.objects.create(bet=bet, hold=hold, quoted_odds=quoted_odds, accept_odds_change=accept_odds_change)
    events.bet_publish_on_commit(bet)
    bet_id, countdown = bet.pk, settings.INPLAY_BET_DELAY_SECONDS + jobs.DECISION_GRACE_SECONDS
    on_commit_robust("bet_decide_request", lambda: jobs.bet_decide_enqueue(bet_id=bet_id, countdown=countdown))
    return bet


def match_takes_bets_check(match: Match) -> None:
    """409 `market_suspended`, `match_not_open` or `match_started` unless the match (locked by
    the caller) takes bets now."""
    if match.status == MatchStatus.SUSPENDED:
        raise MarketSuspended(
            f"Betting on match {match.pk} is suspended ({match.suspended_reason or 'trader'}): try again shortly.",
            status=match.status,
            reason=match.suspended_reason,
        )
    if match.status != MatchStatus.OPEN:
        raise MatchNotOpen(f"Match {match.pk} is {match.status}: it takes no bets.", status=match.status)
    if not match.in_play:  # in play, its markets are in-play ones, past the kick-off time
        match_not_started_check(match)


def selection_price_check(
    *,
    match: Match,
    row: Market,
    selection: str,
    quoted_odds: Decimal | None,
    accept_odds_change: str,
    **context: object,
) -> Decimal:
    """The selection's current price, if it is open and the bettor's quote accepts it: 409
    `selection_decided`, `selection_closed` or `odds_changed` (with the market's prices and
    `context`) if not."""
    outcome = row.decided.get(selection)
    if outcome is not None:
        raise SelectionDecided(
            f"{row.key} {selection} is already {outcome}: the score has decided it.",
            market=row.key,
            outcome=outcome,
            **context,
        )
    price_text = row.prices.get(selection)
    if price_text is None:
        raise SelectionClosed(
            f"{row.key} {selection} takes no bets now: the book gives it no price.", market=row.key, **context
        )
    current = Decimal(price_text)
    if quoted_odds is not None and not price_is_acceptable(
        quoted=quoted_odds, current=current, mode=accept_odds_change
    ):
        raise OddsChanged(
            f"The price of {row.key} {selection} moved from {quoted_odds} to {current}.",
            odds=events.prices_as_numbers(row.prices),
            market=row.key,
            version=match.odds_version,
            **context,
        )
    return current


# `bet_place` without its own `atomic`: for a caller that has opened the transaction and writes
# in it after the bet (the idempotency record), which a nested `atomic` would cost a SAVEPOINT
# and a RELEASE, one of them under the match row lock. A refusal raised inside rolls the
# caller's whole transaction back, as it would `bet_place`'s.
bet_place_in_transaction: Callable[..., Bet] = inspect.unwrap(bet_place)


def market_open_check(match: Match, market: str, *, liability_of: str | None = None) -> Market:
    """The match's market row, if it takes bets: 409 `market_suspended` or `market_closed` if not.
    Read under the match row lock, which every writer of market rows holds.

    With `liability_of` (a selection), the row comes with what the bets since the recompute
    add to that selection's liability (`liability_used_since`), read in the same statement:
    the maximum stake check needs it, and a statement of its own would be one more round trip
    under the match row lock."""
    if liability_of is None:
        row = Market.objects.filter(match=match, key=market).first()
    else:
        row = market_row_read(match, market, liability_of)
    if row is None:
        raise MarketClosed(f"Match {match.pk} offers no market {market}.", market=market, status="closed")
    if row.status == MarketStatus.SUSPENDED:
        raise MarketSuspended(
            f"Market {market} of match {match.pk} is suspended: try again shortly.",
            status=row.status,
            reason=match.suspended_reason or "trader",
        )
    if row.status != MarketStatus.OPEN:
        raise MarketClosed(f"Market {market} of match {match.pk} is {row.status}.", market=market, status=row.status)
    return row


# stake (2 places) x (odds - 1) (2 places): a sum of them is exact at 4 places. SQLite sums
# decimals as floats; rounded to these places, its sum is the exact one again.
LIABILITY_PLACES = Decimal("0.0001")


def market_row_read(match: Match, market: str, selection: str) -> Market | None:
    """The match's `market` row with `liability_since` = (selection, what the bets since
    `bets_counted` add to its liability), in one statement: the sums of
    `liability_used_since`, made by the database. Plain SQL that SQLite and PostgreSQL both
    read: the ORM would spend more CPU building this statement than the database running it."""
    overlapping = overlapping_selections(market, selection)
    among = ", ".join(["%s"] * len(overlapping))
    since = [match.pk, match.bets_counted, market, *overlapping]
    sql = (
        f"SELECT {model_columns(Market, 'mk')},"
        f" (SELECT COALESCE(SUM(b.stake * (b.odds - 1)), 0) FROM {Bet._meta.db_table} b"
        f" WHERE b.match_id = %s AND b.sequence > %s AND b.market = %s AND b.selection IN ({among}))"
        f" + (SELECT COALESCE(SUM(b.stake * (b.odds - 1)), 0) FROM {BetLeg._meta.db_table} l"
        f" JOIN {Bet._meta.db_table} b ON b.id = l.bet_id"
        f" WHERE l.match_id = %s AND l.sequence > %s AND l.market = %s AND l.selection IN ({among}))"
        f" AS used_since FROM {Market._meta.db_table} mk WHERE mk.match_id = %s AND mk.key = %s"
    )
    row = row_model(Market, sql, [*since, *since, match.pk, market], using=router.db_for_read(Market))
    if row is None:
        return None
    used = Decimal(str(row.used_since)).quantize(LIABILITY_PLACES)  # type: ignore[attr-defined]
    row.liability_since = (selection, used)  # type: ignore[attr-defined]
    return row


def max_stake_check(*, match: Match, row: Market, selection: str, price: Decimal, stake: Decimal) -> None:
    """Refuse a stake above the selection's maximum: 409 `stake_too_high` with `max_stake`.

    The maximum the recompute stored counts the bets up to `bets_counted`; the bets taken since
    (`liability_used_since`) have used part of its liability room, so what is left is the
    stored maximum less their share at the current price."""
    stored = row.max_stakes.get(selection)
    if stored is None:
        return
    read = getattr(row, "liability_since", None)  # read with the row (`market_row_read`)
    used = read[1] if read and read[0] == selection else liability_used_since(match=match, row=row, selection=selection)
    allowed = max(Decimal(0), Decimal(stored) - used / (price - 1)).quantize(CENT, rounding=ROUND_DOWN)
    if stake > allowed:
        raise StakeTooHigh(
            f"The most {row.key} {selection} takes now is {allowed}.",
            max_stake=f"{allowed:.2f}",
            market=row.key,
            selection=selection,
        )


def liability_used_since(*, match: Match, row: Market, selection: str) -> Decimal:
    """What the bets the stored maximum stakes do not count yet (sequence after `bets_counted`,
    taken under this match row lock) add to the market's worst loss where `selection` wins:
    Σ stake x (odds - 1) over the singles and accumulator legs on every selection that wins
    on a score where this one does (itself; in double chance, the two others too). An
    accumulator leg counts the accumulator's stake at its combined odds."""
    overlapping = overlapping_selections(row.key, selection)
    since = {"match": match, "sequence__gt": match.bets_counted, "market": row.key, "selection__in": overlapping}
    singles = Bet.objects.filter(**since).order_by().values_list("stake", "odds")
    legs = BetLeg.objects.filter(**since).order_by().values_list("bet__stake", "bet__odds")
    return sum((stake * (odds - 1) for stake, odds in singles.union(legs, all=True)), Decimal(0))


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
