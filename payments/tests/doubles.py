"""Providers that behave as real ones do, for tests: pending then a signed callback, a
decline, an outage. Configured with `payment_providers` (conftest)."""

import json
import time

from payments.errors import ProviderUnavailable
from payments.models import Payment
from payments.providers.base import (
    FAILED,
    PENDING,
    ProviderOutcome,
    SignedJSONCallbacks,
    callback_signature,
)

SECRET = "test-callback-secret"


class PendingThenCallbackProvider(SignedJSONCallbacks):
    """Answers every start `pending` with a transaction id of its own; the test then plays
    the provider and posts the signed callback that settles it."""

    def deposit_start(self, payment: Payment) -> ProviderOutcome:
        return ProviderOutcome(status=PENDING, provider_reference=f"psp-{payment.reference}")

    def withdrawal_start(self, payment: Payment) -> ProviderOutcome:
        return ProviderOutcome(status=PENDING, provider_reference=f"psp-{payment.reference}")


class DecliningProvider(SignedJSONCallbacks):
    def deposit_start(self, payment: Payment) -> ProviderOutcome:
        return ProviderOutcome(status=FAILED, provider_reference=f"psp-{payment.reference}", reason="card declined")

    def withdrawal_start(self, payment: Payment) -> ProviderOutcome:
        return ProviderOutcome(status=FAILED, provider_reference=f"psp-{payment.reference}", reason="account closed")


class UnreachableProvider(SignedJSONCallbacks):
    def deposit_start(self, payment: Payment) -> ProviderOutcome:
        raise ProviderUnavailable(self.name, "connection refused")

    def withdrawal_start(self, payment: Payment) -> ProviderOutcome:
        raise ProviderUnavailable(self.name, "connection refused")


PROVIDERS = {
    "instant": {"BACKEND": "payments.providers.instant.InstantProvider", "OPTIONS": {}},
    "psp": {"BACKEND": "payments.tests.doubles.PendingThenCallbackProvider", "OPTIONS": {"SECRET": SECRET}},
    "declining": {"BACKEND": "payments.tests.doubles.DecliningProvider", "OPTIONS": {"SECRET": SECRET}},
    "unreachable": {"BACKEND": "payments.tests.doubles.UnreachableProvider", "OPTIONS": {"SECRET": SECRET}},
}


def callback_body(payment: Payment, status: str, **overrides: object) -> bytes:
    body = {
        "reference": str(payment.reference),
        "provider_reference": f"psp-{payment.reference}",
        "status": status,
        "amount": f"{payment.amount:.2f}",
        **overrides,
    }
    return json.dumps(body).encode()


def signed_headers(body: bytes, *, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    signature = callback_signature(
        secret=secret, body=body, timestamp=int(time.time()) if timestamp is None else timestamp
    )
    return {"HTTP_ODDSTREAM_SIGNATURE": signature}


def post_callback(client, payment: Payment, status: str, *, provider: str = "psp", **overrides: object):
    body = callback_body(payment, status, **overrides)
    return client.post(
        f"/api/payments/callbacks/{provider}/", data=body, content_type="application/json", **signed_headers(body)
    )
