"""The bettor's own ledger, filtered, newest first. Shared by the API's list, the pages and the
CSV export, so all three show the same rows.

The bets' own filters (`bet_history`) are betting's: `GET /api/bets/` lists them beside bet
placement, and betting stands below history (docs/architecture.md), so the pages and the export
here read them from `betting.selectors`."""

from datetime import date
from typing import Any

from django.db.models import QuerySet

from betting.models import LedgerEntry
from betting.selectors import within_days


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
