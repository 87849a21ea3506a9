"""The feed's own credential: a provider token in `Authorization: Feed <token>`.

Not a bettor's JWT, nor a session: a request that authenticates as a user reaches the feed
endpoint as a user and is refused with 403. Tokens are random (256 bits) and kept as their
SHA-256 only. Failed checks are counted per client IP in the cache; past
FEED_AUTH_FAILURES_PER_MINUTE in a minute, the address gets 429 without a check (with the
cache down the failed request is a 503: the limit fails closed). A valid token never touches
the cache, so a provider's events do not depend on it.
"""

import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db import transaction
from rest_framework import exceptions, permissions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from config.client_ip import client_ip
from inplay.models import FeedProvider

SCHEME = "Feed"
FAILURE_WINDOW_SECONDS = 60


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def feed_provider_token_issue(*, name: str) -> str:
    """A new token for the provider `name` (created if new, reactivated if not); any token it
    had stops working. Returned once: only its digest is kept."""
    token = f"feed_{secrets.token_urlsafe(32)}"
    FeedProvider.objects.update_or_create(name=name, defaults={"token_sha256": token_digest(token), "active": True})
    return token


def provider_for_token(token: str) -> FeedProvider | None:
    return FeedProvider.objects.filter(token_sha256=token_digest(token), active=True).first()


def _failures_key(request: Request) -> str:
    return "feed-auth-failures:" + hashlib.sha256(client_ip(request).encode()).hexdigest()


class FeedTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[AnonymousUser, FeedProvider] | None:
        scheme, _, token = get_authorization_header(request).decode("latin-1").partition(" ")
        if scheme.lower() != SCHEME.lower():
            return None  # another scheme (a JWT): the next authenticator's
        key = _failures_key(request)
        if int(cache.get(key, 0)) >= settings.FEED_AUTH_FAILURES_PER_MINUTE:
            raise exceptions.Throttled(wait=FAILURE_WINDOW_SECONDS, detail="Too many failed feed tokens from here.")
        provider = provider_for_token(token.strip()) if token.strip() else None
        if provider is None:
            cache.add(key, 0, timeout=FAILURE_WINDOW_SECONDS)
            cache.incr(key)
            raise exceptions.AuthenticationFailed("Invalid or revoked feed token.")
        return AnonymousUser(), provider

    def authenticate_header(self, request: Request) -> str:
        return f'{SCHEME} realm="feed"'


class IsFeedProvider(permissions.BasePermission):
    message = "The feed takes a provider's feed token (`Authorization: Feed <token>`), not a user's credentials."

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, FeedProvider)
