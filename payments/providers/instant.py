"""The demo's provider: every deposit and withdrawal settles at once, with no card or bank
behind it. It sends no callbacks."""

import uuid

from payments.models import Payment
from payments.providers.base import COMPLETED, PaymentProvider, ProviderOutcome


class InstantProvider(PaymentProvider):
    def deposit_start(self, payment: Payment) -> ProviderOutcome:
        return ProviderOutcome(status=COMPLETED, provider_reference=f"instant-{uuid.uuid4()}")

    def withdrawal_start(self, payment: Payment) -> ProviderOutcome:
        return ProviderOutcome(status=COMPLETED, provider_reference=f"instant-{uuid.uuid4()}")
