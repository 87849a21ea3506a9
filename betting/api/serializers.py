"""Input and output shapes of the betting API."""

import math
import re
from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from betting import events
from betting.engine.ladder import is_on_ladder
from betting.engine.markets import ONE_X_TWO, UnknownMarket, market
from betting.errors import StakeOutOfRange
from betting.models import Bet, BetKind, BetLeg, BetStatus, CashoutQuote, Match, MatchStatus, OddsVersion, Selection
from betting.placement import ACCEPT_MODES, ACCEPT_NONE, stake_check
from betting.selectors import MARKETS
from betting.settlement import MAX_FINAL_GOALS
from config.api_input import JSONInputSerializer


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


MARKET_PRICES_SCHEMA = {
    "type": "object",
    "additionalProperties": {
        "type": "object",
        "additionalProperties": {"type": "number", "nullable": True, "example": 1.9},
    },
    "example": {"1x2": {"home": 2.1, "draw": 3.4, "away": 3.5}, "over_under_2_5": {"over": 1.9, "under": 1.9}},
}


@extend_schema_field(MARKET_PRICES_SCHEMA)
class MarketsField(serializers.Field):
    """Prices of every market by key, {"over_under_2_5": {"over": 1.9, "under": 1.9}, ...}, as JSON
    numbers; null where the selection is closed."""

    def to_representation(self, value: Any) -> Any:
        return {key: events.prices_as_numbers(prices) for key, prices in value.items()}


MARKET_FIELDS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "markets": MARKET_PRICES_SCHEMA,
        "market_status": {
            "type": "object",
            "additionalProperties": {"type": "string", "enum": ["open", "suspended", "closed", "settled", "void"]},
        },
        "max_stakes": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "additionalProperties": {"type": "string", "nullable": True, "format": "decimal", "example": "2500.00"},
            },
        },
        "decided": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "additionalProperties": {"type": "string", "enum": ["won", "lost", "void"]},
            },
            "example": {"over_under_0_5": {"over": "won", "under": "lost"}},
        },
    },
}


# Here and not in inplay, which fills the state: the match list shows it, and betting stands
# below inplay (docs/architecture.md), so the field reads the state through betting.events.
@extend_schema_field(
    {
        "type": "object",
        "nullable": True,
        "properties": {
            "period": {"type": "string", "enum": ["pre_match", "first_half", "half_time", "second_half", "full_time"]},
            "clock": {
                "type": "object",
                "properties": {
                    "minute": {"type": "integer", "nullable": True},
                    "text": {"type": "string", "example": "45+2'"},
                    "running": {"type": "boolean"},
                    "rate": {"type": "number"},
                },
            },
            "score": {"type": "object", "properties": {"home": {"type": "integer"}, "away": {"type": "integer"}}},
            "red_cards": {"type": "object", "properties": {"home": {"type": "integer"}, "away": {"type": "integer"}}},
            "seq": {"type": "integer", "description": "Events folded so far."},
        },
    }
)
class LiveStateField(serializers.Field):
    """A match's live state from its feed, None before its feed starts (given the match)."""

    def to_representation(self, value: Any) -> Any:
        return events.live_of(value)


class MatchOutputSerializer(serializers.ModelSerializer[Match]):
    odds = OddsField(source="current_prices")
    live = LiveStateField(source="*", help_text="The live state from the match's feed; null before it starts.")
    opening_odds = OddsField(source="opening_prices")
    version = serializers.IntegerField(source="odds_version")
    bets = serializers.IntegerField(source="bets_counted")
    score_prior = serializers.SerializerMethodField()
    markets = serializers.SerializerMethodField(help_text="Every market's prices by key (null: closed).")
    market_status = serializers.SerializerMethodField(help_text="Every market's status by key.")
    max_stakes = serializers.SerializerMethodField(help_text="The largest stake each selection takes now.")
    decided = serializers.SerializerMethodField(
        help_text="In play, the selections the score has already decided (closed): only the markets with one."
    )

    class Meta:
        model = Match
        fields = [
            "id",
            "home_team",
            "away_team",
            "kickoff",
            "status",
            "suspended_reason",
            "live",
            "result",
            "home_goals",
            "away_goals",
            "odds",
            "markets",
            "market_status",
            "max_stakes",
            "decided",
            "opening_odds",
            "version",
            "bets",
            "odds_updated_at",
            "asian_handicap_lines",
            "score_prior",
        ]

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                "home_goals": {"type": "number"},
                "away_goals": {"type": "number"},
                "rho": {"type": "number"},
                "source": {"type": "string", "enum": ["model", "trader"]},
                "fit_id": {"type": "integer", "nullable": True},
            },
        }
    )
    def get_score_prior(self, obj: Match) -> dict[str, Any]:
        """Where the prices come from: the expected goals behind them, not the matrix."""
        return {k: v for k, v in obj.score_prior.items() if k != "matrix"}

    @extend_schema_field(MARKET_FIELDS_SCHEMA["properties"]["markets"])
    def get_markets(self, obj: Match) -> dict[str, Any]:
        return markets_state_of(obj)["markets"]

    @extend_schema_field(MARKET_FIELDS_SCHEMA["properties"]["market_status"])
    def get_market_status(self, obj: Match) -> dict[str, Any]:
        return markets_state_of(obj)["market_status"]

    @extend_schema_field(MARKET_FIELDS_SCHEMA["properties"]["max_stakes"])
    def get_max_stakes(self, obj: Match) -> dict[str, Any]:
        return markets_state_of(obj)["max_stakes"]

    @extend_schema_field(MARKET_FIELDS_SCHEMA["properties"]["decided"])
    def get_decided(self, obj: Match) -> dict[str, Any]:
        return markets_state_of(obj)["decided"]


