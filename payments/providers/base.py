"""What a payment provider is to the book: start a deposit or a withdrawal, and read the
callbacks that settle the ones it left pending.

A provider answers each start with an outcome: `completed` (the money has moved),
`pending` (it will call back) or `failed` (declined). It raises `ProviderUnavailable` when it
could not be reached at all. A provider that calls back implements `callback_parse`, which
checks the callback's signature before anything is read from it.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from config.parsers import json_loads_bounded
from payments.errors import CallbackMalformed, CallbackRejected

if TYPE_CHECKING:
    from payments.models import Payment

COMPLETED = "completed"
PENDING = "pending"
FAILED = "failed"


@dataclass(frozen=True)
class ProviderOutcome:
    """A provider's answer to a start: its own transaction id and where the payment stands."""

    status: str  # completed | pending | failed
    provider_reference: str
    reason: str = ""  # why it failed, in words the bettor may read


@dataclass(frozen=True)
class CallbackNotice:
    """What a verified callback says: which payment (ours and the provider's references) and
    how it ended. `amount`, when the provider states it, must be the payment's."""

    reference: str  # ours: Payment.reference, given to the provider at the start
    provider_reference: str
    status: str  # completed | failed
    amount: Decimal | None = None
    reason: str = ""


class PaymentProvider(ABC):
    """One configured provider (settings.PAYMENT_PROVIDERS[name])."""

    def __init__(self, name: str, **options: Any) -> None:
        self.name = name
        self.options = options

    @abstractmethod
    def deposit_start(self, payment: Payment) -> ProviderOutcome:
        """Ask the provider to take `payment.amount` from the bettor."""

    @abstractmethod
    def withdrawal_start(self, payment: Payment) -> ProviderOutcome:
        """Ask the provider to pay `payment.amount` out to the bettor."""

    def callback_parse(self, *, body: bytes, headers: Mapping[str, str]) -> CallbackNotice:
        """Verify and read one callback. Raises CallbackRejected when it is not the provider's."""
        raise CallbackRejected(f"The provider {self.name} sends no callbacks.")


# --- Signed callbacks: HMAC-SHA256 over the timestamp and the raw body -----------------
SIGNATURE_HEADER = "Oddstream-Signature"
SIGNATURE_TOLERANCE_SECONDS = 300  # an older signature is a replay, or a clock far off


def callback_signature(*, secret: str, body: bytes, timestamp: int) -> str:
    """The header value a provider sends with `body`: `t=<unix time>,v1=<hex HMAC>`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def callback_signature_verify(*, secret: str, body: bytes, header: str | None, now: float | None = None) -> None:
    """Refuse (CallbackRejected) a callback whose signature is missing, malformed, wrong, or
    older than the tolerance. Compared in constant time."""
    if not secret:
        raise CallbackRejected("Callbacks are refused: the provider has no secret configured.")
    try:
        fields = dict(part.split("=", 1) for part in (header or "").split(","))
        timestamp, given = int(fields["t"]), fields["v1"]
    except (ValueError, KeyError):
        raise CallbackRejected(f"Missing or malformed {SIGNATURE_HEADER} header.") from None
    if abs((time.time() if now is None else now) - timestamp) > SIGNATURE_TOLERANCE_SECONDS:
        raise CallbackRejected("The callback's signature is too old.")
    expected = callback_signature(secret=secret, body=body, timestamp=timestamp).split("v1=", 1)[1]
    if not hmac.compare_digest(expected, given):
        raise CallbackRejected("The callback's signature does not match.")


class SignedJSONCallbacks(PaymentProvider, ABC):
    """A provider whose callbacks are JSON bodies signed with `OPTIONS["SECRET"]`:
    `{"reference", "provider_reference", "status": "completed"|"failed", "amount": "50.00",
    "reason"}` with the `Oddstream-Signature` header. A provider with its own format
    overrides `callback_parse` instead."""

    def callback_parse(self, *, body: bytes, headers: Mapping[str, str]) -> CallbackNotice:
        callback_signature_verify(
            secret=str(self.options.get("SECRET", "")), body=body, header=headers.get(SIGNATURE_HEADER)
        )
        try:
            data = json_loads_bounded(body)  # nested too deep is a ValueError too, never a RecursionError
            notice = CallbackNotice(
                reference=str(data.get("reference") or ""),
                provider_reference=str(data.get("provider_reference") or ""),
                status=data["status"],
                amount=None if data.get("amount") is None else Decimal(str(data["amount"])),
                reason=str(data.get("reason") or ""),
            )
        except (ValueError, KeyError, TypeError, ArithmeticError, AttributeError):
            raise CallbackMalformed("The callback is not the JSON this provider sends.") from None
        if notice.status not in (COMPLETED, FAILED) or not (notice.reference or notice.provider_reference):
            raise CallbackMalformed("The callback names no payment, or an unknown status.")
        return notice
