"""Input and output shapes of the betting API."""

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from betting import events
from betting.engine.ladder import is_on_ladder
from betting.errors import StakeOutOfRange
from betting.models import Bet, BetStatus, Match, MatchStatus, OddsVersion, Selection
from betting.services import ACCEPT_MODES, ACCEPT_NONE, stake_check


@extend_schema_field(
    {
        "type": "object",
        "properties": {name: {"type": "number", "example": 2.1} for name in ("home", "draw", "away")},
        "required": ["home", "draw", "away"],
    }
)
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
        try:
            stake_check(value)  # the service's rule, reported with the other field errors
        except StakeOutOfRange as exc:
            raise serializers.ValidationError(exc.message) from None
        return value


class BetOutputSerializer(serializers.ModelSerializer[Bet]):
    match = serializers.IntegerField(source="match_id")
    odds = serializers.FloatField()

    class Meta:
        model = Bet
        fields = [
            "id",
            "match",
            "selection",
            "stake",
            "odds",
            "odds_version",
            "status",
            "payout",
            "created_at",
            "settled_at",
        ]


class BetListQuerySerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=BetStatus.choices, required=False)


class MatchCreateInputSerializer(serializers.Serializer[Any]):
    home_team = serializers.CharField(max_length=100)
    away_team = serializers.CharField(max_length=100)
    kickoff = serializers.DateTimeField()
    opening_odds = serializers.DictField(
        child=serializers.DecimalField(
            max_digits=7, decimal_places=2, min_value=Decimal("1.01"), max_value=Decimal("1000")
        ),
        help_text="Opening prices: {home, draw, away}, decimal odds on the price ladder.",
    )
    status = serializers.ChoiceField(choices=[MatchStatus.SCHEDULED, MatchStatus.OPEN], default=MatchStatus.SCHEDULED)

    def validate_opening_odds(self, value: dict[str, Decimal]) -> dict[str, Decimal]:
        if set(value) != set(Selection.values):
            raise serializers.ValidationError("Give exactly the prices of home, draw and away.")
        off_ladder = [name for name, price in value.items() if not is_on_ladder(price)]
        if off_ladder:
            raise serializers.ValidationError(f"Not prices of the ladder: {', '.join(sorted(off_ladder))}.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["home_team"].strip().lower() == attrs["away_team"].strip().lower():
            raise serializers.ValidationError({"away_team": ["A team cannot play itself."]})
        return attrs


class MatchSettleInputSerializer(serializers.Serializer[Any]):
    result = serializers.ChoiceField(choices=Selection.choices)
