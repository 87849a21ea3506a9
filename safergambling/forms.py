"""The safer-gambling page's forms and the sign-up page's optional limits, submitted to the
same services as the API."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from django import forms

from safergambling.models import LimitKind, LimitPeriod
from safergambling.services import (
    REALITY_CHECK_MINUTES,
    SELF_EXCLUSION_MAX_MONTHS,
    SELF_EXCLUSION_MIN_MONTHS,
    TIMEOUT_MAX_DAYS,
)

# (kind, period, label) of every limit, in the order the pages show them.
LIMIT_ROWS = [
    (LimitKind.DEPOSIT, LimitPeriod.DAY, "Deposits per 24 hours"),
    (LimitKind.DEPOSIT, LimitPeriod.WEEK, "Deposits per 7 days"),
    (LimitKind.DEPOSIT, LimitPeriod.MONTH, "Deposits per 30 days"),
    (LimitKind.LOSS, LimitPeriod.DAY, "Losses per 24 hours"),
    (LimitKind.LOSS, LimitPeriod.WEEK, "Losses per 7 days"),
    (LimitKind.LOSS, LimitPeriod.MONTH, "Losses per 30 days"),
    (LimitKind.STAKE, LimitPeriod.BET, "Maximum stake per bet"),
]


def deposit_refusal_words(code: str, extra: dict[str, Any]) -> str | None:
    """A deposit refused by the account's own rules, in the wallet page's words (the service's
    message names ISO times and codes), or None for any other refusal. The page links to the
    safer-gambling page beside these words."""
    if code == "deposit_limit_reached":
        period = LimitPeriod(extra["period"]).label
        left = Decimal(extra["remaining"])
        if left > 0:
            return (
                f"This deposit would pass your deposit limit of {extra['limit']} over the last {period}: "
                f"you may deposit up to {extra['remaining']} now."
            )
        return f"You have reached your deposit limit of {extra['limit']} over the last {period}: no deposit now."
    if code in ("on_break", "self_excluded"):
        until = datetime.fromisoformat(extra["ends_at"])
        what = "taking a break" if code == "on_break" else "self-excluded"
        return (
            f"You are {what} until {until:%Y-%m-%d %H:%M} UTC: no deposit until it ends. "
            "You can still withdraw and see your history."
        )
    return None


def limit_field_name(kind: str, period: str) -> str:
    return f"{kind}_{period}"


class SignupLimitsForm(forms.Form):
    """Every limit, each optional: a new account is offered them all."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind, period, label in LIMIT_ROWS:
            self.fields[limit_field_name(kind, period)] = forms.DecimalField(
                label=label, required=False, max_digits=14, decimal_places=2, min_value=Decimal("0.01")
            )

    def limits(self) -> list[dict[str, Any]]:
        return [
            {"kind": kind, "period": period, "amount": self.cleaned_data[limit_field_name(kind, period)]}
            for kind, period, _label in LIMIT_ROWS
            if self.cleaned_data.get(limit_field_name(kind, period)) is not None
        ]


class LimitForm(forms.Form):
    kind = forms.ChoiceField(choices=LimitKind.choices)
    period = forms.ChoiceField(choices=LimitPeriod.choices)
    amount = forms.DecimalField(required=False, max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    remove = forms.BooleanField(required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("remove") and data.get("amount") is None and not self.errors:
            raise forms.ValidationError("Give an amount, or tick “remove”.")
        return data


class TimeoutForm(forms.Form):
    days = forms.IntegerField(min_value=1, max_value=TIMEOUT_MAX_DAYS)


class SelfExclusionForm(forms.Form):
    months = forms.IntegerField(min_value=SELF_EXCLUSION_MIN_MONTHS, max_value=SELF_EXCLUSION_MAX_MONTHS)
    confirm = forms.BooleanField(
        required=True, error_messages={"required": "Tick the box to confirm: it cannot be undone."}
    )


class RealityCheckForm(forms.Form):
    interval_minutes = forms.IntegerField(min_value=REALITY_CHECK_MINUTES[0], max_value=REALITY_CHECK_MINUTES[1])
