"""The match lifecycle and settlement: the writes of trading staff and of the settlement worker.

    scheduled → open ⇄ suspended → closed → settled, and void from any state before settled.

Settlement takes the match row lock first, then the wallets (in id order): the same order
as `bet_place`, so a late bet and a settlement never deadlock. Paying once is enforced by
the database twice over: a bet leaves `open` through a conditional UPDATE whose row count
is checked, and the ledger holds at most one payout and one refund per bet.
"""

import logging
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from betting import events, jobs
from betting.errors import MatchNotFound, MatchTransitionNotAllowed
from betting.matches import match_not_started_check
from betting.models import Bet, BetStatus, LedgerKind, Match, MatchStatus, Selection, Wallet
from betting.wallets import CENT, wallet_post

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


@transaction.atomic
def match_transition(*, match_id: int, status: str, result: str = "") -> Match:
    """Move a match to `status` if the lifecycle allows it, and publish the change.

    Settling needs the result (home, draw or away); settling or voiding enqueues the
    settlement of the match's bets once the change is committed.
    """
    try:
        match = Match.objects.select_for_update().get(pk=match_id)
    except Match.DoesNotExist:
        raise MatchNotFound(f"Match {match_id} does not exist.") from None
    if status not in ALLOWED_TRANSITIONS[match.status]:
        raise MatchTransitionNotAllowed(
            f"Match {match_id} is {match.status}: it cannot become {status}.", status=match.status
        )
    if status == MatchStatus.OPEN:
        match_not_started_check(match)  # no (re)opening once it has kicked off
    if status == MatchStatus.SETTLED and result not in Selection.values:
        message = "Settling needs the result: home, draw or away."
        raise MatchTransitionNotAllowed(message, status=match.status, errors={"result": [message]})
    match.status = status
    match.result = result if status == MatchStatus.SETTLED else ""
    match.save(update_fields=["status", "result"])
    events.match_status_publish_on_commit(match)
    if status in SETTLING_STATUSES:
        transaction.on_commit(lambda: settlement_request(match_id=match_id))
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
    """Settle every open bet of a settled or void match, one bounded batch per transaction.

    Idempotent: a second run finds no open bet and pays nothing. Returns the bets settled.
    """
    total = 0
    while settled := match_bets_settle_batch(match_id=match_id):
        total += settled
    return total


@transaction.atomic
def match_bets_settle_batch(*, match_id: int) -> int:
    """Settle up to SETTLEMENT_BATCH_SIZE open bets of the match; returns how many."""
    match = Match.objects.select_for_update().get(pk=match_id)
    if match.status not in SETTLING_STATUSES:
        return 0
    bets = list(Bet.objects.filter(match=match, status=BetStatus.OPEN).order_by("id")[: settings.SETTLEMENT_BATCH_SIZE])
    if not bets:
        return 0
    bettor_ids = {bet.user_id for bet in bets}
    # Ascending id order: two settlements sharing bettors lock their wallets in one order.
    wallets = {
        wallet.user_id: wallet
        for wallet in Wallet.objects.select_for_update().filter(user_id__in=bettor_ids).order_by("id")
    }
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
            wallet_post(wallet=wallets[bet.user_id], kind=ledger_kind, amount=payout, bet=bet)
        events.bet_publish_on_commit(bet)
        settled += 1
    logger.info("Settled %s bets of match %s (%s)", settled, match_id, match.status)
    return len(bets)


def match_ids_to_close(*, now: datetime) -> list[int]:
    """Matches still taking bets (or suspended) whose kick-off has passed."""
    return list(
        Match.objects.filter(status__in=CLOSES_AT_KICKOFF, kickoff__lte=now).order_by("id").values_list("pk", flat=True)
    )


def match_ids_settling_unfinished() -> list[int]:
    """Settled or void matches that still have open bets (e.g. the broker was down)."""
    open_bets = Bet.objects.filter(match=OuterRef("pk"), status=BetStatus.OPEN)
    return list(
        Match.objects.filter(status__in=SETTLING_STATUSES).filter(Exists(open_bets)).values_list("pk", flat=True)
    )


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
