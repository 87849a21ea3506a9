"""Reads of matches, odds and the bettor's bets, shared by the API, the pages, the exports and
the WebSocket snapshots."""

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from betting.engine.markets import ASIAN_HANDICAP, KINDS, OVER_UNDER
from betting.models import (
    BET_RETURN_KINDS,
    UNSETTLED_BET_STATUSES,
    Bet,
    BetDelay,
    BetKind,
    BetLeg,
    BetStatus,
    CashoutQuote,
    LedgerEntry,
    LedgerKind,
    Match,
    MatchStatus,
    Wallet,
    WalletHold,
)

# Sums of money keep two places (SQLite would otherwise sum through floats).
MONEY: "DecimalField[Decimal, Decimal]" = DecimalField(max_digits=16, decimal_places=2)

LISTED_STATUSES = (MatchStatus.OPEN, MatchStatus.SUSPENDED, MatchStatus.SCHEDULED)


def match_list_listed() -> QuerySet[Match]:
    """The matches a bettor can see on the front page: not yet finished (with their live state
    and markets)."""
    return Match.objects.filter(status__in=LISTED_STATUSES).select_related("live_state").prefetch_related("market_rows")


def match_list_upcoming_open(*, now: datetime) -> QuerySet[Match]:
    """Matches open for betting whose kick-off is still ahead: what a newcomer can bet on."""
    return Match.objects.filter(status=MatchStatus.OPEN, kickoff__gt=now).order_by("kickoff", "id")


def match_list_by_ids(match_ids: Iterable[int]) -> list[Match]:
    return list(
        Match.objects.filter(pk__in=list(match_ids)).select_related("live_state").prefetch_related("market_rows")
    )


def bet_list_for_user(*, user_id: int) -> QuerySet[Bet]:
    return Bet.objects.filter(user_id=user_id).select_related("match").prefetch_related("legs")


def wallet_balance_of(*, user_id: int) -> Decimal:
    """The user's balance (zero before they have a wallet)."""
    balance = Wallet.objects.filter(user_id=user_id).values_list("balance", flat=True).first()
    return balance if balance is not None else Decimal("0.00")


def wallet_for_user(*, user_id: int) -> Wallet | None:
    return Wallet.objects.filter(user_id=user_id).first()


def ledger_for_user(*, user_id: int) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(wallet__user_id=user_id).order_by("-id")


def cents(amount: Decimal | float | int) -> Decimal:
    return Decimal(str(amount)).quantize(Decimal("0.01"))