def markets_state_of(match: Match) -> dict[str, Any]:
    """Every market of the match as in the `odds` frames (the rows prefetched, or read once)."""
    return events.markets_state(match.market_rows.all())


class OddsVersionOutputSerializer(serializers.ModelSerializer[OddsVersion]):
    odds = serializers.SerializerMethodField()
    markets = MarketsField()

    class Meta:
        model = OddsVersion
        fields = ["version", "odds", "markets", "bets_counted", "computed_at", "pipeline_latency_ms"]

    def get_odds(self, obj: OddsVersion) -> dict[str, float | None]:
        return events.odds_as_numbers({"home": obj.home, "draw": obj.draw, "away": obj.away})


class DecimalStringField(serializers.DecimalField):
    """Money and opening prices in: a string with at most two decimals such as "25.00", never a
    JSON number (a float cannot hold every cent exactly), so what the schema says is what is
    accepted."""

    pattern = r"^\d{1,12}(?:\.\d{1,2})?$"

    def to_internal_value(self, data: Any) -> Decimal:
        if not isinstance(data, str) or not re.fullmatch(self.pattern, data):
            self.fail("invalid")
        return super().to_internal_value(data)


MONEY_STRING_SCHEMA = {"type": "string", "format": "decimal", "pattern": DecimalStringField.pattern, "example": "25.00"}


@extend_schema_field(MONEY_STRING_SCHEMA)
class StakeField(DecimalStringField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_digits=14, decimal_places=2, **kwargs)


class PriceField(DecimalStringField):
    """A price on the ladder's range, 1.01 to 1000, as a decimal string."""

    pattern = r"^\d{1,4}(?:\.\d{1,2})?$"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_digits=6, decimal_places=2, min_value=Decimal("1.01"), max_value=Decimal(1000), **kwargs)


PRICE_STRING_SCHEMA = {"type": "string", "format": "decimal", "pattern": PriceField.pattern, "example": "2.10"}
# A price sent in: a JSON number, as every response sends odds, or a decimal string.
PRICE_INPUT_SCHEMA = {
    "oneOf": [
        {"type": "number", "minimum": 1.01, "maximum": 1000, "multipleOf": 0.01, "example": 2.1},
        PRICE_STRING_SCHEMA,
    ]
}


@extend_schema_field(PRICE_INPUT_SCHEMA)
class PriceInputField(PriceField):
    """A price sent by a client: a JSON number, as every odds payload sends it, or a decimal
    string, so what the API returns can be sent back as it is. A float that differs from its
    two-decimal value by binary rounding noise only (2.1 is 2.100000000000000088...) is that
    value."""

    def to_internal_value(self, data: Any) -> Decimal:
        if isinstance(data, int | float) and not isinstance(data, bool):
            if isinstance(data, float) and math.isfinite(data) and math.isclose(data, round(data, 2), abs_tol=1e-9):
                data = round(data, 2)
            return serializers.DecimalField.to_internal_value(self, data)
        return super().to_internal_value(data)


