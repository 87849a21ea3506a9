"""Deposits and withdrawals, each one payment through a provider.

A payment is `pending` until its provider settles it, then `completed` (its ledger entry
written) or `failed` (nothing moved), once. A withdrawal holds its amount in the wallet while
it is pending, so neither a bet nor another withdrawal can spend it.
"""

import uuid

from django.conf import settings
from django.db import models

from betting.models import LedgerEntry, WalletHold


class PaymentKind(models.TextChoices):
    DEPOSIT = "deposit", "Deposit"
    WITHDRAWAL = "withdrawal", "Withdrawal"


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


class Payment(models.Model):
    """One deposit or withdrawal.

    `reference` is ours, given to the provider (its "merchant reference"); `provider_reference`
    is the provider's transaction id, unique per provider: a callback is matched on it, which
    is what makes a callback delivered twice settle the payment once. `idempotency_key` binds
    the bettor's `Idempotency-Key` to this payment for good (a payment that failed in its own
    request frees the key, so a retry is judged afresh).
    """

    reference = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payments")
    kind = models.CharField(max_length=16, choices=PaymentKind)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    status = models.CharField(max_length=16, choices=PaymentStatus, default=PaymentStatus.PENDING)
    provider = models.CharField(max_length=32)
    provider_reference = models.CharField(max_length=100, blank=True, default="")
    failure_reason = models.CharField(max_length=200, blank=True, default="")
    # A withdrawal's money, set aside while it is pending.
    hold = models.OneToOneField(WalletHold, on_delete=models.PROTECT, null=True, blank=True, related_name="payment")
    # The ledger entry of a completed payment: the deposit's credit or the withdrawal's debit.
    ledger_entry = models.OneToOneField(
        LedgerEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="payment"
    )
    idempotency_key = models.CharField(max_length=200, null=True, blank=True)
    request_hash = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(null=True, blank=True)  # completed or failed

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_amount_positive"),
            models.UniqueConstraint(
                fields=["provider", "provider_reference"],
                condition=~models.Q(provider_reference=""),
                name="payment_provider_reference_unique",
            ),
            models.UniqueConstraint(
                fields=["user", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="payment_idempotency_key_unique_per_user",
            ),
            # Completed: exactly when the ledger entry exists. Settled: exactly when not pending.
            models.CheckConstraint(
                condition=models.Q(status="completed", ledger_entry__isnull=False)
                | (~models.Q(status="completed") & models.Q(ledger_entry__isnull=True)),
                name="payment_completed_iff_ledger_entry",
            ),
            models.CheckConstraint(
                condition=models.Q(status="pending", settled_at__isnull=True)
                | (~models.Q(status="pending") & models.Q(settled_at__isnull=False)),
                name="payment_settled_iff_not_pending",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="deposit", hold__isnull=True) | models.Q(kind="withdrawal"),
                name="payment_only_withdrawals_hold",
            ),
        ]
        indexes = [models.Index(fields=["user", "kind", "created_at"], name="payment_user_kind_created")]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} ({self.status}) for user {self.user_id}"
