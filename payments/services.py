"""Writes of payments: deposits, withdrawals, and the provider callbacks that settle them.

A request runs in three steps, so that no database lock is held while the provider is asked:

1. one transaction opens the payment: the wallet row locked, the account's rules checked
   (for a deposit, its break and deposit limits: `safergambling`; for a withdrawal, the
   available money, whose amount is then held), the payment recorded as pending;
2. the provider is asked, outside any transaction;
3. one transaction applies its outcome: completed (the ledger entry), failed (nothing moved,
   a withdrawal's hold released) or still pending (a callback will settle it).

A payment leaves `pending` once: under its row lock, and only from `pending`, so a callback
that races the request's own step 3, or one delivered twice, settles nothing twice (the
one-to-one ledger entry backs it). Lock order: the payment row, then the wallet row.
"""

import logging
import uuid
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from betting.models import LedgerKind
from betting.wallet_rules import wallet_rules
from betting.wallets import (
    amount_out_of_bounds,
    wallet_hold,
    wallet_hold_capture,
    wallet_hold_release,
    wallet_lock,
    wallet_post,
)
from payments.errors import (
    PaymentAlreadySettled,
    PaymentAmountMismatch,
    PaymentDeclined,
    PaymentError,
    PaymentIdempotencyKeyReused,
    PaymentNotFound,
    ProviderUnavailable,
)
from payments.models import Payment, PaymentKind, PaymentStatus
from payments.providers import provider_get
from payments.providers.base import COMPLETED, FAILED, PENDING, CallbackNotice, ProviderOutcome

logger = logging.getLogger(__name__)


def payment_amount_check(amount: Decimal) -> None:
    """Refuse an amount finer than a cent, or outside PAYMENT_MIN_AMOUNT to PAYMENT_MAX_AMOUNT."""
    message = amount_out_of_bounds(
        amount, minimum=settings.PAYMENT_MIN_AMOUNT, maximum=settings.PAYMENT_MAX_AMOUNT, name="amount"
    )
    if message is not None:
        raise PaymentError(message, errors={"amount": [message]})


def payment_request(
    *,
    user: User,
    kind: str,
    amount: Decimal,
    provider_name: str | None = None,
    idempotency_key: str | None = None,
    fingerprint: str = "",
) -> tuple[Payment, bool]:
    """Deposit or withdraw `amount` through a provider. Returns the payment (completed, or
    pending until the provider calls back) and whether it is a replay of an earlier request
    with the same Idempotency-Key.

    Raises, with no money moved: the account's refusals (limits, a break, insufficient
    funds), PaymentDeclined when the provider declines, ProviderUnavailable (503) when it
    cannot be reached. Must not run inside a transaction: the provider is asked between two.
    """
    provider = provider_get(provider_name)
    payment_amount_check(amount)
    if idempotency_key is not None:
        earlier = payment_replay(user_id=user.pk, key=idempotency_key, fingerprint=fingerprint)
        if earlier is not None:
            return earlier, True
    try:
        payment = payment_open(
            user=user,
            kind=kind,
            amount=amount,
            provider=provider.name,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint,
        )
    except IntegrityError:
        # The same key, sent twice at once: the other request's payment stands.
        earlier = payment_replay(user_id=user.pk, key=idempotency_key or "", fingerprint=fingerprint)
        if idempotency_key is None or earlier is None:
            raise
        return earlier, True
    try:
        start = provider.deposit_start if kind == PaymentKind.DEPOSIT else provider.withdrawal_start
        outcome = start(payment)
    except ProviderUnavailable:
        payment_outcome_apply(
            payment_id=payment.pk,
            outcome=ProviderOutcome(status=FAILED, provider_reference="", reason="provider unavailable"),
            free_key=True,
        )
        raise
    payment = payment_outcome_apply(payment_id=payment.pk, outcome=outcome, free_key=True)
    if payment.status == PaymentStatus.FAILED:
        raise PaymentDeclined(
            f"The provider declined the {kind}: {payment.failure_reason or 'no reason given'}.",
            payment=str(payment.reference),
            reason=payment.failure_reason,
        )
    return payment, False


def payment_replay(*, user_id: int, key: str, fingerprint: str) -> Payment | None:
    """The payment already made under this key, or None. The same key with another body is
    a 422."""
    payment = Payment.objects.filter(user_id=user_id, idempotency_key=key).first()
    if payment is not None and payment.request_hash != fingerprint:
        raise PaymentIdempotencyKeyReused("This Idempotency-Key was already used with a different request body.")
    return payment


@transaction.atomic
def payment_open(
    *, user: User, kind: str, amount: Decimal, provider: str, idempotency_key: str | None, fingerprint: str
) -> Payment:
    """Step 1: check the account's rules with the wallet row locked, and record the payment
    as pending (a withdrawal's amount held). Raises before writing anything."""
    wallet = wallet_lock(user_id=user.pk)
    hold = None
    if kind == PaymentKind.DEPOSIT:
        # Under the wallet lock, which serialises the account's deposits: two at once cannot
        # both pass a deposit limit that one of them reaches. Safer gambling's check, through
        # betting's hook (betting/wallet_rules.py): it stands above payments, whose deposits a
        # deposit limit counts.
        wallet_rules().deposit_allowed_check(wallet=wallet, amount=amount)
    else:
        hold = wallet_hold(wallet=wallet, amount=amount, purpose="withdrawal")
    return Payment.objects.create(
        user=user,
        kind=kind,
        amount=amount,
        provider=provider,
        hold=hold,
        idempotency_key=idempotency_key,
        request_hash=fingerprint,
    )