class BetInputSerializer(JSONInputSerializer):
    match = serializers.IntegerField(min_value=1)
    market = serializers.CharField(
        max_length=40,
        default=ONE_X_TWO,
        help_text="A market key of the match (`1x2`, `double_chance`, `over_under_2_5`, `correct_score`, "
        "`asian_handicap_minus_0_5`, ... docs/bet-types.md). Omitted: `1x2`.",
    )
    selection = serializers.CharField(
        max_length=16,
        help_text="One of the market's selections: `home`/`draw`/`away` for 1X2, `over`/`under`, `yes`/`no`, "
        "`2-1` or `other` for correct score, ...",
    )
    stake = StakeField(help_text="Between BET_MIN_STAKE and BET_MAX_STAKE (0.10 and 10000.00 by default).")
    odds = PriceInputField(
        required=False, help_text="The price the bettor saw. Required unless `accept_odds_change` is `any`."
    )
    accept_odds_change = serializers.ChoiceField(choices=ACCEPT_MODES, default=ACCEPT_NONE)

    def validate_stake(self, value: Decimal) -> Decimal:
        try:
            stake_check(value)  # the service's rule, reported with the other field errors
        except StakeOutOfRange as exc:
            raise serializers.ValidationError(exc.message) from None
        return value

    def validate_market(self, value: str) -> str:
        try:
            market(value)
        except UnknownMarket:
            raise serializers.ValidationError(f"Unknown market {value!r} (docs/bet-types.md lists them).") from None
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        selections = market(attrs["market"]).selections
        if attrs["selection"] not in selections:
            raise serializers.ValidationError(
                {"selection": [f"{attrs['market']} has the selections {', '.join(selections)}."]}
            )
        return attrs


class LegInputSerializer(JSONInputSerializer):
    """One leg of an accumulator: a selection of a market of a match, and the price seen."""

    match = serializers.IntegerField(min_value=1)
    market = serializers.CharField(max_length=40, default=ONE_X_TWO, help_text="A market key; omitted: `1x2`.")
    selection = serializers.CharField(max_length=16)
    odds = PriceInputField(
        required=False, help_text="The price the bettor saw of this leg. Required unless `accept_odds_change` is `any`."
    )

    validate_market = BetInputSerializer.validate_market

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        return BetInputSerializer.validate(self, attrs)  # type: ignore[arg-type]


class AccumulatorInputSerializer(JSONInputSerializer):
    """An accumulator: 2 to ACCUMULATOR_MAX_LEGS legs on different matches, one stake."""

    legs = LegInputSerializer(many=True, help_text="2 to 10 legs (ACCUMULATOR_MAX_LEGS), each on a different match.")
    stake = StakeField(help_text="Between BET_MIN_STAKE and BET_MAX_STAKE (0.10 and 10000.00 by default).")
    accept_odds_change = serializers.ChoiceField(
        choices=ACCEPT_MODES, default=ACCEPT_NONE, help_text="Applies to each leg's price."
    )

    validate_stake = BetInputSerializer.validate_stake


class LegOutputSerializer(serializers.ModelSerializer[BetLeg]):
    match = serializers.IntegerField(source="match_id")
    odds = serializers.FloatField()

    class Meta:
        model = BetLeg
        fields = ["match", "market", "selection", "odds", "odds_version", "status"]


class BetOutputSerializer(serializers.ModelSerializer[Bet]):
    match = serializers.IntegerField(source="match_id", allow_null=True, help_text="Null for an accumulator.")
    odds = serializers.FloatField(help_text="The price struck; an accumulator's combined odds.")
    legs = LegOutputSerializer(many=True, read_only=True, help_text="An accumulator's legs; empty for a single.")

    class Meta:
        model = Bet
        fields = [
            "id",
            "kind",
            "match",
            "market",
            "selection",
            "stake",
            "odds",
            "odds_version",
            "status",
            "reason",
            "decide_at",
            "payout",
            "created_at",
            "settled_at",
            "legs",
        ]
        extra_kwargs = {
            "status": {
                "help_text": "`pending` (in play: waiting out the bet delay, the stake held), then `open` "
                "(accepted, the stake debited) or `rejected` (the hold released); `won`, `lost`, `void` once settled."
            },
            "reason": {
                "help_text": "Why a pending bet was rejected: `suspended_during_delay`, `odds_changed`, `timed_out`, "
                "`market_closed`, `stake_too_high` or the account's own refusal. Empty otherwise."
            },
            "decide_at": {"help_text": "In play: when the bet delay ends and the bet is decided. Null pre-match."},
        }


class _BetFieldsOutputSerializer(BetOutputSerializer):
    """BetOutputSerializer's fields but `legs`, for `bet_reply`."""

    legs = None  # type: ignore[assignment]

    class Meta(BetOutputSerializer.Meta):
        fields = [name for name in BetOutputSerializer.Meta.fields if name != "legs"]


