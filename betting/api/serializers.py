"""Input and output shapes of the betting API."""

from decimal import Decimal
from typing import Any

from django.conf import settings
from rest_framework import serializers

from betting import events
from betting.models import Bet, Match, OddsVersion, Selection
from betting.services import ACCEPT_MODES, ACCEPT_NONE


class OddsField(serializers.Field):
    """Prices as JSON numbers (ladder prices have at most two decimals)."""

    def to_representation(self, value: Any) -> Any:
        return events.odds_as_numbers(value)


class MarketsField(serializers.Field):
    """Derived markets, {"over_under_2_5": {"over": 1.9, "under": 1.9}, ...}, prices as JSON numbers."""

    def to_representation(self, value: Any) -> Any:
        return events.markets_as_numbers(value)


class MatchOutputSerializer(serializers.ModelSerializer[Match]):
    odds = OddsField(source="current_prices")
    markets = MarketsField()
    opening_odds = OddsField(source="opening_prices")
    version = serializers.IntegerField(source="odds_version")
    bets = serializers.IntegerField(source="bets_counted")

    class Meta:
        model = Match
        fields = [
            "id",
            "home_team",
            "away_team",
            "kickoff",
            "status",
            "result",
            "odds",
            "markets",
            "opening_odds",
            "version",
            "bets",
            "odds_updated_at",
        ]


class OddsVersionOutputSerializer(serializers.ModelSerializer[OddsVersion]):
    odds = serializers.SerializerMethodField()
    markets = MarketsField()

    class Meta:
        model = OddsVersion
        fields = ["version", "odds", "markets", "bets_counted", "computed_at", "pipeline_latency_ms"]

    def get_odds(self, obj: OddsVersion) -> dict[str, float]:
        return {"home": float(obj.home), "draw": float(obj.draw), "away": float(obj.away)}


class BetInputSerializer(serializers.Serializer[Any]):
    match = serializers.IntegerField(min_value=1)
    selection = serializers.ChoiceField(choices=Selection.choices)
    stake = serializers.DecimalField(max_digits=14, decimal_places=2)
    odds = serializers.DecimalField(max_digits=7, decimal_places=2, required=False, min_value=Decimal("1.01"))
    accept_odds_change = serializers.ChoiceField(choices=ACCEPT_MODES, default=ACCEPT_NONE)

    def validate_stake(self, value: Decimal) -> Decimal:
        if value < settings.BET_MIN_STAKE:
            raise serializers.ValidationError(f"The stake must be at least {settings.BET_MIN_STAKE}.")
        if value > settings.BET_MAX_STAKE:
            raise serializers.ValidationError(f"The stake must be at most {settings.BET_MAX_STAKE}.")
        return value


class BetOutputSerializer(serializers.ModelSerializer[Bet]):
    match = serializers.IntegerField(source="match_id")
    odds = serializers.FloatField()

    class Meta:
        model = Bet
        fields = ["id", "match", "selection", "stake", "odds", "odds_version", "status", "created_at"]
