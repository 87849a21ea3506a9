"""Reads of the safer-gambling state: what binds an account now, and what its session did."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Case, Q, QuerySet, Sum, When
from django.utils import timezone

from betting.models import BET_LEDGER_KINDS, LedgerEntry
from safergambling.models import AuditEntry, Limit, Profile, Restriction, RestrictionKind

DEFAULT_REALITY_CHECK_MINUTES = 60


# The names under which `bet_rules_columns` marks a row read with them.
BREAK_IN_FORCE = "safer_gambling_break_in_force"
BET_LIMITS_EXIST = "safer_gambling_bet_limits_exist"


def bet_rules_columns(*, user_id_column: str, kinds: tuple[str, ...], now: datetime) -> tuple[str, list[Any]]:
    """Select-list SQL, and its parameters, for a query on a row with the account's user id in
    `user_id_column` (its wallet): whether a break is in force at `now` (BREAK_IN_FORCE), and
    whether the account has a limit of one of `kinds` (BET_LIMITS_EXIST). Read in the statement
    that locks the wallet, they spare a bet by an account without breaks and limits (most of
    them) the two reads that would find none. Plain SQL, which SQLite and PostgreSQL both read:
    it runs on every bet, and the ORM spent more CPU building these two subqueries than the
    database spends running them."""
    at = connection.ops.adapt_datetimefield_value(now)  # as the ORM would send it
    among = ", ".join(["%s"] * len(kinds))
    sql = (
        f"EXISTS (SELECT 1 FROM {Restriction._meta.db_table} r WHERE r.user_id = {user_id_column}"
        f" AND r.starts_at <= %s AND r.ends_at > %s) AS {BREAK_IN_FORCE},"
        f" EXISTS (SELECT 1 FROM {Limit._meta.db_table} l WHERE l.user_id = {user_id_column}"
        f" AND l.kind IN ({among})) AS {BET_LIMITS_EXIST}"
    )
    return sql, [at, at, *kinds]


def restriction_in_force(*, user_id: int, now: datetime | None = None) -> Restriction | None:
    """The break in force (a self-exclusion before a time-out), or None."""
    now = now or timezone.now()
    return (
        Restriction.objects.filter(user_id=user_id, starts_at__lte=now, ends_at__gt=now)
        .order_by(Case(When(kind=RestrictionKind.SELF_EXCLUSION, then=0), default=1), "-ends_at")
        .first()
    )


def limit_list_for_user(*, user_id: int) -> QuerySet[Limit]:
    return Limit.objects.filter(user_id=user_id)


def bet_net_loss_since(*, wallet_id: int, since: dict[str, datetime]) -> dict[str, Decimal]:
    """The net loss on bets (stakes less payouts, refunds and reversals) of the wallet since
    each of `since`'s instants, by name, in one query: what a loss limit counts. Negative
    when the bettor is up."""
    earliest = min(since.values())
    sums = LedgerEntry.objects.filter(
        wallet_id=wallet_id, kind__in=BET_LEDGER_KINDS, created_at__gte=earliest
    ).aggregate(**{name: Sum("amount", filter=Q(created_at__gte=start)) for name, start in since.items()})
    return {name: -(value or Decimal("0.00")) for name, value in sums.items()}


def session_result(*, user_id: int, since: datetime) -> dict[str, Any]:
    """What the bettor's bets did since `since`: staked, returned (payouts and refunds, less
    reversals) and the net result (returned less staked)."""
    entries = LedgerEntry.objects.filter(wallet__user_id=user_id, kind__in=BET_LEDGER_KINDS, created_at__gte=since)
    sums = entries.aggregate(staked=Sum("amount", filter=Q(kind="stake")), total=Sum("amount"))
    staked = -(sums["staked"] or Decimal("0.00"))
    net = sums["total"] or Decimal("0.00")
    return {"staked": staked, "returned": net + staked, "net_result": net}


def reality_check_minutes_of(*, user_id: int) -> int:
    minutes = Profile.objects.filter(user_id=user_id).values_list("reality_check_minutes", flat=True).first()
    return minutes if minutes is not None else DEFAULT_REALITY_CHECK_MINUTES


def audit_for_user(*, user_id: int) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(user_id=user_id).select_related("actor")


def private_feed_refusal(user_id: int) -> str | None:
    """Why the user's sockets may carry no private events now (a break), or None."""
    restriction = restriction_in_force(user_id=user_id)
    if restriction is None:
        return None
    return f"{restriction.get_kind_display()} until {restriction.ends_at.isoformat()}"