_bet_fields_output = _BetFieldsOutputSerializer()


def bet_reply(bet: Bet) -> dict[str, Any]:
    """`BetOutputSerializer(bet).data`, the same shape and values, cheaper: the reply to every
    bet placed. One serializer instance serves the process (building a ModelSerializer's
    fields anew, per bet, cost more than the rest of the rendering), and a single's legs
    (none) are known without a query."""
    reply = _bet_fields_output.to_representation(bet)
    legs = bet.legs.all() if bet.kind == BetKind.ACCUMULATOR else ()
    reply["legs"] = list(LegOutputSerializer(legs, many=True).data) if legs else []
    return reply


# What a new match may start as: betting not yet open, or open at once.
MATCH_CREATE_STATUSES = [(MatchStatus.SCHEDULED.value, "Scheduled"), (MatchStatus.OPEN.value, "Open")]


@extend_schema_field(
    {
        "type": "object",
        "properties": dict.fromkeys(Selection.values, PRICE_INPUT_SCHEMA),
        "required": Selection.values,
        "additionalProperties": False,
    }
)
class OpeningOddsField(serializers.DictField):
    """Opening prices, each a JSON number (as the API returns odds) or a decimal string."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=PriceInputField(), **kwargs)


class MatchCreateInputSerializer(JSONInputSerializer):
    home_team = serializers.CharField(max_length=100)
    away_team = serializers.CharField(max_length=100)
    kickoff = serializers.DateTimeField()
    opening_odds = OpeningOddsField(
        required=False,
        help_text="A trader's opening prices of home, draw and away (decimal odds on the ladder, 1.01 to 1000, "
        "each a JSON number or a decimal string): every market is then priced from the score distribution they "
        "stand for, and the override is recorded. Omitted: the team model prices the match (400 if it has no "
        "ratings for the teams).",
    )
    league = serializers.CharField(
        max_length=40, required=False, help_text="The teams' league for the team model (default: the home team's)."
    )
    status = serializers.ChoiceField(choices=MATCH_CREATE_STATUSES, default=MatchStatus.SCHEDULED)

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


class MatchSettleInputSerializer(JSONInputSerializer):
    """The final score, which every market settles from. The 1X2 `result` alone cannot settle
    the other markets (totals, correct score, handicaps), so it is refused."""

    home_goals = serializers.IntegerField(min_value=0, max_value=MAX_FINAL_GOALS)
    away_goals = serializers.IntegerField(min_value=0, max_value=MAX_FINAL_GOALS)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict) and "result" in data and "home_goals" not in data:
            message = (
                "Give the final score (home_goals, away_goals): every market settles from it, "
                "and the 1X2 result alone cannot settle totals, correct score or handicaps."
            )
            raise serializers.ValidationError({"home_goals": [message], "away_goals": [message]})
        return super().to_internal_value(data)


class CashoutQuoteOutputSerializer(serializers.ModelSerializer[CashoutQuote]):
    quote = serializers.UUIDField(source="id")
    bet = serializers.IntegerField(source="bet_id")

    class Meta:
        model = CashoutQuote
        fields = ["quote", "bet", "amount", "created_at", "expires_at"]


class CashoutPendingOutputSerializer(serializers.ModelSerializer[CashoutQuote]):
    """An in-play acceptance waiting out the bet delay (as its `cashout_decision` frames show it)."""

    quote = serializers.UUIDField(source="id")
    bet = serializers.IntegerField(source="bet_id")
    status = serializers.SerializerMethodField()

    class Meta:
        model = CashoutQuote
        fields = ["quote", "bet", "amount", "status", "reason", "requested_at", "decide_at"]

    def get_status(self, quote: CashoutQuote) -> str:
        return events.cashout_decision_status(quote)


class CashoutAcceptInputSerializer(JSONInputSerializer):
    quote = serializers.UUIDField(help_text="The id of a quote of this bet, within its validity.")


# --- Filters of the bettor's bets (the list, the CSV export and the pages) -------------------
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
        choices=[(kind, kind) for kind in MARKETS], required=False, help_text="A market kind, e.g. `1x2`."
    )


def history_filters(serializer_class: type[DateRangeSerializer], params: Any) -> dict[str, Any]:
    """The validated filters of a query string (a 400 naming the bad one). A plain dict: DRF
    reads an empty value (`?status=`) as absent, the schema as invalid."""
    query = serializer_class(data=params.dict())
    query.is_valid(raise_exception=True)
    return dict(query.validated_data)
