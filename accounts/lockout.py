"""Failed sign-ins: who gets locked out, and how an account under attack is slowed down.

django-axes counts failures (every `authenticate()`: the API's token, the login page, the
admin, HTTP Basic under DEBUG) and locks, for AXES_COOLOFF_TIME:

- an address, after SIGN_IN_FAILURE_LIMIT failures at any accounts;
- an address at one account, after SIGN_IN_FAILURE_LIMIT failures there, or only
  SIGN_IN_FAILURE_LIMIT_UNDER_ATTACK while the account is under attack.

Never an account alone: whoever could send wrong passwords for it could then keep its owner
out (eleven guesses from eleven addresses did, before). An account is under attack once it
has SIGN_IN_FAILURE_LIMIT failures from all addresses within the cool-off; from then on each
address may only try it a few times, so a distributed guesser is slowed down by the same
factor, while its owner, from an address that has not failed there, signs in at once.
A session or token already signed in is never touched by any of this.
"""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest
from django.utils import timezone


def username_of(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str | None:
    """The account a sign-in names, as stored (a lower-cased e-mail): `Demo@…` and `demo@…`
    are one account, so they share one count."""
    field = settings.AXES_USERNAME_FORM_FIELD
    raw = (credentials or {}).get(field)
    if raw is None and request is not None:
        raw = getattr(request, "POST", {}).get(field)
    return str(raw).strip().lower() if raw else None


def account_failures(username: str) -> int:
    """Failed sign-ins at the account, from every address, within the cool-off."""
    from axes.models import AccessAttempt

    since = timezone.now() - timedelta(seconds=settings.AXES_COOLOFF_TIME.total_seconds())
    attempts = AccessAttempt.objects.filter(username=username, attempt_time__gte=since)
    return int(attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0)


def failure_limit(request: HttpRequest, credentials: dict[str, Any] | None) -> int:
    """django-axes' AXES_FAILURE_LIMIT: lower while the account named is under attack."""
    username = username_of(request, credentials)
    if username and account_failures(username) >= settings.SIGN_IN_FAILURE_LIMIT:
        return int(settings.SIGN_IN_FAILURE_LIMIT_UNDER_ATTACK)
    return int(settings.SIGN_IN_FAILURE_LIMIT)
