"""Writes and checks of safer gambling: limits, breaks, the reality-check interval, and the
checks the deposit and bet services run.

Rules (UKGC RTS 12, MGA player protection):
- a limit lowered, or set where there was none, binds at once; raised or removed, it binds
  `CHANGE_DELAY` (24 hours) later, and until then the lower value binds. A change back to the
  value in force withdraws the pending one;
- deposit and loss limits count over rolling windows (24 hours, 7 days, 30 days); every limit
  set binds, so the lowest room left decides;
- a time-out (1 to 42 days) or a self-exclusion (6 months or more) starts at once, ends every
  session and socket of the account, and is never shortened: a new one must end later.

Every change writes an `AuditEntry`. The checks (`deposit_allowed_check`,
`bet_allowed_check`) run with the wallet row locked: that lock serialises the deposits and bets
of one account, so two at once cannot both pass a limit that one of them reaches. The bet and
deposit services reach them through the hooks of `betting.wallet_rules`, which
`SaferGamblingConfig.ready()` fills in: this app stands above betting and payments.
"""

import calendar
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from betting.events import money
from betting.models import Wallet
from betting.wallets import amount_out_of_bounds
from payments.selectors import deposits_total_since
from safergambling import selectors
from safergambling.errors import (
    DepositLimitReached,
    LimitInvalid,
    LossLimitReached,
    OnBreak,
    RestrictionNotLonger,
    SaferGamblingError,
    SelfExcluded,
    StakeLimitExceeded,
)
from safergambling.models import (
    CHANGE_DELAY,
    PERIOD_LENGTH,
    AuditAction,
    AuditEntry,
    Limit,
    LimitKind,
    LimitPeriod,
    Profile,
    Restriction,
    RestrictionKind,
)
from safergambling.signals import break_started

TIMEOUT_MAX_DAYS = 42  # six weeks
SELF_EXCLUSION_MIN_MONTHS = 6
SELF_EXCLUSION_MAX_MONTHS = 60
REALITY_CHECK_MINUTES = (10, 240)
PERIODS_OF: dict[str, tuple[str, ...]] = {
    LimitKind.DEPOSIT: (LimitPeriod.DAY, LimitPeriod.WEEK, LimitPeriod.MONTH),
    LimitKind.LOSS: (LimitPeriod.DAY, LimitPeriod.WEEK, LimitPeriod.MONTH),
    LimitKind.STAKE: (LimitPeriod.BET,),
}


def value_text(amount: Decimal | None) -> str:
    return "none" if amount is None else money(amount)


def audit(
    *, user: User, actor: User | None, action: str, now: datetime, effective_at: datetime, **fields: str
) -> AuditEntry:
    return AuditEntry.objects.create(
        user=user, actor=actor, action=action, created_at=now, effective_at=effective_at, **fields
    )


# --- Limits -------------------------------------------------------------------------------
def limit_amount_check(*, kind: str, period: str, amount: Decimal | None) -> None:
    if period not in PERIODS_OF.get(kind, ()):
        allowed = ", ".join(PERIODS_OF.get(kind, ())) or "none"
        message = f"A {kind} limit has the period {allowed}, not {period!r}."
        raise LimitInvalid(message, errors={"period": [message]})
    if amount is not None:
        problem = amount_out_of_bounds(
            amount, minimum=settings.GAMBLING_LIMIT_MIN, maximum=settings.GAMBLING_LIMIT_MAX, name="limit"
        )
        if problem is not None:
            raise LimitInvalid(problem, errors={"amount": [problem]})


@transaction.atomic
def limit_set(
    *, user: User, kind: str, period: str, amount: Decimal | None, actor: User | None, now: datetime | None = None
) -> Limit:
    """Set, lower, raise or remove (`amount` None) one limit, by the rules of the module."""
    now = now or timezone.now()
    limit_amount_check(kind=kind, period=period, amount=amount)
    Limit.objects.get_or_create(user=user, kind=kind, period=period)
    limit = Limit.objects.select_for_update().get(user=user, kind=kind, period=period)
    current = limit.amount_at(now)
    limit.amount = current  # a change whose 24 hours have passed is the value in force
    pending = limit.pending_from is not None and limit.pending_from > now
    fields = {"kind": kind, "period": period, "old_value": value_text(current), "new_value": value_text(amount)}
    if amount == current:
        if pending:
            audit(
                user=user, actor=actor, action=AuditAction.LIMIT_CHANGE_CANCELLED, now=now, effective_at=now, **fields
            )
        limit.pending_amount, limit.pending_from = None, None
    elif current is None or (amount is not None and amount < current):
        limit.amount, limit.pending_amount, limit.pending_from = amount, None, None
        audit(user=user, actor=actor, action=AuditAction.LIMIT_SET, now=now, effective_at=now, **fields)
    else:
        limit.pending_amount, limit.pending_from = amount, now + CHANGE_DELAY
        action = AuditAction.LIMIT_REMOVAL_REQUESTED if amount is None else AuditAction.LIMIT_RAISE_REQUESTED
        audit(user=user, actor=actor, action=action, now=now, effective_at=limit.pending_from, **fields)
    limit.save()
    return limit


