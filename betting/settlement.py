"""The match lifecycle and settlement: the writes of trading staff and of the settlement worker.

    scheduled → open ⇄ suspended → closed → settled, and void from any state before settled;
    closed → open too while the feed says the match is in play (its markets are in-play ones).

Every market settles from the final score (`Match.home_goals`, `Match.away_goals`) by the
engine's own rule (`betting.engine.markets.grade`, docs/bet-types.md). A settled match's score
may be corrected (`match_result_correct`): each correction raises `result_version`, and every
bet settled under an older one is graded again; a bet whose outcome changes is settled again,
a reversal of what it was paid and the new payment, so balances end as if the right score had
come first.

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
from betting.cashout import match_cashout_values_publish
from betting.engine.accumulators import accumulator_outcome
from betting.engine.markets import LOST, ONE_X_TWO, VOID, WON, grade, settlement_amount
from betting.errors import MatchNotFound, MatchTransitionNotAllowed, ResettlementUncollectable
from betting.matches import match_not_started_check
from betting.models import (
    MARKET_STATUS_OF_MATCH,
    UNSETTLED_BET_STATUSES,
    Bet,
    BetKind,
    BetLeg,
    BetStatus,
    LedgerKind,
    Market,
    Match,
    MatchStatus,
    MatchStatusChange,
    SuspensionReason,
    Wallet,
)
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


# A final score a side can reach: more than this is a typing error, not football.
MAX_FINAL_GOALS = 99


def result_of_score(home_goals: int, away_goals: int) -> str:
    """The 1X2 result of a final score: home, draw or away."""
    return "home" if home_goals > away_goals else "away" if away_goals > home_goals else "draw"


def score_check(match: Match, score: tuple[int, int] | None, what: str) -> tuple[int, int]:
    if score is None or not all(isinstance(g, int) and 0 <= g <= MAX_FINAL_GOALS for g in score):
        message = f"{what} needs the final score: home_goals and away_goals, whole numbers from 0 to 99."
        raise MatchTransitionNotAllowed(message, status=match.status, errors={"home_goals": [message]})
    return score


def match_markets_status_follow(match: Match) -> None:
    """Every market of the match takes the status its match's status gives it."""
    Market.objects.filter(match=match).update(status=MARKET_STATUS_OF_MATCH[match.status])


