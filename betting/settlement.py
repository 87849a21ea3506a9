"""The match lifecycle and settlement: the writes of trading staff and of the settlement worker.

    scheduled → open ⇄ suspended → closed → settled, and void from any state before settled;
    closed → open too while the feed says the match is in play (its markets are in-play ones).

A settled match's result may be corrected (`match_result_correct`): its bets are settled again
under the new result, each change a reversal of what the bet was paid and the new payment,
so balances end as if the right result had come first.

Settlement takes the match row lock first, then the wallets (in id order): the same order
as `bet_place`, so a late bet and a settlement never deadlock. Paying once is enforced by
the database twice over: a bet leaves `open` through a conditional UPDATE whose row count
is checked, and the ledger holds at most one payout and one refund per bet.
"""

import logging
from collections.abc import Iterable
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from betting import events, jobs
from betting.errors import MatchNotFound, MatchTransitionNotAllowed, ResettlementUncollectable
from betting.matches import match_not_started_check
from betting.models import Bet, BetStatus, LedgerKind, Match, MatchStatus, Selection, SuspensionReason, Wallet
from betting.wallets import CENT, wallet_post
from config.after_commit import on_commit_robust

logger = logging.getLogger(__name__)

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    MatchStatus.SCHEDULED: frozenset({MatchStatus.OPEN, MatchStatus.VOID}),
    MatchStatus.OPEN: frozenset({MatchStatus.SUSPENDED, MatchStatus.CLOSED, MatchStatus.VOID}),
    MatchStatus.SUSPENDED: frozenset({MatchStatus.OPEN, MatchStatus.CLOSED, MatchStatus.VOID}),
    MatchStatus.CLOSED: frozenset({MatchStatus.SETTLED, MatchStatus.VOID}),
    MatchStatus.SETTLED: frozenset(),
    MatchStatus.VOID: frozenset(),
}
SETTLING_STATUSES = (MatchStatus.SETTLED, MatchStatus.VOID)
CLOSES_AT_KICKOFF = (MatchStatus.OPEN, MatchStatus.SUSPENDED)


def match_lock(match_id: int) -> Match:
    try:
        return Match.objects.select_for_update().get(pk=match_id)
    except Match.DoesNotExist:
        raise MatchNotFound(f"Match {match_id} does not exist.") from None


@transaction.atomic
def match_transition(
    *, match_id: int, status: str, result: str = "", reason: str = SuspensionReason.TRADER, publish: bool = True
) -> Match:
    """Move a match to `status` if the lifecycle allows it, and publish the change.

    Suspending records `reason` (a trader's, unless the feed says which event); settling
    needs the result (home, draw or away); settling or voiding enqueues the settlement of the
    match's bets once the change is committed. `publish=False`: the caller publishes one frame
    for everything it changed (the feed's processing).
    """
    match = match_lock(match_id)
    allowed = ALLOWED_TRANSITIONS[match.status]
    if match.status == MatchStatus.CLOSED and match.in_play:
        allowed |= {MatchStatus.OPEN}  # closed at kick-off by the sweep, now in play per its feed
    if status not in allowed:
        raise MatchTransitionNotAllowed(
            f"Match {match_id} is {match.status}: it cannot become {status}.", status=match.status
        )
    if status == MatchStatus.OPEN and not match.in_play:
        # No reopening of pre-match betting once the match has kicked off. A match in play may
        # reopen: its markets are in-play markets, and bet_place's clock check still refuses
        # every pre-match bet.
        match_not_started_check(match)
    if status == MatchStatus.SETTLED and result not in Selection.values:
        message = "Settling needs the result: home, draw or away."
        raise MatchTransitionNotAllowed(message, status=match.status, errors={"result": [message]})
    match.status = status
    match.result = result if status == MatchStatus.SETTLED else ""
    match.suspended_reason = reason if status == MatchStatus.SUSPENDED else ""
    match.save(update_fields=["status", "result", "suspended_reason"])
    if publish:
        events.match_status_publish_on_commit(match)
    if status in SETTLING_STATUSES:
        on_commit_robust("settlement_request", lambda: settlement_request(match_id=match_id))
    return match


