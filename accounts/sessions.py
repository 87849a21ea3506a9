"""Django's database sessions, with two additions:

- when a session ends (sign-out, a flush, a deletion), the WebSockets opened with it are
  closed on every web process;
- each session row records its user (`accounts.models.UserSession`), so that
  `user_sessions_end` can end every session of an account: its page sessions, its API refresh
  tokens and its sockets, as a time-out or a self-exclusion must.

`SESSION_ENGINE = "accounts.sessions"`. A session's expiry is handled by the socket itself
(`realtime.credentials`), which closes at the session's stored expiry date.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from realtime.credentials import session_sockets_close_on_commit, user_sockets_close_on_commit


class SessionStore(DatabaseSessionStore):
    @classmethod
    def get_model_class(cls) -> Any:
        # By name: the model names this store as its own (get_session_store_class), and an
        # import each way would be a circle.
        return apps.get_model("accounts", "UserSession")

    def create_model_instance(self, data: dict[str, Any]) -> Any:
        instance: Any = super().create_model_instance(data)
        try:
            instance.user_id = int(data[SESSION_KEY])
        except (KeyError, TypeError, ValueError):
            instance.user_id = None
        return instance

    def delete(self, session_key: str | None = None) -> None:
        key = session_key if session_key is not None else self.session_key
        super().delete(session_key)
        if key:
            session_sockets_close_on_commit(session_key=key, reason="session ended")


def refresh_tokens_revoke(*, user: User) -> int:
    """Blacklist every refresh token of the user still outstanding; returns how many."""
    outstanding = OutstandingToken.objects.filter(user=user).exclude(blacklistedtoken__isnull=False)
    revoked = 0
    for token in outstanding:
        BlacklistedToken.objects.get_or_create(token=token)
        revoked += 1
    return revoked


def user_sessions_end(*, user: User, reason: str) -> None:
    """End every session of the account: each page session is deleted (its sockets close),
    every refresh token is blacklisted, and every socket of the user closes on every web
    process once the transaction commits (access tokens issued before can open no new one)."""
    store = SessionStore()
    for key in store.get_model_class().objects.filter(user_id=user.pk).values_list("session_key", flat=True):
        store.delete(key)
    refresh_tokens_revoke(user=user)
    user_sockets_close_on_commit(user_id=user.pk, reason=reason)
