"""Limits on every way to try a credential that django-axes does not see.

django-axes counts failed password sign-ins (API token, session login, admin login). The
reset flow checks another credential, the reset token, and can be used to flood an inbox:
its requests are counted per client IP and per account, in the Redis cache. These limits
fail closed: with Redis down the request is a 503 (see config.middleware), never unlimited.
"""

import hashlib
from types import SimpleNamespace
from typing import Any

from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle


class AuthIpThrottle(SimpleRateThrottle):
    """Sign-ups, sign-ins and resets per client IP (NUM_PROXIES decides which address)."""

    scope = "auth"

    def get_cache_key(self, request: Request, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class AuthAccountThrottle(SimpleRateThrottle):
    """Reset requests and confirmations per account, whatever the address they come from.

    The view names the account with `throttle_account(request)`; it is hashed, so the cache
    holds no e-mail addresses."""

    scope = "auth_account"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        account = str(view.throttle_account(request) or "").strip().lower()
        if not account:
            return None  # nothing to count against: the input is refused as invalid anyway
        return self.cache_format % {"scope": self.scope, "ident": hashlib.sha256(account.encode()).hexdigest()}


def signup_attempt_allowed(request: HttpRequest) -> bool:
    """The sign-up API's per-IP limit, applied to the sign-up page: every account opens with
    a credit, so pages must not be a way around the API's limit."""
    view: Any = None  # the per-IP key does not depend on the view
    return AuthIpThrottle().allow_request(Request(request), view)


def reset_attempt_allowed(request: HttpRequest, *, account: str) -> bool:
    """The reset API's two limits, applied to the reset page (a plain Django form)."""
    view: Any = SimpleNamespace(throttle_account=lambda _request: account)
    drf_request = Request(request)
    return all(throttle.allow_request(drf_request, view) for throttle in (AuthIpThrottle(), AuthAccountThrottle()))