@transaction.atomic
def match_result_correct(*, match_id: int, result: str, publish: bool = True) -> Match:
    """Correct the result of a settled match, and settle its bets again under it.

    The settlement worker reverses what each bet was paid under the old result and pays what
    it wins under the new one (`match_bets_resettle_batch`). The same result again changes
    nothing.
    """
    match = match_lock(match_id)
    if result not in Selection.values:
        message = "The corrected result is home, draw or away."
        raise MatchTransitionNotAllowed(message, status=match.status, errors={"result": [message]})
    if match.status != MatchStatus.SETTLED:
        raise MatchTransitionNotAllowed(
            f"Match {match_id} is {match.status}: only a settled match's result can be corrected.",
            status=match.status,
        )
    if match.result == result:
        return match
    match.result = result
    match.save(update_fields=["result"])
    if publish:
        events.match_status_publish_on_commit(match)
    on_commit_robust("settlement_request", lambda: settlement_request(match_id=match_id))
    return match


def settlement_request(*, match_id: int) -> None:
    """Enqueue the settlement of a match's bets on the `settlement` queue."""
    try:
        jobs.match_settle_enqueue(match_id=match_id)
    except Exception:
        # The result is committed; beat's sweep re-enqueues matches that still have open bets.
        logger.exception("Could not enqueue settle_match for match %s", match_id)


def bet_outcome(*, bet: Bet, match: Match) -> tuple[str, Decimal, str | None]:
    """A bet's final status, what it pays and the ledger kind of the payment (None: nothing)."""
    if match.status == MatchStatus.VOID:
        return BetStatus.VOID, bet.stake, LedgerKind.REFUND
    if bet.selection == match.result:
        # Rounded down to the cent: the book never pays a fraction more than the price.
        return BetStatus.WON, (bet.stake * bet.odds).quantize(CENT, rounding=ROUND_DOWN), LedgerKind.PAYOUT
    return BetStatus.LOST, Decimal("0.00"), None


def match_bets_settle(*, match_id: int) -> int:
    """Settle every open bet of a settled or void match, and settle again every bet settled
    under a result since corrected, one bounded batch per transaction.

    Idempotent: a second run finds nothing to do and pays nothing. Returns the bets settled.
    """
    total = 0
    while settled := match_bets_settle_batch(match_id=match_id):
        total += settled
    while settled := match_bets_resettle_batch(match_id=match_id):
        total += settled
    return total


def bets_settled_under_another_result(match: Match) -> QuerySet[Bet]:
    """Bets of a settled match whose status disagrees with its (corrected) result."""
    if match.status != MatchStatus.SETTLED:
        return Bet.objects.none()
    return Bet.objects.filter(match=match).filter(
        Q(status=BetStatus.WON) & ~Q(selection=match.result) | Q(status=BetStatus.LOST, selection=match.result)
    )


@transaction.atomic
def match_bets_resettle_batch(*, match_id: int) -> int:
    """Settle again up to SETTLEMENT_BATCH_SIZE bets settled under a result since corrected.

    Each bet moves to its next settlement round by a conditional UPDATE (its status and round
    as read), then is paid what it wins under the new result and its old payment is reversed,
    both ledger entries naming the round they belong to. Every payment of the batch is written
    before any reversal, so a bettor whose bets only swap wins never sees a dip; a reversal
    the wallet cannot cover fails the whole batch (ResettlementUncollectable) and nothing is
    written. Returns the bets settled again.
    """
    match = match_lock(match_id)
    bets = list(bets_settled_under_another_result(match).order_by("id")[: settings.SETTLEMENT_BATCH_SIZE])
    if not bets:
        return 0
    wallets = wallets_lock(bet.user_id for bet in bets)
    now = timezone.now()
    reversals: list[tuple[Bet, Decimal, int]] = []
    for bet in bets:
        status, payout, ledger_kind = bet_outcome(bet=bet, match=match)
        old_payout, old_round = bet.payout or Decimal("0.00"), bet.settlement_round
        claimed = Bet.objects.filter(pk=bet.pk, status=bet.status, settlement_round=old_round).update(
            status=status, payout=payout, settled_at=now, settlement_round=old_round + 1
        )
        if claimed != 1:
            continue  # settled again by an earlier run
        bet.status, bet.payout, bet.settled_at, bet.settlement_round = status, payout, now, old_round + 1
        if ledger_kind is not None:
            wallet_post(
                wallet=wallets[bet.user_id], kind=ledger_kind, amount=payout, bet=bet, settlement_round=old_round + 1
            )
        if old_payout > 0:
            reversals.append((bet, old_payout, old_round))
        events.bet_publish_on_commit(bet)
    for bet, amount, settlement_round in reversals:
        wallet = wallets[bet.user_id]
        # Money held for a pending withdrawal is not there to take back: only what is available.
        if wallet.available < amount:
            raise ResettlementUncollectable(
                f"Match {match_id}: reversing {amount} of bet {bet.pk} would overdraw wallet {wallet.pk} "
                f"(balance {wallet.balance}, available {wallet.available}).",
                bet=bet.pk,
            )
        wallet_post(wallet=wallet, kind=LedgerKind.REVERSAL, amount=-amount, bet=bet, settlement_round=settlement_round)
    logger.info("Settled %s bets of match %s again under the result %s", len(bets), match_id, match.result)
    return len(bets)


