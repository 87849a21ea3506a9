"""The safer-gambling page, `/me/safer-gambling/`: limits, a break, self-exclusion and the
reality check, through the same services as the API."""

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone

from safergambling import selectors, services
from safergambling.errors import SaferGamblingError
from safergambling.forms import LIMIT_ROWS, LimitForm, RealityCheckForm, SelfExclusionForm, TimeoutForm

FORMS: dict[str, type[forms.Form]] = {
    "limit": LimitForm,
    "timeout": TimeoutForm,
    "self_exclusion": SelfExclusionForm,
    "reality_check": RealityCheckForm,
}


def submit(user: User, action: str, data: dict[str, Any]) -> str:
    """Run one form's service; the message to show."""
    if action == "limit":
        amount = None if data["remove"] else data["amount"]
        limit = services.limit_set(user=user, kind=data["kind"], period=data["period"], amount=amount, actor=user)
        if limit.pending_from is not None and limit.pending_from > timezone.now():
            return f"Your change binds from {limit.pending_from:%Y-%m-%d %H:%M} UTC, 24 hours from now."
        return "Your limit binds now."
    if action == "reality_check":
        services.reality_check_set(user=user, minutes=data["interval_minutes"], actor=user)
        return f"The reality check now comes every {data['interval_minutes']} minutes."
    if action == "timeout":
        restriction = services.timeout_take(user=user, days=data["days"], actor=user)
    else:
        restriction = services.self_exclusion_take(user=user, months=data["months"], actor=user)
    return f"{restriction.get_kind_display()} until {restriction.ends_at:%Y-%m-%d %H:%M} UTC."


@login_required
def safer_gambling_page(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    action = request.POST.get("action", "")
    bound = FORMS[action](request.POST) if request.method == "POST" and action in FORMS else None
    status = 200
    if request.method == "POST":
        status = 400
        if bound is not None and bound.is_valid():
            try:
                message = submit(user, action, bound.cleaned_data)
            except SaferGamblingError as exc:
                bound.add_error(None, exc.message)
                status = exc.status_code
            else:
                if action in ("timeout", "self_exclusion"):
                    logout(request)  # the service ended every session; this one must not be saved again
                    return render(request, "frontend/break_started.html", {"message": message})
                messages.success(request, message)
                return HttpResponseRedirect(request.path)
    now = timezone.now()
    limits = {(limit.kind, limit.period): limit for limit in selectors.limit_list_for_user(user_id=user.pk)}
    rows = []
    for kind, period, label in LIMIT_ROWS:
        limit = limits.get((kind, period))
        pending = limit is not None and limit.pending_from is not None and limit.pending_from > now
        rows.append(
            {
                "kind": kind,
                "period": period,
                "label": label,
                "amount": limit.amount_at(now) if limit else None,
                "pending_amount": limit.pending_amount if pending and limit else None,
                "pending_from": limit.pending_from if pending and limit else None,
            }
        )
    context = {
        "rows": rows,
        "restriction": selectors.restriction_in_force(user_id=user.pk, now=now),
        "reality_check_minutes": selectors.reality_check_minutes_of(user_id=user.pk),
        "audit": selectors.audit_for_user(user_id=user.pk)[:50],
        "bound": bound,
        "action": action,
        "timeout_max_days": services.TIMEOUT_MAX_DAYS,
    }
    return render(request, "frontend/safer_gambling.html", context, status=status)
