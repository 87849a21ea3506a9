"""The JWTs the API issues: simplejwt's, with two additions the revocation check relies on.

- `iat` keeps its fraction of a second. A revocation is recorded to the microsecond
  (`realtime.credentials`), and a token issued before it is refused; with whole seconds, a
  sign-in in the very second after a sign-out would get a token refused for its whole life.
- A sign-in starts a session (the `sid` claim, copied into every access token and kept by
  rotation), and every refresh token's id starts with it (`<sid>.<random>`). So the database
  can tell whether the session an access token came from has ended (its refresh tokens all
  blacklisted or expired) without Redis: `accounts.authentication` reads it when Redis is down.
"""

from datetime import datetime
from uuid import uuid4

from rest_framework_simplejwt import serializers, tokens
from rest_framework_simplejwt.settings import api_settings

SESSION_CLAIM = "sid"


def session_of_jti(jti: str) -> str:
    return jti.split(".", 1)[0]


class AccessToken(tokens.AccessToken):
    def set_iat(self, claim: str = "iat", at_time: datetime | None = None) -> None:
        self.payload[claim] = (at_time or self.current_time).timestamp()


class RefreshToken(tokens.RefreshToken):
    access_token_class = AccessToken

    def set_iat(self, claim: str = "iat", at_time: datetime | None = None) -> None:
        self.payload[claim] = (at_time or self.current_time).timestamp()

    def set_jti(self) -> None:
        """A new id in the token's session (a new session for a new token)."""
        session = self.payload.setdefault(SESSION_CLAIM, uuid4().hex)
        self.payload[api_settings.JTI_CLAIM] = f"{session}.{uuid4().hex}"


# simplejwt's refresh and rotation, issuing the tokens above. (Named as simplejwt's, with no
# docstring: the OpenAPI schema's component stays `TokenRefreshRequest`.)
class TokenRefreshSerializer(serializers.TokenRefreshSerializer):
    token_class = RefreshToken