def limits_binding(*, user_id: int, kinds: tuple[str, ...], now: datetime) -> list[tuple[str, str, Decimal]]:
    """(kind, period, amount) of every limit of these kinds that binds at `now`."""
    binding = []
    for limit in Limit.objects.filter(user_id=user_id, kind__in=kinds):
        amount = limit.amount_at(now)
        if amount is not None:
            binding.append((limit.kind, limit.period, amount))
    return binding


# --- Breaks ------------------------------------------------------------------------------
def months_later(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months later (the month's last day if shorter)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


@transaction.atomic
def restriction_take(
    *, user: User, kind: str, ends_at: datetime, actor: User | None, now: datetime | None = None
) -> Restriction:
    """Start a break now until `ends_at`, end every session and socket of the account, and
    record it. Refused (409) when a break in force already ends as late or later."""
    now = now or timezone.now()
    Profile.objects.get_or_create(user=user)
    Profile.objects.select_for_update().get(user=user)  # one break decision at a time per account
    current = selectors.restriction_in_force(user_id=user.pk, now=now)
    if current is not None and current.ends_at >= ends_at:
        raise RestrictionNotLonger(
            f"A {current.get_kind_display().lower()} is in force until {current.ends_at.isoformat()}: "
            "a break can be lengthened, never shortened.",
            ends_at=current.ends_at.isoformat(),
        )
    restriction = Restriction.objects.create(user=user, kind=kind, starts_at=now, ends_at=ends_at)
    action = (
        AuditAction.SELF_EXCLUSION_STARTED if kind == RestrictionKind.SELF_EXCLUSION else AuditAction.TIMEOUT_STARTED
    )
    audit(
        user=user,
        actor=actor,
        action=action,
        now=now,
        effective_at=now,
        kind=kind,
        old_value=current.ends_at.isoformat() if current else "",
        new_value=ends_at.isoformat(),
    )
    # Accounts ends every session and socket of the account on this signal (accounts.signals).
    break_started.send(
        sender=Restriction, user=user, restriction=restriction, reason=restriction.get_kind_display().lower()
    )
    return restriction


def timeout_take(*, user: User, days: int, actor: User | None, now: datetime | None = None) -> Restriction:
    if not 1 <= days <= TIMEOUT_MAX_DAYS:
        message = f"A time-out lasts 1 to {TIMEOUT_MAX_DAYS} days."
        raise LimitInvalid(message, errors={"days": [message]})
    now = now or timezone.now()
    return restriction_take(
        user=user, kind=RestrictionKind.TIMEOUT, ends_at=now + timedelta(days=days), actor=actor, now=now
    )


def self_exclusion_take(*, user: User, months: int, actor: User | None, now: datetime | None = None) -> Restriction:
    if not SELF_EXCLUSION_MIN_MONTHS <= months <= SELF_EXCLUSION_MAX_MONTHS:
        message = f"A self-exclusion lasts {SELF_EXCLUSION_MIN_MONTHS} to {SELF_EXCLUSION_MAX_MONTHS} months."
        raise LimitInvalid(message, errors={"months": [message]})
    now = now or timezone.now()
    return restriction_take(
        user=user, kind=RestrictionKind.SELF_EXCLUSION, ends_at=months_later(now, months), actor=actor, now=now
    )


@transaction.atomic
def reality_check_set(*, user: User, minutes: int, actor: User | None, now: datetime | None = None) -> Profile:
    low, high = REALITY_CHECK_MINUTES
    if not low <= minutes <= high:
        message = f"The reality check comes every {low} to {high} minutes."
        raise LimitInvalid(message, errors={"interval_minutes": [message]})
    now = now or timezone.now()
    Profile.objects.get_or_create(user=user)
    profile = Profile.objects.select_for_update().get(user=user)
    if profile.reality_check_minutes != minutes:
        audit(
            user=user,
            actor=actor,
            action=AuditAction.REALITY_CHECK_SET,
            now=now,
            effective_at=now,
            old_value=str(profile.reality_check_minutes),
            new_value=str(minutes),
        )
        profile.reality_check_minutes = minutes
        profile.save(update_fields=["reality_check_minutes"])
    return profile


# --- Checks (the deposit and bet services call these, through betting.wallet_rules) ----------
def restriction_check(*, user_id: int, now: datetime) -> None:
    """Refuse (403) while a time-out or a self-exclusion is in force."""
    restriction = selectors.restriction_in_force(user_id=user_id, now=now)
    if restriction is None:
        return
    until = restriction.ends_at.isoformat()
    if restriction.kind == RestrictionKind.SELF_EXCLUSION:
        raise SelfExcluded(f"The account is self-excluded until {until}.", ends_at=until)
    raise OnBreak(f"The account is taking a break until {until}.", ends_at=until)


def limits_room_check(
    binding: list[tuple[str, str, Decimal]],
    used: dict[str, Decimal],
    amount: Decimal,
    *,
    refusal: type[SaferGamblingError],
    what: str,
    room_words: str,
) -> None:
    """Refuse `amount` when it is more than the room left under the tightest of the binding
    limits (the lowest binds): `refusal`, with the period, the limit and the room left."""
    rooms = [(kind, period, limit, max(Decimal("0.00"), limit - used[period])) for kind, period, limit in binding]
    if not rooms:
        return
    kind, period, limit, left = min(rooms, key=lambda room: room[3])
    if amount > left:
        raise refusal(
            f"{what} of {money(amount)} would pass the {LimitPeriod(period).label} {kind} limit of {money(limit)}: "
            f"{money(left)} may still be {room_words}.",
            period=period,
            limit=money(limit),
            remaining=money(left),
        )


def deposit_allowed_check(*, wallet: Wallet, amount: Decimal, now: datetime | None = None) -> None:
    """Refuse a deposit during a break (403) or past a deposit limit (409 with the period,
    the limit and what may still be deposited). Call with the wallet row locked."""
    now = now or timezone.now()
    restriction_check(user_id=wallet.user_id, now=now)
    binding = limits_binding(user_id=wallet.user_id, kinds=(LimitKind.DEPOSIT,), now=now)
    used = {
        period: deposits_total_since(user_id=wallet.user_id, since=now - PERIOD_LENGTH[period])
        for _k, period, _a in binding
    }
    limits_room_check(binding, used, amount, refusal=DepositLimitReached, what="A deposit", room_words="deposited")


BET_LIMIT_KINDS = (LimitKind.STAKE, LimitKind.LOSS)


def bet_check_columns(*, user_id_column: str, now: datetime) -> tuple[str, list[Any]]:
    """What a wallet locked for a bet reads with its row (select-list SQL and its parameters),
    so that `bet_allowed_check` spares an account without breaks and limits the reads that
    would find none."""
    return selectors.bet_rules_columns(user_id_column=user_id_column, kinds=BET_LIMIT_KINDS, now=now)


def bet_allowed_check(*, wallet: Wallet, stake: Decimal, now: datetime | None = None) -> None:
    """Refuse a bet during a break (403), above the maximum stake (409 `stake_limit`), or past a
    loss limit (409 `loss_limit_reached`), counting the stake as lost. Call with the wallet row
    locked. Costs two queries for an account without limits, three with a loss limit; none for
    one without breaks and limits when the wallet was locked with `bet_check_columns`
    (placement does), which said so in the same statement."""
    now = now or timezone.now()
    if getattr(wallet, selectors.BREAK_IN_FORCE, True):
        restriction_check(user_id=wallet.user_id, now=now)
    if not getattr(wallet, selectors.BET_LIMITS_EXIST, True):
        return
    binding = limits_binding(user_id=wallet.user_id, kinds=BET_LIMIT_KINDS, now=now)
    for kind, _period, amount in binding:
        if kind == LimitKind.STAKE and stake > amount:
            raise StakeLimitExceeded(
                f"The stake {money(stake)} is above the account's maximum stake of {money(amount)}.",
                max_stake=money(amount),
            )
    losses = [limit for limit in binding if limit[0] == LimitKind.LOSS]
    if not losses:
        return
    used = selectors.bet_net_loss_since(
        wallet_id=wallet.pk, since={period: now - PERIOD_LENGTH[period] for _k, period, _a in losses}
    )
    limits_room_check(losses, used, stake, refusal=LossLimitReached, what="A stake", room_words="staked")
