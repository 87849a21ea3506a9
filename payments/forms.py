"""The wallet page's deposit and withdrawal forms, submitted to the same service as the API."""

import uuid
from typing import Any

from django import forms
from django.conf import settings

from payments.models import PaymentKind


class PaymentForm(forms.Form):
    kind = forms.ChoiceField(choices=PaymentKind.choices, widget=forms.HiddenInput)
    # One per rendered form: submitting it twice (a double click, a reload) pays once.
    idempotency_key = forms.CharField(max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The bounds are settings, read when the form is made (the service checks them too).
        self.fields["amount"] = forms.DecimalField(
            max_digits=14,
            decimal_places=2,
            min_value=settings.PAYMENT_MIN_AMOUNT,
            max_value=settings.PAYMENT_MAX_AMOUNT,
            widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
        )


def payment_forms(data: Any = None) -> dict[str, PaymentForm]:
    """A fresh deposit form and a fresh withdrawal form; the one submitted is bound to `data`."""
    submitted = data.get("kind") if data is not None else None
    return {
        kind: PaymentForm(
            data if kind == submitted else None, initial={"kind": kind, "idempotency_key": uuid.uuid4().hex}
        )
        for kind in PaymentKind.values
    }
