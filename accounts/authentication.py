"""JWT authentication that ends with the credential, on HTTP as on WebSockets.

An access token lives JWT_ACCESS_SECONDS, and a sign-out only blacklists its refresh token:
before this check, a bet could be placed with the access token of a session that had signed
out. Every JWT-authenticated request now also asks whether the token was issued before its
user's credentials were last revoked (sign-out, password change or reset, deactivation). That
instant is the one `realtime.credentials` records in the cache for the sockets, read here by
the same key: one record, written once, checked by both.

simplejwt's own checks still run first, in the database: the user exists and is active, and
the token's password fingerprint (CHECK_REVOKE_TOKEN) matches the current password.

With Redis down the record cannot be read, and the check falls back to the database: the
access token's session (`accounts.tokens`) must still have a refresh token that is neither
blacklisted nor expired. That refuses a token whose own session signed out, or whose user
reset the password (every refresh token is blacklisted then); password changes and
deactivations are refused by simplejwt's checks above. It lets through, for the outage only,
the token of a session still signed in whose user signed out elsewhere. A token without a
session (not issued by the API) cannot be checked there and is refused. The request is never
a 500, and betting goes on through a Redis outage. A sign-out cannot happen during the outage
(503, nothing changed: `accounts.services.user_logout`), because the record it could not write
would be missing once Redis returns, and the signed-out session's access token let back in.
"""

import logging
from typing import Any

import redis
from django.core.cache import cache
from django.utils import timezone
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import Token

from accounts.tokens import SESSION_CLAIM
from realtime.credentials import revoked_key

logger = logging.getLogger(__name__)

REVOKED = "The token was revoked: its user signed out, changed the password or was deactivated."


def session_signed_in(*, user_id: int, session: str) -> bool:
    """Whether the session still has a refresh token that is neither blacklisted nor expired."""
    return OutstandingToken.objects.filter(
        user_id=user_id, jti__startswith=f"{session}.", expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
    ).exists()


def access_token_revoked(*, user_id: int, token: Token) -> bool:
    issued_at = float(token.get("iat", 0))
    try:
        revoked_at = cache.get(revoked_key(user_id))
    except redis.RedisError as exc:
        logger.warning("Revocation record of user %s unreadable (%s): checking the database", user_id, exc)
        session = token.get(SESSION_CLAIM)
        return not session or not session_signed_in(user_id=user_id, session=str(session))
    # The record is the instant of the revocation; a token issued at or before it is revoked.
    return revoked_at is not None and issued_at <= float(revoked_at)


class RevocationCheckedJWTAuthentication(JWTAuthentication):
    """simplejwt's JWTAuthentication, refusing (401 `token_revoked`) an access token issued
    before its user's credentials were revoked."""

    def get_user(self, validated_token: Token) -> Any:
        user = super().get_user(validated_token)
        if access_token_revoked(user_id=user.pk, token=validated_token):
            raise AuthenticationFailed(REVOKED, code="token_revoked")
        return user


class RevocationCheckedJWTScheme(SimpleJWTScheme):
    """The OpenAPI schema's `jwtAuth` (Bearer) for the class above, as for simplejwt's own."""

    target_class = "accounts.authentication.RevocationCheckedJWTAuthentication"
