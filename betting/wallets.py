"""Writes of money: opening a wallet and every movement on it, each one a ledger entry.

Every function that moves money expects the wallet row locked by the caller's transaction
(`wallet_lock`), taken after the match row when a match is involved: one lock order
everywhere is what keeps bets and settlements from deadlocking.
"""

from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction

from betting import events
from betting.errors import InsufficientFunds
from betting.models import Bet, LedgerEntry, LedgerKind, Wallet

CENT = Decimal("0.01")


@transaction.atomic
def wallet_open(*, user: User, credit: Decimal | None = None) -> Wallet:
    """Give a user a wallet whose first ledger entry is the sign-up credit.

    Idempotent: a user who already has a wallet keeps it untouched.
    """
    wallet, created = Wallet.objects.get_or_create(user=user)
    if not created:
        return wallet
    amount = settings.WALLET_SIGNUP_CREDIT if credit is None else credit
    if amount > 0:
        wallet = wallet_lock(user_id=user.pk)
        wallet_post(wallet=wallet, kind=LedgerKind.CREDIT, amount=amount, memo="Sign-up credit")
    return wallet


def wallet_lock(*, user_id: int) -> Wallet:
    """The user's wallet row, locked until the end of the transaction (opened empty if the
    user has none, e.g. a superuser made with `createsuperuser`)."""
    try:
        return Wallet.objects.select_for_update().get(user_id=user_id)
    except Wallet.DoesNotExist:
        Wallet.objects.get_or_create(user_id=user_id)  # a concurrent creator wins the race harmlessly
        return Wallet.objects.select_for_update().get(user_id=user_id)


def wallet_post(
    *,
    wallet: Wallet,
    kind: str,
    amount: Decimal,
    bet: Bet | None = None,
    memo: str = "",
    created_by: User | None = None,
    settlement_round: int = 0,
) -> LedgerEntry:
    """Append one ledger entry and move the balance by `amount` (signed).

    Call with the wallet row locked. The caller checks the balance covers a debit; the
    database's check constraints refuse an overdraft should a caller forget.
    """
    amount = amount.quantize(CENT)
    wallet.balance = (wallet.balance + amount).quantize(CENT)
    wallet.save(update_fields=["balance", "updated_at"])
    entry = LedgerEntry.objects.create(
        wallet=wallet,
        kind=kind,
        amount=amount,
        balance_after=wallet.balance,
        bet=bet,
        memo=memo,
        created_by=created_by,
        settlement_round=settlement_round,
    )
    events.wallet_publish_on_commit(user_id=wallet.user_id, balance=wallet.balance, change=amount, reason=kind)
    return entry


@transaction.atomic
def wallet_adjust(*, user_id: int, amount: Decimal, memo: str, staff: User | None) -> LedgerEntry:
    """A correction, either sign, with its reason and who made it (None: the system).
    Refused if it would overdraw."""
    wallet = wallet_lock(user_id=user_id)
    if wallet.balance + amount < 0:
        raise InsufficientFunds(
            f"An adjustment of {amount} would overdraw a balance of {wallet.balance}.", balance=str(wallet.balance)
        )
    return wallet_post(wallet=wallet, kind=LedgerKind.ADJUSTMENT, amount=amount, memo=memo, created_by=staff)