@transaction.atomic
def match_transition(
    *,
    match_id: int,
    status: str,
    score: tuple[int, int] | None = None,
    reason: str = SuspensionReason.TRADER,
    publish: bool = True,
) -> Match:
    """Move a match to `status` if the lifecycle allows it, every market with it, and publish
    the change.

    Suspending records `reason` (a trader's, unless the feed says which event); settling
    needs the final `score` (home goals, away goals), which every market settles from;
    settling or voiding enqueues the settlement of the match's bets once the change is
    committed. `publish=False`: the caller publishes one frame for everything it changed (the
    feed's processing).
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
    if status == MatchStatus.SETTLED:
        match.home_goals, match.away_goals = score_check(match, score, "Settling")
        match.result = result_of_score(match.home_goals, match.away_goals)
    match.status = status
    match.suspended_reason = reason if status == MatchStatus.SUSPENDED else ""
    match.save(update_fields=["status", "result", "home_goals", "away_goals", "suspended_reason"])
    # The bet delay reads this log by time: was the match anything but open during a delay?
    MatchStatusChange.objects.create(match=match, status=status, reason=match.suspended_reason)
    match_markets_status_follow(match)
    if publish:
        events.match_status_publish_on_commit(match)
    if status in (MatchStatus.OPEN, MatchStatus.SUSPENDED):
        # The open bets' cash-out values follow their markets' status even when no new prices
        # come with it: off while suspended, offered again at once on reopening (not at the
        # next reprice), on "My bets" as on the API.
        on_commit_robust("cashout_values_publish", lambda: match_cashout_values_publish(match_id=match_id))
    if status in SETTLING_STATUSES:
        on_commit_robust("settlement_request", lambda: settlement_request(match_id=match_id))
    return match


@transaction.atomic
def match_result_correct(*, match_id: int, score: tuple[int, int] | None, publish: bool = True) -> Match:
    """Correct the final score of a settled match, and settle its bets again under it.

    The settlement worker grades every bet again; each one whose outcome changes has what it
    was paid reversed and is paid what it wins under the new score
    (`match_bets_resettle_batch`). The same score again changes nothing.
    """
    match = match_lock(match_id)
    score = score_check(match, score, "A correction")
    if match.status != MatchStatus.SETTLED:
        raise MatchTransitionNotAllowed(
            f"Match {match_id} is {match.status}: only a settled match's result can be corrected.",
            status=match.status,
        )
    if match.final_score == score:
        return match
    match.home_goals, match.away_goals = score
    match.result = result_of_score(*score)
    match.result_version += 1
    match.save(update_fields=["result", "home_goals", "away_goals", "result_version"])
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


# Bets a corrected result does not grade again: still open, or cashed out (settled for good).
NOT_REGRADED = (*UNSETTLED_BET_STATUSES, BetStatus.CASHED_OUT)
OUTCOME_STATUS = {WON: BetStatus.WON, LOST: BetStatus.LOST, VOID: BetStatus.VOID}
OUTCOME_LEDGER_KIND = {WON: LedgerKind.PAYOUT, LOST: None, VOID: LedgerKind.REFUND}


def bet_grade(*, bet: Bet | BetLeg, match: Match) -> str:
    """WON, LOST or VOID: the bet's market graded on the match's final score. A match settled
    before scores were recorded has only its 1X2 result, and only 1X2 bets."""
    score = match.final_score
    if score is not None:
        return grade(bet.market, bet.selection, *score)
    if bet.market != ONE_X_TWO:
        raise ValueError(f"Match {match.pk} has no final score to settle {bet.market} bet {bet.pk} from.")
    return WON if bet.selection == match.result else LOST


def bet_outcome(*, bet: Bet, match: Match) -> tuple[str, Decimal, str | None]:
    """A bet's final status, what it pays and the ledger kind of the payment (None: nothing).

    A void match refunds every stake; otherwise the market's rule decides: a winner is paid
    stake x odds rounded down to the cent (the book never pays a fraction more than the
    price), a void bet (a draw no bet on a draw) gets its stake back, a loser nothing."""
    if match.status == MatchStatus.VOID:
        return BetStatus.VOID, bet.stake.quantize(CENT, rounding=ROUND_DOWN), LedgerKind.REFUND
    outcome = bet_grade(bet=bet, match=match)
    return OUTCOME_STATUS[outcome], settlement_amount(outcome, bet.stake, bet.odds), OUTCOME_LEDGER_KIND[outcome]


def match_bets_settle(*, match_id: int) -> int:
    """Settle every open bet of a settled or void match, and settle again every bet settled
    under a result since corrected, one bounded batch per transaction.

    Idempotent: a second run finds nothing to do and pays nothing. Returns the bets settled.
    """
    total = 0
    while settled := match_bets_settle_batch(match_id=match_id):
        total += settled
    while settled := match_legs_settle_batch(match_id=match_id):
        total += settled
    while settled := match_bets_resettle_batch(match_id=match_id):
        total += settled
    while settled := match_legs_resettle_batch(match_id=match_id):
        total += settled
    return total


def bets_settled_under_another_result(match: Match) -> QuerySet[Bet]:
    """Bets of a settled match settled under a score since corrected."""
    if match.status != MatchStatus.SETTLED:
        return Bet.objects.none()
    return Bet.objects.filter(match=match, result_version__lt=match.result_version).exclude(status__in=NOT_REGRADED)


@transaction.atomic
def match_bets_resettle_batch(*, match_id: int) -> int:
    """Settle again up to SETTLEMENT_BATCH_SIZE bets settled under a result since corrected.

    Each bet is graded again. One whose status and payout stay only takes the new
    `result_version`; one whose outcome changes moves to its next settlement round by a
    conditional UPDATE (its status and round as read), then is paid what it wins under the
    new score and its old payment is reversed,
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
        if status == bet.status and payout == old_payout:
            Bet.objects.filter(pk=bet.pk, result_version=bet.result_version).update(result_version=match.result_version)
            continue
        claimed = Bet.objects.filter(
            pk=bet.pk, status=bet.status, settlement_round=old_round, result_version=bet.result_version
        ).update(
            status=status,
            payout=payout,
            settled_at=now,
            settlement_round=old_round + 1,
            result_version=match.result_version,
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
    reversals_post(reversals, wallets)
    logger.info("Graded %s bets of match %s again under the score %s", len(bets), match_id, match.final_score)
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
            status=status, payout=payout, settled_at=now, result_version=match.result_version
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


def leg_status(*, leg: BetLeg, match: Match) -> str:
    """A leg's status from its settled or void match: void with the match, else its market's rule."""
    if match.status == MatchStatus.VOID:
        return BetStatus.VOID
    return OUTCOME_STATUS[bet_grade(bet=leg, match=match)]


@transaction.atomic
def match_legs_settle_batch(*, match_id: int) -> int:
    """Grade up to SETTLEMENT_BATCH_SIZE open accumulator legs of a settled or void match, and
    settle every accumulator that decides (`accumulators_settle`). Returns the legs graded."""
    match = match_lock(match_id)
    if match.status not in SETTLING_STATUSES:
        return 0
    legs = list(
        BetLeg.objects.filter(match=match, status=BetStatus.OPEN).order_by("id")[: settings.SETTLEMENT_BATCH_SIZE]
    )
    graded = set()
    for leg in legs:
        status = leg_status(leg=leg, match=match)
        if BetLeg.objects.filter(pk=leg.pk, status=BetStatus.OPEN).update(
            status=status, result_version=match.result_version
        ):
            graded.add(leg.bet_id)
    accumulators_settle(bet_ids=graded)
    return len(legs)


@transaction.atomic
def match_legs_resettle_batch(*, match_id: int) -> int:
    """Grade again up to SETTLEMENT_BATCH_SIZE accumulator legs graded under a score since
    corrected, and settle again every accumulator whose outcome that changes. Returns the legs."""
    match = match_lock(match_id)
    if match.status != MatchStatus.SETTLED:
        return 0
    legs = list(
        BetLeg.objects.filter(match=match, result_version__lt=match.result_version)
        .exclude(status=BetStatus.OPEN)
        .order_by("id")[: settings.SETTLEMENT_BATCH_SIZE]
    )
    changed = set()
    for leg in legs:
        status = leg_status(leg=leg, match=match)
        BetLeg.objects.filter(pk=leg.pk, result_version=leg.result_version).update(
            status=status, result_version=match.result_version
        )
        if status != leg.status:
            changed.add(leg.bet_id)
    accumulators_settle(bet_ids=changed)
    return len(legs)


# What an accumulator's settlement may move it from: a cashed-out bet is never settled again.
ACCUMULATOR_SETTLEABLE = (BetStatus.OPEN, BetStatus.WON, BetStatus.LOST, BetStatus.VOID)


def accumulators_settle(*, bet_ids: Iterable[int]) -> None:
    """Bring each accumulator in line with its legs as graded now (under the caller's match row
    lock): settle it once it is decided (lost as soon as a leg lost; won or void once every leg
    is graded), and settle it again when a corrected leg changes what it is, reversing what the
    old settlement paid, in a new settlement round.

    The accumulator rows are locked (id order), then their wallets (id order): two matches
    settling legs of one accumulator at once are serialised on its row, and the second sees the
    first's leg. Every payment is written before any reversal, as for singles; a reversal the
    wallet cannot cover fails the batch whole (ResettlementUncollectable)."""
    ids = sorted(set(bet_ids))
    if not ids:
        return
    bets = list(
        Bet.objects.select_for_update()
        .filter(pk__in=ids, kind=BetKind.ACCUMULATOR, status__in=ACCUMULATOR_SETTLEABLE)
        .order_by("id")
    )
    legs: dict[int, list[BetLeg]] = {}
    for leg in BetLeg.objects.filter(bet_id__in=[bet.pk for bet in bets]).order_by("position"):
        legs.setdefault(leg.bet_id, []).append(leg)
    wallets = wallets_lock(bet.user_id for bet in bets)
    now = timezone.now()
    reversals: list[tuple[Bet, Decimal, int]] = []
    for bet in bets:
        status, payout = accumulator_outcome([(leg.status, leg.odds) for leg in legs.get(bet.pk, [])], bet.stake)
        if status == bet.status and payout == bet.payout:
            continue
        old_status, old_payout, old_round = bet.status, bet.payout or Decimal("0.00"), bet.settlement_round
        # A first settlement keeps round 0; settling a settled bet again (or reopening it, when a
        # corrected leg no longer lost and others are still to play) starts the next round.
        new_round = old_round if old_status == BetStatus.OPEN else old_round + 1
        claimed = Bet.objects.filter(pk=bet.pk, status=old_status, settlement_round=old_round).update(
            status=status,
            payout=payout,
            settled_at=None if status == BetStatus.OPEN else now,
            settlement_round=new_round,
        )
        if claimed != 1:
            continue
        bet.status, bet.payout, bet.settlement_round = status, payout, new_round
        bet.settled_at = None if status == BetStatus.OPEN else now
        ledger_kind = OUTCOME_LEDGER_KIND.get(status)
        if ledger_kind is not None and payout:
            wallet_post(
                wallet=wallets[bet.user_id], kind=ledger_kind, amount=payout, bet=bet, settlement_round=new_round
            )
        if old_status != BetStatus.OPEN and old_payout > 0:
            reversals.append((bet, old_payout, old_round))
        events.bet_publish_on_commit(bet)
    reversals_post(reversals, wallets)


def reversals_post(reversals: Iterable[tuple[Bet, Decimal, int]], wallets: dict[int, Wallet]) -> None:
    """Take back what earlier settlements paid (bet, amount, its round), after every payment of
    the batch; ResettlementUncollectable (the batch rolls back) if a wallet cannot cover one.
    Money held for a pending withdrawal is not there to take back: only what is available."""
    for bet, amount, settlement_round in reversals:
        wallet = wallets[bet.user_id]
        if wallet.available < amount:
            raise ResettlementUncollectable(
                f"Reversing {amount} of bet {bet.pk} would overdraw wallet {wallet.pk} "
                f"(balance {wallet.balance}, available {wallet.available}).",
                bet=bet.pk,
            )
        wallet_post(wallet=wallet, kind=LedgerKind.REVERSAL, amount=-amount, bet=bet, settlement_round=settlement_round)


def match_ids_to_close(*, now: datetime) -> list[int]:
    """Matches still taking bets (or suspended) whose kick-off has passed, unless the feed
    says they are being played: their markets are in play, and full time closes them."""
    return list(
        Match.objects.filter(status__in=CLOSES_AT_KICKOFF, kickoff__lte=now, in_play=False)
        .order_by("id")
        .values_list("pk", flat=True)
    )


def match_ids_settling_unfinished() -> list[int]:
    """Settled or void matches that still have open bets, or bets settled under a score since
    corrected (e.g. the broker was down)."""
    open_bets = Bet.objects.filter(match=OuterRef("pk"), status=BetStatus.OPEN)
    wrongly_settled = Bet.objects.filter(match=OuterRef("pk"), result_version__lt=OuterRef("result_version")).exclude(
        status__in=NOT_REGRADED
    )
    open_legs = BetLeg.objects.filter(match=OuterRef("pk"), status=BetStatus.OPEN)
    wrongly_graded = BetLeg.objects.filter(match=OuterRef("pk"), result_version__lt=OuterRef("result_version")).exclude(
        status=BetStatus.OPEN
    )
    unfinished = (
        Exists(open_bets)
        | Exists(open_legs)
        | Q(status=MatchStatus.SETTLED) & (Exists(wrongly_settled) | Exists(wrongly_graded))
    )
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
