"""Filters of the bettor's history, shared by the lists, the exports and the pages."""

from typing import Any

from rest_framework import serializers

from betting.models import BetStatus, LedgerKind
from history.selectors import MARKETS


class DateRangeSerializer(serializers.Serializer[Any]):
    date_from = serializers.DateField(required=False, help_text="From this UTC day (YYYY-MM-DD), included.")
    date_to = serializers.DateField(required=False, help_text="To this UTC day (YYYY-MM-DD), included.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "date_from" in attrs and "date_to" in attrs and attrs["date_from"] > attrs["date_to"]:
            raise serializers.ValidationError({"date_to": ["Not before `date_from`."]})
        return attrs


class BetHistoryQuerySerializer(DateRangeSerializer):
    status = serializers.ChoiceField(choices=BetStatus.choices, required=False)
    market = serializers.ChoiceField(
        choices=[(market, market) for market in MARKETS], required=False, help_text="A market kind, e.g. `1x2`."
    )


class LedgerHistoryQuerySerializer(DateRangeSerializer):
    kind = serializers.ChoiceField(choices=LedgerKind.choices, required=False)


def history_filters(serializer_class: type[DateRangeSerializer], params: Any) -> dict[str, Any]:
    """The validated filters of a query string (a 400 naming the bad one). A plain dict: DRF
    reads an empty value (`?status=`) as absent, the schema as invalid."""
    query = serializer_class(data=params.dict())
    query.is_valid(raise_exception=True)
    return dict(query.validated_data)
