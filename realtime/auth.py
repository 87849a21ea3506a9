"""WebSocket authentication: the Django session cookie, or a JWT access token as `?token=`.

Browsers cannot set headers on a WebSocket handshake, so a token travels in the query
string (keep access tokens short-lived; Daphne's access log records the path, not the query).
A token, when present, decides: a valid one makes the socket its user's, an invalid or
expired one is recorded in `scope["auth_error"]` and the consumer closes the socket with
4401 and the reason, rather than silently downgrading it to anonymous. Without a token the
session (AuthMiddlewareStack) decides; anonymous sockets get public streams only.

A token issued before its user's credentials were revoked (sign-out, password change) is
refused too, and the scope records when the check started and when the token was issued and
expires, for `realtime.credentials` to end the socket with its credential.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken

from realtime.credentials import CHECKED_AT_KEY, EXPIRES_AT_KEY, ISSUED_AT_KEY, revoked_at

AUTH_ERROR_KEY = "auth_error"


@database_sync_to_async
def user_from_token(raw_token: str) -> tuple[Any, str | None, dict[str, float]]:
    """(user, None, {issued_at, expires_at}) for a valid access token of an active user whose
    credentials were not revoked since it was issued, else (AnonymousUser, reason, {})."""

    try:
        token = AccessToken(raw_token)  # type: ignore[arg-type]  # the stubs want bytes; str is accepted
    except TokenError as exc:
        return AnonymousUser(), f"invalid token: {exc}", {}
    user_id = token.get(api_settings.USER_ID_CLAIM)
    if user_id is None:
        return AnonymousUser(), "invalid token: no user id", {}
    user = get_user_model().objects.filter(**{api_settings.USER_ID_FIELD: user_id}).first()
    if user is None or not user.is_active:
        return AnonymousUser(), "invalid token: unknown or inactive user", {}
    issued_at = float(token.get("iat", 0))
    revoked = revoked_at(user.pk)
    # `iat` has microseconds in the API's tokens (accounts/tokens.py); a whole-second one of the very
    # second of a revocation counts as before it.
    if revoked is not None and issued_at <= revoked:
        return AnonymousUser(), "invalid token: revoked (signed out or password changed)", {}
    return user, None, {ISSUED_AT_KEY: issued_at, EXPIRES_AT_KEY: float(token["exp"])}


class TokenAuthMiddleware:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        tokens = query.get("token")
        if tokens:
            user, error, times = await user_from_token(tokens[0])
            scope = {**scope, "user": user, AUTH_ERROR_KEY: error, **times}
        return await self.inner(scope, receive, send)


class CredentialCheckClock:
    """Stamps when the credential check starts: a revocation seen after it may have been missed
    by the check, so `realtime.credentials` closes that socket once it registers."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        return await self.inner({**scope, CHECKED_AT_KEY: time.monotonic()}, receive, send)


def SessionOrTokenAuthMiddlewareStack(inner: Any) -> Any:  # named like channels' stacks
    return CredentialCheckClock(AuthMiddlewareStack(TokenAuthMiddleware(inner)))
