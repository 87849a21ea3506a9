"""The bettor's own history, filtered: their bets and their ledger, newest first. Shared by
the API's lists, the pages and the CSV exports, so all three show the same rows."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from betting.engine.markets import ASIAN_HANDICAP, KINDS, OVER_UNDER
from betting.models import Bet, BetKind, BetLeg, LedgerEntry

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


def ledger_history(
    *, user_id: int, kind: str | None = None, date_from: date | None = None, date_to: date | None = None
) -> QuerySet[LedgerEntry]:
    """The user's ledger entries, newest first, by kind and the day they were written."""
    entries = LedgerEntry.objects.filter(wallet__user_id=user_id).order_by("-id")
    if kind:
        entries = entries.filter(kind=kind)
    return within_days(entries, field="created_at", date_from=date_from, date_to=date_to)


def page_filters(serializer_class: Any, params: Any) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """A page's filters from its query string: (the valid filters, the errors per field).
    Pages show the errors beside the form instead of answering the API's 400 body."""
    query = serializer_class(data={key: value for key, value in params.items() if value and key != "page"})
    if query.is_valid():
        return dict(query.validated_data), {}
    return {}, {field: [str(message) for message in messages] for field, messages in query.errors.items()}