@transaction.atomic
def payment_outcome_apply(*, payment_id: int, outcome: ProviderOutcome, free_key: bool = False) -> Payment:
    """Step 3: settle the payment as the provider answered, unless a callback already did.
    `free_key`: a payment failing here releases its Idempotency-Key (nothing happened, so a
    retry is judged afresh)."""
    payment = Payment.objects.select_for_update().get(pk=payment_id)
    if payment.status != PaymentStatus.PENDING:
        return payment  # a callback was faster
    if outcome.provider_reference and not payment.provider_reference:
        payment.provider_reference = outcome.provider_reference
    if outcome.status == COMPLETED:
        payment_complete(payment)
    elif outcome.status == FAILED:
        payment_fail(payment, reason=outcome.reason, free_key=free_key)
    else:
        payment.save(update_fields=["provider_reference"])
    return payment


def payment_complete(payment: Payment) -> None:
    """Move the money: a deposit's credit, a withdrawal's held amount debited. Call with the
    payment row locked and pending."""
    wallet = wallet_lock(user_id=payment.user_id)
    memo = f"{payment.get_kind_display()} {payment.reference} via {payment.provider}"
    if payment.kind == PaymentKind.DEPOSIT:
        entry = wallet_post(wallet=wallet, kind=LedgerKind.DEPOSIT, amount=payment.amount, memo=memo)
    else:
        assert payment.hold is not None  # a withdrawal always holds (payment_only_withdrawals_hold)
        captured = wallet_hold_capture(wallet=wallet, hold=payment.hold, kind=LedgerKind.WITHDRAWAL, memo=memo)
        assert captured is not None  # the hold ends only with its payment, under this lock
        entry = captured
    payment.status, payment.ledger_entry, payment.settled_at = PaymentStatus.COMPLETED, entry, timezone.now()
    payment.save(update_fields=["status", "ledger_entry", "settled_at", "provider_reference"])


def payment_fail(payment: Payment, *, reason: str, free_key: bool = False) -> None:
    """End the payment with no money moved (a withdrawal's hold released). Call with the
    payment row locked and pending."""
    if payment.hold is not None:
        wallet_hold_release(wallet=wallet_lock(user_id=payment.user_id), hold=payment.hold)
    payment.status, payment.settled_at = PaymentStatus.FAILED, timezone.now()
    payment.failure_reason = (reason or "declined")[:200]
    fields = ["status", "settled_at", "failure_reason", "provider_reference"]
    if free_key:
        payment.idempotency_key = None
        fields.append("idempotency_key")
    payment.save(update_fields=fields)


def payment_callback_handle(*, provider_name: str, body: bytes, headers: dict[str, str]) -> tuple[Payment, bool]:
    """Verify a provider's callback and settle the payment it names. Returns the payment and
    whether this callback changed it (False: a repeat of what is already recorded)."""
    provider = provider_get(provider_name)
    notice = provider.callback_parse(body=body, headers=headers)
    return payment_callback_apply(provider=provider.name, notice=notice)


def reference_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return None


@transaction.atomic
def payment_callback_apply(*, provider: str, notice: CallbackNotice) -> tuple[Payment, bool]:
    """Settle the payment a verified callback names, once (see the module's docstring)."""
    match = Q(provider_reference=notice.provider_reference) if notice.provider_reference else Q(pk__in=[])
    reference = reference_or_none(notice.reference)
    if reference is not None:
        match |= Q(reference=reference)
    payment = Payment.objects.select_for_update().filter(match, provider=provider).first()
    if payment is None:
        raise PaymentNotFound(
            f"No payment of {provider} has the reference {notice.reference or notice.provider_reference}."
        )
    if (
        payment.provider_reference
        and notice.provider_reference
        and payment.provider_reference != notice.provider_reference
    ):
        raise PaymentAlreadySettled(
            "The callback names another transaction of the provider than the one recorded.",
            status=payment.status,
        )
    if notice.amount is not None and notice.amount != payment.amount:
        raise PaymentAmountMismatch(
            f"The callback's amount {notice.amount} is not the payment's {payment.amount}.",
            amount=f"{payment.amount:.2f}",
        )
    if payment.status == notice.status:
        return payment, False  # delivered again: already recorded
    if payment.status != PaymentStatus.PENDING or notice.status == PENDING:
        raise PaymentAlreadySettled(
            f"The payment is already {payment.status}; the callback says {notice.status}.", status=payment.status
        )
    if notice.provider_reference:
        payment.provider_reference = notice.provider_reference
    if notice.status == COMPLETED:
        payment_complete(payment)
    else:
        payment_fail(payment, reason=notice.reason)
    logger.info("Payment %s %s by a callback of %s", payment.reference, payment.status, provider)
    return payment, True
