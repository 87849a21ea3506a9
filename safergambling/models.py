"""What a bettor sets to keep their gambling in bounds, and the trail of every change.

- `Limit`: a deposit or loss limit over a rolling 24 hours, 7 days or 30 days, or a maximum
  stake per bet. A decrease binds at once; an increase or a removal waits 24 hours, stored as
  the pending value and when it takes effect (read lazily: no task has to run for it).
- `Restriction`: a time-out (a break of 1 to 42 days) or a self-exclusion (6 months or more),
  effective at once and never ended early.
- `Profile`: the reality-check interval.
- `AuditEntry`: append-only; who changed what, when, from which value to which.
"""

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import models

CHANGE_DELAY = timedelta(hours=24)  # before an increase or a removal binds


class LimitKind(models.TextChoices):
    DEPOSIT = "deposit", "Deposit limit"
    LOSS = "loss", "Loss limit"
    STAKE = "stake", "Maximum stake per bet"


class LimitPeriod(models.TextChoices):
    DAY = "day", "24 hours"
    WEEK = "week", "7 days"
    MONTH = "month", "30 days"
    BET = "bet", "per bet"  # the stake limit's only period


PERIOD_LENGTH: dict[str, timedelta] = {
    LimitPeriod.DAY: timedelta(days=1),
    LimitPeriod.WEEK: timedelta(days=7),
    LimitPeriod.MONTH: timedelta(days=30),
}


class Limit(models.Model):
    """One limit of one account. `amount` binds now (null: none); `pending_*`, when
    `pending_from` is set, is the increase or removal (`pending_amount` null) asked for, which
    binds from `pending_from` on."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="gambling_limits")
    kind = models.CharField(max_length=16, choices=LimitKind)
    period = models.CharField(max_length=16, choices=LimitPeriod)
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    pending_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    pending_from = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "period"]
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "period"], name="limit_one_per_kind_and_period"),
            models.CheckConstraint(
                condition=models.Q(kind="stake", period="bet") | (~models.Q(kind="stake") & ~models.Q(period="bet")),
                name="limit_period_fits_kind",
            ),
            models.CheckConstraint(
                condition=models.Q(amount__isnull=True) | models.Q(amount__gt=0), name="limit_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}/{self.period} of user {self.user_id}: {self.amount}"

    def amount_at(self, now: datetime) -> Decimal | None:
        """The amount that binds at `now` (None: no limit)."""
        if self.pending_from is not None and self.pending_from <= now:
            return self.pending_amount
        return self.amount


class RestrictionKind(models.TextChoices):
    TIMEOUT = "timeout", "Time-out"
    SELF_EXCLUSION = "self_exclusion", "Self-exclusion"


class Restriction(models.Model):
    """A break the bettor took: from `starts_at` to `ends_at` the account places no bet,
    makes no deposit and opens no private feed. Never shortened nor deleted."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="gambling_restrictions")
    kind = models.CharField(max_length=16, choices=RestrictionKind)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-ends_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="restriction_ends_after_start"
            )
        ]
        indexes = [models.Index(fields=["user", "-ends_at"], name="restriction_user_ends")]

    def __str__(self) -> str:
        return f"{self.kind} of user {self.user_id} until {self.ends_at.isoformat()}"


class Profile(models.Model):
    """Per-account settings: how often the site shows the reality check."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="gambling_profile")
    reality_check_minutes = models.PositiveSmallIntegerField(default=60)

    def __str__(self) -> str:
        return f"Safer-gambling profile of user {self.user_id}"


class AuditAction(models.TextChoices):
    LIMIT_SET = "limit_set", "Limit set or lowered (binds at once)"
    LIMIT_RAISE_REQUESTED = "limit_raise_requested", "Limit increase asked for (binds after 24 hours)"
    LIMIT_REMOVAL_REQUESTED = "limit_removal_requested", "Limit removal asked for (binds after 24 hours)"
    LIMIT_CHANGE_CANCELLED = "limit_change_cancelled", "Pending increase or removal withdrawn"
    TIMEOUT_STARTED = "timeout_started", "Time-out started"
    SELF_EXCLUSION_STARTED = "self_exclusion_started", "Self-exclusion started"
    REALITY_CHECK_SET = "reality_check_set", "Reality-check interval set"


class AuditEntry(models.Model):
    """One change of a limit or of the account's status: who (`actor`, None for the system),
    when, what, the value before and after, and when it binds. Never updated nor deleted."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="gambling_audit")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=32, choices=AuditAction)
    kind = models.CharField(max_length=16, blank=True, default="")
    period = models.CharField(max_length=16, blank=True, default="")
    old_value = models.CharField(max_length=40, blank=True, default="")
    new_value = models.CharField(max_length=40, blank=True, default="")
    effective_at = models.DateTimeField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["user", "-created_at"], name="gambling_audit_user_created")]

    def __str__(self) -> str:
        return f"{self.action} for user {self.user_id} at {self.created_at.isoformat()}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("The safer-gambling audit is append-only: record a new entry instead.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]
