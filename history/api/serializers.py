"""Filters of the bettor's ledger, shared by the list, the export and the pages.

The date range, the bets' filters and `history_filters` are betting's (`betting.api.serializers`):
`GET /api/bets/` filters by them beside bet placement, and betting stands below history
(docs/architecture.md)."""

from rest_framework import serializers

from betting.api.serializers import DateRangeSerializer
from betting.models import LedgerKind


class LedgerHistoryQuerySerializer(DateRangeSerializer):
    kind = serializers.ChoiceField(choices=LedgerKind.choices, required=False)
