"""Input and output shapes of the feed API."""

from datetime import timedelta
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from betting.api.serializers import LiveStateField
from config.api_input import JSONInputSerializer
from inplay.state import MAX_CLOCK_RATE, Kind

TEAM_KINDS = (Kind.GOAL, Kind.RED_CARD, Kind.PENALTY)
# A provider's clock may run a little ahead of ours; an event further in the future is a bug.
CLOCK_SKEW_ALLOWED = timedelta(minutes=5)
TEAMS = [("home", "Home"), ("away", "Away")]
FEED_EVENT_KINDS = [(kind.value, kind.value.replace("_", " ")) for kind in Kind]


class FinalScoreSerializer(JSONInputSerializer):
    home = serializers.IntegerField(min_value=0, max_value=99)
    away = serializers.IntegerField(min_value=0, max_value=99)


class FeedEventInputSerializer(JSONInputSerializer):
    event_id = serializers.RegexField(
        r"^[A-Za-z0-9._:-]{1,100}$",
        help_text="The provider's id of the event: the same id posted again is a duplicate and changes nothing.",
    )
    match = serializers.IntegerField(min_value=1)
    sequence = serializers.IntegerField(
        min_value=1,
        max_value=2**53,
        help_text="The provider's sequence number within the match: the log is folded in this order.",
    )
    kind = serializers.ChoiceField(choices=FEED_EVENT_KINDS)
    occurred_at = serializers.DateTimeField(help_text="When the event happened, by the provider's clock.")
    team = serializers.ChoiceField(
        choices=TEAMS, required=False, help_text="Goal, red card, penalty: the team it is for."
    )
    minute = serializers.IntegerField(
        min_value=0, max_value=130, required=False, help_text="The match clock (required for goal and red card)."
    )
    cancels = serializers.RegexField(
        r"^[A-Za-z0-9._:-]{1,100}$", required=False, help_text="Goal disallowed: the event id of the goal."
    )
    score = FinalScoreSerializer(required=False, help_text="Result correction: the final score.")
    clock_rate = serializers.FloatField(
        min_value=0.1,
        max_value=MAX_CLOCK_RATE,
        required=False,
        help_text="Kick-off: match minutes per real minute (1, unless a replay runs faster).",
    )

    # What each kind needs, and what only some kinds may carry.
    REQUIRED = {
        Kind.GOAL: ("team", "minute"),
        Kind.RED_CARD: ("team", "minute"),
        Kind.PENALTY: ("team",),
        Kind.GOAL_DISALLOWED: ("cancels",),
        Kind.RESULT_CORRECTION: ("score",),
    }
    ONLY_FOR = {"team": TEAM_KINDS, "cancels": (Kind.GOAL_DISALLOWED,), "score": (Kind.RESULT_CORRECTION,)}
    ONLY_FOR["clock_rate"] = (Kind.KICK_OFF,)

    def validate_occurred_at(self, value: Any) -> Any:
        if value > timezone.now() + CLOCK_SKEW_ALLOWED:
            raise serializers.ValidationError("More than 5 minutes in the future.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        kind = Kind(attrs["kind"])
        errors = {name: [f"Required for {kind.value}."] for name in self.REQUIRED.get(kind, ()) if name not in attrs}
        for name, kinds in self.ONLY_FOR.items():
            if name in attrs and kind not in kinds:
                errors[name] = [f"Only for {', '.join(k.value for k in kinds)}."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class FeedEventOutputSerializer(serializers.Serializer[Any]):
    id = serializers.CharField()
    sequence = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=FEED_EVENT_KINDS)
    team = serializers.CharField(allow_null=True)
    minute = serializers.IntegerField(allow_null=True)
    occurred_at = serializers.DateTimeField()
    cancels = serializers.CharField(required=False)
    score = FinalScoreSerializer(required=False)


class TimelineEventSerializer(FeedEventOutputSerializer):
    applied = serializers.BooleanField(help_text="Whether the event counts in the fold of the log.")
    ignored_because = serializers.CharField(allow_null=True, help_text="Why it does not count (e.g. after full time).")


class FeedEventReplySerializer(serializers.Serializer[Any]):
    event = FeedEventOutputSerializer()
    duplicate = serializers.BooleanField(help_text="The event was in the log already: nothing changed.")


class MatchTimelineSerializer(serializers.Serializer[Any]):
    match = serializers.IntegerField()
    status = serializers.CharField()
    suspended_reason = serializers.CharField()
    live = LiveStateField(source="*")
    events = TimelineEventSerializer(many=True)