def ledger_audit() -> list[str]:
    """Every way the books disagree with themselves, as readable lines (empty: all good).

    Each wallet's balance must equal the sum of its ledger and the last entry's
    `balance_after`, and its `held` the sum of its open holds, within the balance; every bet
    must have its stake entry; every settled bet must have been paid exactly what its status
    says (net of reversals), and an open bet nothing.
    """
    problems = []
    last_entry = LedgerEntry.objects.filter(wallet=OuterRef("pk")).order_by("-id").values("balance_after")[:1]
    open_holds = (
        WalletHold.objects.filter(wallet=OuterRef("pk"), released_at__isnull=True)
        .values("wallet")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    wallets = Wallet.objects.annotate(
        ledger_sum=Coalesce(Sum("entries__amount"), Value(Decimal("0.00")), output_field=MONEY),
        last_balance_after=Subquery(last_entry, output_field=MONEY),
        holds_sum=Coalesce(Subquery(open_holds), Value(Decimal("0.00")), output_field=MONEY),
    ).order_by("id")
    for wallet in wallets.iterator():
        balance, ledger_sum = cents(wallet.balance), cents(wallet.ledger_sum)
        where = f"wallet {wallet.pk} (user {wallet.user_id})"
        if balance != ledger_sum:
            problems.append(f"{where}: balance {balance} != ledger {ledger_sum}")
        if balance < 0:
            problems.append(f"{where}: negative balance {balance}")
        last = wallet.last_balance_after
        if last is not None and cents(last) != balance:
            problems.append(f"{where}: last entry's balance_after {cents(last)} != balance {balance}")
        held, holds_sum = cents(wallet.held), cents(wallet.holds_sum)
        if held != holds_sum:
            problems.append(f"{where}: held {held} != open holds {holds_sum}")
        if held > balance:
            problems.append(f"{where}: held {held} > balance {balance}")

    staked = LedgerEntry.objects.filter(bet=OuterRef("pk"), kind=LedgerKind.STAKE, amount=-F("bet__stake"))
    waiting = (BetStatus.PENDING, BetStatus.REJECTED)
    for bet_id in Bet.objects.exclude(status__in=waiting).exclude(Exists(staked)).values_list("pk", flat=True):
        problems.append(f"bet {bet_id}: no stake entry for its stake")
    problems += bet_delay_audit()

    # Payouts and refunds, less the reversals of settlements a corrected result undid.
    paid = (
        LedgerEntry.objects.filter(bet=OuterRef("pk"), kind__in=BET_RETURN_KINDS)
        .values("bet")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    bets = Bet.objects.annotate(paid=Coalesce(Subquery(paid), Value(Decimal("0.00")), output_field=MONEY))
    for bet in bets.exclude(status__in=UNSETTLED_BET_STATUSES).iterator():
        if cents(bet.paid) != bet.payout:
            problems.append(f"bet {bet.pk} ({bet.status}): payout {bet.payout} != ledger {cents(bet.paid)}")
    for bet in bets.filter(status__in=UNSETTLED_BET_STATUSES).exclude(paid=0).iterator():
        problems.append(f"bet {bet.pk} ({bet.status}): paid {cents(bet.paid)} by the ledger before settling")
    return problems


def bet_delay_audit() -> list[str]:
    """In-play bets against their holds: a pending bet's stake is held (an open hold of its
    stake, no ledger entry), a rejected bet's hold was released without a debit and it has no
    ledger entry at all, an accepted one's hold was captured by its stake entry, once."""
    problems = []
    delays = BetDelay.objects.select_related("bet", "hold", "hold__ledger_entry")
    stake_entries = dict(
        LedgerEntry.objects.filter(bet__delay__isnull=False, kind=LedgerKind.STAKE).values_list("bet_id", "pk")
    )
    for delay in delays.iterator():
        bet, hold = delay.bet, delay.hold
        where = f"bet {bet.pk} ({bet.status})"
        if hold.amount != bet.stake:
            problems.append(f"{where}: hold {hold.amount} != stake {bet.stake}")
        if bet.status == BetStatus.PENDING and hold.released_at is not None:
            problems.append(f"{where}: its hold ended before the decision")
        elif bet.status == BetStatus.REJECTED and (hold.released_at is None or hold.ledger_entry_id is not None):
            problems.append(f"{where}: its hold was not released, or was debited")
        elif bet.status not in (BetStatus.PENDING, BetStatus.REJECTED) and (
            hold.ledger_entry_id is None or hold.ledger_entry_id != stake_entries.get(bet.pk)
        ):
            problems.append(f"{where}: its hold was not captured by its stake entry")
        if bet.status in (BetStatus.PENDING, BetStatus.REJECTED) and bet.pk in stake_entries:
            problems.append(f"{where}: a stake entry before acceptance")
    return problems


def bets_pending() -> int:
    """In-play bets waiting out their delay."""
    return Bet.objects.filter(status=BetStatus.PENDING).count()


def cashouts_pending() -> int:
    """In-play cash-outs waiting out the bet delay."""
    return CashoutQuote.objects.filter(decide_at__isnull=False, decided_at__isnull=True).count()


def cashout_decisions_by_outcome() -> dict[str, int]:
    """The in-play cash-outs decided, by outcome: `accepted`, or the code of the refusal."""
    decided = CashoutQuote.objects.filter(decide_at__isnull=False, decided_at__isnull=False)
    rows = decided.values_list("reason").annotate(count=Count("pk")).order_by("reason")
    return {reason or "accepted": count for reason, count in rows}


def bet_decision_histogram(bounds: Sequence[float]) -> tuple[list[tuple[float, int]], int, float]:
    """Every decided in-play bet's placement-to-decision time (the delay plus the worker's
    lateness) in cumulative buckets of `bounds` seconds, with the count and the sum in seconds:
    one query, the same from any process, and it only grows."""
    counts = BetDelay.objects.filter(decision_ms__isnull=False).aggregate(
        count=Count("pk"),
        total_ms=Sum("decision_ms"),
        **{f"le_{i}": Count("pk", filter=Q(decision_ms__lte=b * 1000)) for i, b in enumerate(bounds)},
    )
    buckets = [(bound, counts[f"le_{i}"]) for i, bound in enumerate(bounds)]
    return buckets, counts["count"], (counts["total_ms"] or 0.0) / 1000


def bet_decision_recent_ms(window: timedelta = timedelta(minutes=5)) -> dict[str, float | None]:
    """The median and p99 placement-to-decision time of the in-play bets decided in `window`."""
    since = timezone.now() - window
    recent = BetDelay.objects.filter(decided_at__gte=since, decision_ms__isnull=False).values_list(
        "decision_ms", flat=True
    )
    times = sorted(ms for ms in recent[:10000] if ms is not None)
    if not times:
        return {"p50": None, "p99": None, "bets": 0}
    return {
        "p50": times[len(times) // 2],
        "p99": times[min(len(times) - 1, round(0.99 * (len(times) - 1)))],
        "bets": len(times),
    }


# --- The bettor's bets, filtered ------------------------------------------------------------
# `GET /api/bets/` lists them; the pages and the CSV export (history) use the same query, so
# all three show the same rows.
ACCUMULATOR = "accumulator"
# What the `market` filter accepts: the market kinds of the catalogue, and accumulators.
MARKETS = (*KINDS, ACCUMULATOR)
LINED_KINDS = (OVER_UNDER, ASIAN_HANDICAP)  # kinds with a market per line, keyed "<kind>_<line>"


def market_of_kind(kind: str) -> Q:
    """The rows (bets or legs) whose market is of `kind`."""
    if kind in LINED_KINDS:
        return Q(market__startswith=f"{kind}_")  # over_under_2_5, asian_handicap_minus_0_5, ...
    return Q(market=kind)  # a kind with one market: its key is the kind


def within_days(queryset: QuerySet[Any], *, field: str, date_from: date | None, date_to: date | None) -> QuerySet[Any]:
    """Rows whose `field` falls on `date_from` .. `date_to`, both whole UTC days included."""
    if date_from is not None:
        queryset = queryset.filter(**{f"{field}__gte": utc_midnight(date_from)})
    if date_to is not None:
        queryset = queryset.filter(**{f"{field}__lt": utc_midnight(date_to + timedelta(days=1))})
    return queryset


def utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def bet_history(
    *,
    user_id: int,
    status: str | None = None,
    market: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[Bet]:
    """The user's bets, newest first, by status, market kind (an accumulator counts under each
    of its legs' kinds, and under `accumulator`) and the day they were placed."""
    bets = (
        Bet.objects.filter(user_id=user_id)
        .select_related("match")
        .prefetch_related("legs__match")
        .order_by("-created_at", "-id")
    )
    if status:
        bets = bets.filter(status=status)
    if market == ACCUMULATOR:
        bets = bets.filter(kind=BetKind.ACCUMULATOR)
    elif market:
        # A single on a market of the kind, or an accumulator with a leg on one.
        on_kind = market_of_kind(market)
        legs = BetLeg.objects.filter(on_kind, bet=OuterRef("pk"))
        bets = bets.filter(on_kind | Q(Exists(legs)))
    return within_days(bets, field="created_at", date_from=date_from, date_to=date_to)
