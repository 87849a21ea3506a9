"""Input and output shapes of the payments API."""

from typing import Any

from rest_framework import serializers

from betting.api.serializers import StakeField
from config.api_input import JSONInputSerializer
from payments.models import Payment
from payments.providers import provider_names


class PaymentInputSerializer(JSONInputSerializer):
    amount = StakeField(help_text="Between PAYMENT_MIN_AMOUNT and PAYMENT_MAX_AMOUNT (1.00 and 10000.00 by default).")
    provider = serializers.ChoiceField(
        choices=[], required=False, help_text="A configured provider (PAYMENT_PROVIDERS); the default one if absent."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        provider = self.fields["provider"]
        assert isinstance(provider, serializers.ChoiceField)
        provider.choices = provider_names()  # read now: the settings name them


class PaymentOutputSerializer(serializers.ModelSerializer[Payment]):
    reference = serializers.UUIDField(read_only=True)

    class Meta:
        model = Payment
        fields = ["reference", "kind", "amount", "status", "provider", "failure_reason", "created_at", "settled_at"]


class CallbackOutputSerializer(serializers.Serializer[Any]):
    reference = serializers.UUIDField()
    status = serializers.CharField()
    applied = serializers.BooleanField(help_text="False when the callback repeated what was already recorded.")
