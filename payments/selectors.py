"""Reads of payments, shared by the API, the pages and the safer-gambling checks."""

from datetime import datetime
from decimal import Decimal

from django.db.models import QuerySet, Sum

from payments.models import Payment, PaymentKind, PaymentStatus


def payment_list_for_user(*, user_id: int) -> QuerySet[Payment]:
    return Payment.objects.filter(user_id=user_id)


def deposits_total_since(*, user_id: int, since: datetime) -> Decimal:
    """What the user has deposited since `since`, counting deposits still pending: a pending
    deposit may yet complete, so it uses up its share of a deposit limit until it fails."""
    total = Payment.objects.filter(
        user_id=user_id,
        kind=PaymentKind.DEPOSIT,
        status__in=[PaymentStatus.PENDING, PaymentStatus.COMPLETED],
        created_at__gte=since,
    ).aggregate(total=Sum("amount"))["total"]
    return total if total is not None else Decimal("0.00")
