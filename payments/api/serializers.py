"""Input and output shapes of the payments API."""

from typing import Any

from rest_framework import serializers

from betting.api.serializers import StakeField
from config.api_input import JSONInputSerializer
from payments.models import Payment


class PaymentInputSerializer(JSONInputSerializer):
    amount = StakeField(help_text="Between PAYMENT_MIN_AMOUNT and PAYMENT_MAX_AMOUNT (1.00 and 10000.00 by default).")
    provider = serializers.CharField(
        required=False, max_length=32, help_text="A configured provider (PAYMENT_PROVIDERS); the default one if absent."
    )


class PaymentOutputSerializer(serializers.ModelSerializer[Payment]):
    reference = serializers.UUIDField(read_only=True)

    class Meta:
        model = Payment
        fields = ["reference", "kind", "amount", "status", "provider", "failure_reason", "created_at", "settled_at"]


class CallbackOutputSerializer(serializers.Serializer[Any]):
    reference = serializers.UUIDField()
    status = serializers.CharField()
    applied = serializers.BooleanField(help_text="False when the callback repeated what was already recorded.")
