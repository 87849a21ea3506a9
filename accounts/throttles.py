"""Limits on every way to try a credential that django-axes does not see.

django-axes counts failed password sign-ins (API token, session login, admin login). The
reset flow checks another credential, the reset token, and can be used to flood an inbox:
its requests are counted per client IP and per account and client IP together, in the Redis
cache. Never per account alone: whoever could spend an account's budget would then keep its
owner from resetting (five garbage confirms for a victim's uid made their own link a 429 for an
hour). Reset tokens are HMACs, so guessing one needs no per-account bound; the victim's inbox
has one of its own (`accounts.services.reset_mail_allowed`). These limits fail closed: with
Redis down the request is a 503 (see config.middleware), never unlimited.
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


class AuthAccountIpThrottle(SimpleRateThrottle):
    """Reset requests and confirmations per account and client IP together.

    The view names the account with `throttle_account(request)`; it is hashed with the address,
    so the cache holds no e-mail addresses."""

    scope = "auth_account_ip"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        account = str(view.throttle_account(request) or "").strip().lower()
        if not account:
            return None  # nothing to count against: the input is refused as invalid anyway
        ident = hashlib.sha256(f"{account}\n{self.get_ident(request)}".encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}


def signup_attempt_allowed(request: HttpRequest) -> bool:
    """The sign-up API's per-IP limit, applied to the sign-up page: sign-up tells whether an
    e-mail is registered (and in the demo opens a credit), so pages must not be a way around
    the API's limit."""
    view: Any = None  # the per-IP key does not depend on the view
    return AuthIpThrottle().allow_request(Request(request), view)


def reset_attempt_allowed(request: HttpRequest, *, account: str) -> bool:
    """The reset API's two limits, applied to the reset page (a plain Django form)."""
    view: Any = SimpleNamespace(throttle_account=lambda _request: account)
    drf_request = Request(request)
    return all(throttle.allow_request(drf_request, view) for throttle in (AuthIpThrottle(), AuthAccountIpThrottle()))
