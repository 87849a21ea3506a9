"""Django's database sessions, with one addition: when a session ends (sign-out, a flush, a
deletion), the WebSockets opened with it are closed on every web process.

`SESSION_ENGINE = "accounts.sessions"`. A session's expiry is handled by the socket itself
(`realtime.credentials`), which closes at the session's stored expiry date.
"""

from __future__ import annotations

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore

from realtime.credentials import session_sockets_close_on_commit


class SessionStore(DatabaseSessionStore):
    def delete(self, session_key: str | None = None) -> None:
        key = session_key if session_key is not None else self.session_key
        super().delete(session_key)
        if key:
            session_sockets_close_on_commit(session_key=key, reason="session ended")
