"""Domain errors of payments, rendered by the API's one exception handler like every app's."""

from config.errors import ApplicationError, DependencyUnavailable


class PaymentError(ApplicationError):
    """A rule of payments refused the request; no money moved."""


class UnknownProvider(PaymentError):
    status_code = 400
    code = "invalid"


class PaymentDeclined(PaymentError):
    """The provider refused the payment: it ended failed and no money moved."""

    status_code = 402
    code = "payment_declined"


class PaymentNotFound(PaymentError):
    status_code = 404
    code = "not_found"


class PaymentAlreadySettled(PaymentError):
    """A callback contradicts a payment that already ended (completed, then failed): the
    provider and the book disagree, and staff must look; nothing is changed."""

    status_code = 409
    code = "payment_already_settled"


class PaymentAmountMismatch(PaymentError):
    status_code = 409
    code = "amount_mismatch"


class CallbackRejected(PaymentError):
    """The callback's signature is missing, wrong or too old: not from the provider."""

    status_code = 403
    code = "invalid_signature"


class CallbackMalformed(PaymentError):
    status_code = 400
    code = "malformed"


class PaymentIdempotencyKeyReused(PaymentError):
    status_code = 422
    code = "idempotency_key_reused"


class ProviderUnavailable(DependencyUnavailable):
    """The provider could not be reached, so nothing was sent: the payment ends failed and
    the API answers 503 with Retry-After."""

    def __init__(self, provider: str, message: str = "") -> None:
        super().__init__(f"payment provider {provider}", message)