def wallets_lock(user_ids: Iterable[int]) -> dict[int, Wallet]:
    """The wallets of these users, locked in ascending id order: two settlements sharing
    bettors lock their wallets in one order."""
    return {
        wallet.user_id: wallet
        for wallet in Wallet.objects.select_for_update().filter(user_id__in=set(user_ids)).order_by("id")
    }


@transaction.atomic
def match_bets_settle_batch(*, match_id: int) -> int:
    """Settle up to SETTLEMENT_BATCH_SIZE open bets of the match; returns how many."""
    match = match_lock(match_id)
    if match.status not in SETTLING_STATUSES:
        return 0
    bets = list(Bet.objects.filter(match=match, status=BetStatus.OPEN).order_by("id")[: settings.SETTLEMENT_BATCH_SIZE])
    if not bets:
        return 0
    wallets = wallets_lock(bet.user_id for bet in bets)
    now = timezone.now()
    settled = 0
    for bet in bets:
        status, payout, ledger_kind = bet_outcome(bet=bet, match=match)
        claimed = Bet.objects.filter(pk=bet.pk, status=BetStatus.OPEN).update(
            status=status, payout=payout, settled_at=now
        )
        if claimed != 1:
            continue  # settled by an earlier run: never pay twice
        bet.status, bet.payout, bet.settled_at = status, payout, now
        if ledger_kind is not None:
            wallet_post(
                wallet=wallets[bet.user_id],
                kind=ledger_kind,
                amount=payout,
                bet=bet,
                settlement_round=bet.settlement_round,
            )
        events.bet_publish_on_commit(bet)
        settled += 1
    logger.info("Settled %s bets of match %s (%s)", settled, match_id, match.status)
    return len(bets)


def match_ids_to_close(*, now: datetime) -> list[int]:
    """Matches still taking bets (or suspended) whose kick-off has passed, unless the feed
    says they are being played: their markets are in play, and full time closes them."""
    return list(
        Match.objects.filter(status__in=CLOSES_AT_KICKOFF, kickoff__lte=now, in_play=False)
        .order_by("id")
        .values_list("pk", flat=True)
    )


def match_ids_settling_unfinished() -> list[int]:
    """Settled or void matches that still have open bets, or bets settled under a result since
    corrected (e.g. the broker was down)."""
    open_bets = Bet.objects.filter(match=OuterRef("pk"), status=BetStatus.OPEN)
    wrongly_settled = Bet.objects.filter(match=OuterRef("pk")).filter(
        Q(status=BetStatus.WON) & ~Q(selection=OuterRef("result"))
        | Q(status=BetStatus.LOST, selection=OuterRef("result"))
    )
    unfinished = Exists(open_bets) | Q(status=MatchStatus.SETTLED) & Exists(wrongly_settled)
    return list(Match.objects.filter(status__in=SETTLING_STATUSES).filter(unfinished).values_list("pk", flat=True))


def matches_close_at_kickoff(*, now: datetime | None = None) -> list[int]:
    """Close betting on every match that has kicked off; returns the ids closed."""
    closed = []
    for match_id in match_ids_to_close(now=now or timezone.now()):
        try:
            match_transition(match_id=match_id, status=MatchStatus.CLOSED)
        except MatchTransitionNotAllowed:
            continue  # staff changed it meanwhile: their decision stands
        closed.append(match_id)
    return closed
