"""Writes of money: opening a wallet and every movement on it, each one a ledger entry.

Every function that moves money expects the wallet row locked by the caller's transaction
(`wallet_lock`), taken after the match row when a match is involved: one lock order
everywhere is what keeps bets and settlements from deadlocking.

What a debit may take is the wallet's `available` money: the balance less the holds
(`wallet_hold`) set aside for outcomes still pending, such as a withdrawal the payment
provider has not confirmed. A hold ends once: released (`wallet_hold_release`) or captured
as a debit (`wallet_hold_capture`).
"""

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connections, router, transaction
from django.utils import timezone

from betting import events
from betting.errors import InsufficientFunds
from betting.models import Bet, LedgerEntry, LedgerKind, Wallet, WalletHold
from betting.rows import model_columns, row_insert, row_model

CENT = Decimal("0.01")


def amount_out_of_bounds(amount: Decimal, *, minimum: Decimal, maximum: Decimal, name: str) -> str | None:
    """Why `amount` is not a sum of money within [minimum, maximum] ("The stake must be at
    least 0.10."), or None when it is."""
    if not amount.is_finite() or amount != amount.quantize(CENT):
        return f"The {name} is an amount with at most two decimals."
    if amount < minimum:
        return f"The {name} must be at least {minimum}."
    if amount > maximum:
        return f"The {name} must be at most {maximum}."
    return None


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


def wallet_lock(*, user_id: int, columns: tuple[str, Sequence[Any]] | None = None) -> Wallet:
    """The user's wallet row, locked until the end of the transaction (opened empty if the
    user has none, e.g. a superuser made with `createsuperuser`). `columns` (select-list SQL
    over the wallet row `w`, each item `... AS name`, and its parameters) are read in the same
    statement, as attributes of the wallet: what the caller would otherwise ask in statements
    of their own."""
    if columns is None:
        locked = Wallet.objects.select_for_update()
        try:
            return locked.get(user_id=user_id)
        except Wallet.DoesNotExist:
            Wallet.objects.get_or_create(user_id=user_id)  # a concurrent creator wins the race harmlessly
            return locked.get(user_id=user_id)
    sql, params = columns
    using = router.db_for_write(Wallet)
    lock = " FOR UPDATE" if connections[using].features.has_select_for_update else ""
    query = f"SELECT {model_columns(Wallet, 'w')}, {sql} FROM {Wallet._meta.db_table} w WHERE w.user_id = %s{lock}"
    for _ in range(2):
        wallet = row_model(Wallet, query, [*params, user_id], using=using)
        if wallet is not None:
            return wallet
        Wallet.objects.get_or_create(user_id=user_id)  # a concurrent creator wins the race harmlessly
    raise Wallet.DoesNotExist(f"No wallet for user {user_id}")


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
    wallet_balance_write(wallet)
    entry = row_insert(
        LedgerEntry(
            wallet=wallet,
            kind=kind,
            amount=amount,
            balance_after=wallet.balance,
            bet=bet,
            memo=memo,
            created_by=created_by,
            settlement_round=settlement_round,
        ),
        using=router.db_for_write(LedgerEntry),
    )
    events.wallet_publish_on_commit(user_id=wallet.user_id, balance=wallet.balance, change=amount, reason=kind)
    return entry


def wallet_balance_write(wallet: Wallet) -> None:
    """`wallet.save(update_fields=["balance", "updated_at"])` in one plain UPDATE: the same
    statement, without the CPU save() spends building it (no receiver listens for a wallet's
    save). Call with the wallet row locked, so the balance written is the one checked."""
    using = wallet._state.db or router.db_for_write(Wallet)
    connection = connections[using]
    wallet.updated_at = timezone.now()  # what `auto_now` would set
    fields = Wallet._meta
    balance, updated_at = fields.get_field("balance"), fields.get_field("updated_at")
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE {fields.db_table} SET "{balance.column}" = %s, "{updated_at.column}" = %s WHERE "id" = %s',
            [
                balance.get_db_prep_save(wallet.balance, connection),
                updated_at.get_db_prep_save(wallet.updated_at, connection),
                wallet.pk,
            ],
        )


@transaction.atomic
def wallet_adjust(*, user_id: int, amount: Decimal, memo: str, staff: User | None) -> LedgerEntry:
    """A correction, either sign, with its reason and who made it (None: the system).
    Refused if it would overdraw."""
    wallet = wallet_lock(user_id=user_id)
    if amount < 0:
        wallet_available_check(wallet=wallet, amount=-amount, what=f"An adjustment of {amount}")
    return wallet_post(wallet=wallet, kind=LedgerKind.ADJUSTMENT, amount=amount, memo=memo, created_by=staff)


def wallet_available_check(*, wallet: Wallet, amount: Decimal, what: str) -> None:
    """Refuse a debit of `amount` that the wallet's available money (the balance less what
    is held) does not cover. Call with the wallet row locked."""
    if wallet.available < amount:
        raise InsufficientFunds(
            f"{what} is more than the available {events.money(wallet.available)}"
            + (f" ({events.money(wallet.held)} of the balance is held)." if wallet.held else "."),
            balance=events.money(wallet.balance),
            available=events.money(wallet.available),
        )


def wallet_hold(*, wallet: Wallet, amount: Decimal, purpose: str) -> WalletHold:
    """Set `amount` aside: still in the balance, no longer available. Refused (nothing
    written) when the available money does not cover it. Call with the wallet row locked."""
    amount = amount.quantize(CENT)
    wallet_available_check(wallet=wallet, amount=amount, what=f"A {purpose} of {amount}")
    wallet.held = (wallet.held + amount).quantize(CENT)
    wallet.save(update_fields=["held", "updated_at"])
    return WalletHold.objects.create(wallet=wallet, amount=amount, purpose=purpose)


def _hold_end(*, wallet: Wallet, hold: WalletHold) -> bool:
    """Mark the hold ended, once: False when it had already ended (a retry, a duplicate)."""
    ended = WalletHold.objects.filter(pk=hold.pk, released_at__isnull=True).update(released_at=timezone.now())
    if not ended:
        return False
    wallet.held = (wallet.held - hold.amount).quantize(CENT)
    wallet.save(update_fields=["held", "updated_at"])
    return True


def wallet_hold_release(*, wallet: Wallet, hold: WalletHold) -> bool:
    """Make held money available again, with no ledger entry. Idempotent: False if the hold
    had already ended. Call with the wallet row locked."""
    return _hold_end(wallet=wallet, hold=hold)


def wallet_hold_capture(
    *, wallet: Wallet, hold: WalletHold, kind: str, memo: str = "", bet: Bet | None = None
) -> LedgerEntry | None:
    """Debit held money for good: the hold ends and one ledger entry of `kind` takes its
    amount (naming `bet` for a stake). Idempotent: None (nothing debited) if the hold had
    already ended. Call with the wallet row locked."""
    if not _hold_end(wallet=wallet, hold=hold):
        return None
    entry = wallet_post(wallet=wallet, kind=kind, amount=-hold.amount, memo=memo, bet=bet)
    WalletHold.objects.filter(pk=hold.pk).update(ledger_entry=entry)
    return entry
