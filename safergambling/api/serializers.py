"""Input and output shapes of the safer-gambling API."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from betting.api.serializers import MONEY_STRING_SCHEMA, StakeField
from config.api_input import JSONInputSerializer
from safergambling.models import AuditEntry, Limit, LimitKind, LimitPeriod, Restriction
from safergambling.services import (
    REALITY_CHECK_MINUTES,
    SELF_EXCLUSION_MAX_MONTHS,
    SELF_EXCLUSION_MIN_MONTHS,
    TIMEOUT_MAX_DAYS,
)


@extend_schema_field({**MONEY_STRING_SCHEMA, "nullable": True})
class NullableMoneyField(StakeField):
    """A sum of money, or null; never "" (DRF would read an empty string as null)."""

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data == "":
            self.fail("invalid")
        return super().validate_empty_values(data)


class SignupLimitInputSerializer(JSONInputSerializer):
    kind = serializers.ChoiceField(choices=LimitKind.choices)
    period = serializers.ChoiceField(
        choices=LimitPeriod.choices, help_text="`day`, `week` or `month` for deposit and loss limits; `bet` for stake."
    )
    amount = StakeField(help_text="The limit, binding at once.")


class LimitInputSerializer(SignupLimitInputSerializer):
    amount = NullableMoneyField(allow_null=True, help_text="The limit; null removes it (after 24 hours).")


class LimitOutputSerializer(serializers.ModelSerializer[Limit]):
    amount = serializers.SerializerMethodField(help_text="What binds now (null: no limit).")
    pending = serializers.SerializerMethodField(
        help_text="An increase or removal asked for: its `amount` (null: removal) binds from `effective_at`."
    )

    class Meta:
        model = Limit
        fields = ["kind", "period", "amount", "pending"]

    def get_amount(self, limit: Limit) -> str | None:
        amount = limit.amount_at(self.context["now"])
        return None if amount is None else f"{amount:.2f}"

    def get_pending(self, limit: Limit) -> dict[str, Any] | None:
        if limit.pending_from is None or limit.pending_from <= self.context["now"]:
            return None
        amount = None if limit.pending_amount is None else f"{limit.pending_amount:.2f}"
        return {"amount": amount, "effective_at": limit.pending_from.isoformat()}


class TimeoutInputSerializer(JSONInputSerializer):
    days = serializers.IntegerField(min_value=1, max_value=TIMEOUT_MAX_DAYS, help_text="1 (24 hours) to 42 (6 weeks).")


class SelfExclusionInputSerializer(JSONInputSerializer):
    months = serializers.IntegerField(min_value=SELF_EXCLUSION_MIN_MONTHS, max_value=SELF_EXCLUSION_MAX_MONTHS)


class RestrictionOutputSerializer(serializers.ModelSerializer[Restriction]):
    class Meta:
        model = Restriction
        fields = ["kind", "starts_at", "ends_at"]


class AuditEntryOutputSerializer(serializers.ModelSerializer[AuditEntry]):
    actor = serializers.SerializerMethodField()

    class Meta:
        model = AuditEntry
        fields = ["action", "kind", "period", "old_value", "new_value", "effective_at", "created_at", "actor"]

    def get_actor(self, entry: AuditEntry) -> str:
        if entry.actor_id is None:
            return "system"
        return "you" if entry.actor_id == entry.user_id else "staff"


class SaferGamblingOutputSerializer(serializers.Serializer[Any]):
    restriction = RestrictionOutputSerializer(allow_null=True, help_text="The break in force, or null.")
    limits = LimitOutputSerializer(many=True)
    reality_check_minutes = serializers.IntegerField()
    audit = AuditEntryOutputSerializer(many=True, help_text="The latest 50 changes, newest first.")


class RealityCheckInputSerializer(JSONInputSerializer):
    interval_minutes = serializers.IntegerField(min_value=REALITY_CHECK_MINUTES[0], max_value=REALITY_CHECK_MINUTES[1])


class RealityCheckOutputSerializer(serializers.Serializer[Any]):
    session_started_at = serializers.DateTimeField()
    elapsed_seconds = serializers.IntegerField()
    interval_minutes = serializers.IntegerField()
    interval_seconds = serializers.IntegerField(
        help_text="How often the reminder comes: the account's minutes, unless REALITY_CHECK_SECONDS overrides them."
    )
    staked = serializers.DecimalField(max_digits=16, decimal_places=2)
    returned = serializers.DecimalField(max_digits=16, decimal_places=2)
    net_result = serializers.DecimalField(
        max_digits=16, decimal_places=2, help_text="Returned less staked since the session started."
    )
    limits_url = serializers.CharField()
