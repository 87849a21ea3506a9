"""Reads of matches and odds, shared by the API, the pages and the WebSocket snapshots."""

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.db.models import DecimalField, Exists, F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from betting.models import (
    BET_RETURN_KINDS,
    Bet,
    BetStatus,
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
    return Bet.objects.filter(user_id=user_id).select_related("match")


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
    for bet_id in Bet.objects.exclude(Exists(staked)).values_list("pk", flat=True):
        problems.append(f"bet {bet_id}: no stake entry for its stake")

    # Payouts and refunds, less the reversals of settlements a corrected result undid.
    paid = (
        LedgerEntry.objects.filter(bet=OuterRef("pk"), kind__in=BET_RETURN_KINDS)
        .values("bet")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    bets = Bet.objects.annotate(paid=Coalesce(Subquery(paid), Value(Decimal("0.00")), output_field=MONEY))
    for bet in bets.exclude(status=BetStatus.OPEN).iterator():
        if cents(bet.paid) != bet.payout:
            problems.append(f"bet {bet.pk} ({bet.status}): payout {bet.payout} != ledger {cents(bet.paid)}")
    for bet in bets.filter(status=BetStatus.OPEN).exclude(paid=0).iterator():
        problems.append(f"bet {bet.pk} (open): paid {cents(bet.paid)} by the ledger before settling")
    return problems
