"""A socket's authority ends with its credential.

A socket is authorised once, at the handshake; afterwards:

- a JWT socket is closed (4401) at its token's `exp`, a session socket at its session's expiry;
- `user_sockets_close_on_commit` (sign-out, password change or reset, deactivation) closes
  every socket of a user in every web process: after the transaction commits it records in
  the cache that the user's credentials were revoked at this instant (kept as long as an access
  token lives, so a JWT issued before can open no new socket), then PUBLISHes a note on
  `{prefix}:stream:revoke`;
- `session_sockets_close_on_commit` does the same for the sockets opened with one session
  (flushed or deleted); the note names the session by a hash, never by its key.

Each web process holds one subscription to that channel (`Revocations`, started with the first
authenticated socket; `realtime.reconnect` rules) and closes the named sockets it holds. A note that lands between a
socket's credential check and its registration is caught too: notes are remembered for a
while, and a socket whose check started before a matching note is closed on registration.
Notes published while a process had lost Redis are lost, so after reconnecting the process
checks every socket it holds against the database and the revocation records.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from importlib import import_module
from typing import Any, Protocol

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.module_loading import import_string
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from realtime import connections, streams
from realtime.publisher import publish_now
from realtime.reconnect import subscribe_forever

logger = logging.getLogger(__name__)

REVOKE_STREAM = "revoke"  # not a client stream: web processes only
RECENT_NOTES_SECONDS = 30.0  # far longer than a handshake's credential check takes
CHECKED_AT_KEY = "auth_checked_at"  # scope: monotonic time the credential check started
ISSUED_AT_KEY = "auth_issued_at"  # scope: wall time the credential was issued (JWT `iat`)
EXPIRES_AT_KEY = "auth_expires_at"  # scope: wall time the credential ends (JWT `exp`)

streams.control_stream_declare(REVOKE_STREAM)


def session_hash(session_key: str) -> str:
    return hashlib.sha256(session_key.encode()).hexdigest()[:32]


def revoked_key(user_id: int) -> str:
    return f"{settings.REALTIME_PREFIX}:credentials-revoked:{user_id}"


# --- Revoking (any process: web, worker, shell) --------------------------------
def user_sockets_close_on_commit(*, user_id: int, reason: str) -> None:
    transaction.on_commit(lambda: user_sockets_close(user_id=user_id, reason=reason))


def session_sockets_close_on_commit(*, session_key: str, reason: str) -> None:
    hashed = session_hash(session_key)
    transaction.on_commit(lambda: revocation_publish({"session": hashed, "reason": reason}))


def revocation_record(user_id: int) -> None:
    """Record that the user's credentials are revoked as of now, kept as long as an access token
    lives. Raises what the cache raises (Redis down): a caller whose change must not be
    forgotten by the revocation check (`accounts.services.user_logout`) lets it end the change."""
    lifetime = jwt_settings.ACCESS_TOKEN_LIFETIME.total_seconds()
    connections.process_cache().set(revoked_key(user_id), time.time(), timeout=int(lifetime) + 60)


def user_sockets_close(*, user_id: int, reason: str) -> None:
    """Revoke now: record the instant, then tell every web process."""
    try:
        revocation_record(user_id)
    except Exception:  # the note below still closes the open sockets
        logger.exception("Could not record the revocation of user %s's credentials", user_id)
    revocation_publish({"user": user_id, "reason": reason})


def revocation_publish(note: dict[str, Any]) -> None:
    publish_now(REVOKE_STREAM, note)  # the process's warm connection pool


def revoked_at(user_id: int) -> float | None:
    """When the user's credentials were last revoked (within an access token's lifetime).

    Read through the process's one instance of the cache (`realtime.connections.process_cache`):
    a socket's handshake runs in an async context of its own, where `django.core.cache.cache`
    would make a new client, and keep a Redis connection open for as long as the socket lives.
    Without the cache (Redis down) this answers None: the database checks (active user,
    session) still hold, and no open socket gets events without Redis anyway."""
    try:
        value = connections.process_cache().get(revoked_key(user_id))
    except Exception:
        logger.warning("Could not read the revocation record of user %s", user_id, exc_info=True)
        return None
    return float(value) if value is not None else None


def private_feed_refusal(user_id: int) -> str | None:
    """Why the user's sockets may carry no private events now (a check of
    REALTIME_PRIVATE_FEED_CHECKS refuses, e.g. a time-out), or None. Such a socket still
    opens, with public streams only."""
    for path in settings.REALTIME_PRIVATE_FEED_CHECKS:
        reason = import_string(path)(user_id)
        if reason is not None:
            return str(reason)
    return None


# --- The sockets of this process -------------------------------------------------
class Revocable(Protocol):
    user_id: int | None
    session_key: str | None
    checked_at: float  # monotonic, when the credential check started
    issued_at: float  # wall time the credential was issued (a session: when it was checked)

    async def credentials_ended(self, reason: str) -> None:
        """Close the socket with 4401 and the reason."""


class Revocations:
    def __init__(self) -> None:
        self._by_user: dict[int, set[Revocable]] = defaultdict(set)
        self._by_session: dict[str, set[Revocable]] = defaultdict(set)
        self._recent: dict[tuple[str, object], tuple[float, str]] = {}  # key -> (monotonic, reason)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    @staticmethod
    def _keys(socket: Revocable) -> list[tuple[str, object]]:
        keys: list[tuple[str, object]] = []
        if socket.user_id is not None:
            keys.append(("user", socket.user_id))
        if socket.session_key:
            keys.append(("session", session_hash(socket.session_key)))
        return keys

    def listen(self) -> None:
        """Listen for revocation notes on the running loop, from now on."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop, self.connected = loop, asyncio.Event()
            self._task = loop.create_task(self._listen())

    def add(self, socket: Revocable) -> str | None:
        """Watch the socket; the reason if its credential was revoked while it was being checked."""
        for key in self._keys(socket):
            recent = self._recent.get(key)
            if recent is not None and recent[0] >= socket.checked_at:
                return recent[1]
        if socket.user_id is not None:
            self._by_user[socket.user_id].add(socket)
        if socket.session_key:
            self._by_session[session_hash(socket.session_key)].add(socket)
        return None

    def remove(self, socket: Revocable) -> None:
        for kind, value in self._keys(socket):
            index: dict[Any, set[Revocable]] = self._by_user if kind == "user" else self._by_session
            members = index.get(value)
            if members is not None:
                members.discard(socket)
                if not members:
                    del index[value]

    def watched(self) -> int:
        return len({s for group in (*self._by_user.values(), *self._by_session.values()) for s in group})

    async def apply(self, note: dict[str, Any]) -> None:
        now = time.monotonic()
        self._recent = {k: v for k, v in self._recent.items() if now - v[0] < RECENT_NOTES_SECONDS}
        reason = f"credentials revoked: {note.get('reason') or 'signed out'}"
        targets: set[Revocable] = set()
        if note.get("user") is not None:
            user_id = int(note["user"])
            self._recent[("user", user_id)] = (now, reason)
            targets |= self._by_user.get(user_id, set())
        if note.get("session"):
            self._recent[("session", str(note["session"]))] = (now, reason)
            targets |= self._by_session.get(str(note["session"]), set())
        await self._close(targets, reason)

    async def _close(self, sockets: Iterable[Revocable], reason: str) -> None:
        for socket in list(sockets):
            self.remove(socket)
            try:
                await socket.credentials_ended(reason)
            except Exception:
                logger.exception("Closing a revoked socket failed")

    async def _listen(self) -> None:
        await subscribe_forever(
            "Revocation listener",
            url=None,
            channels=lambda: [streams.channel_name(REVOKE_STREAM)],
            on_subscribed=self._subscribed,
            on_messages=self._notes,
            on_lost=lambda: self.connected.clear(),
        )

    async def _subscribed(self, pubsub: Any, after_loss: bool) -> None:
        self.connected.set()
        if after_loss:
            await self.recheck()

    async def _notes(self, messages: list[dict[str, Any]]) -> None:
        for message in messages:
            await self.apply(json.loads(streams.decode_envelope(message["data"].decode())[1]))

    async def recheck(self) -> None:
        """After an outage: close every socket whose credential ended while notes were lost."""
        sockets = {s for group in self._by_user.values() for s in group}
        sessions = {s.session_key for s in sockets if s.session_key}
        still_valid = await database_sync_to_async(credentials_still_valid)(
            {s.user_id for s in sockets if s.user_id is not None}, sessions
        )
        await self._close(
            [s for s in sockets if not still_valid(s.user_id, s.session_key, s.issued_at)],
            "credentials revoked while the server was reconnecting",
        )


def credentials_still_valid(user_ids: set[int], session_keys: set[str | None]) -> Any:
    """A predicate (user_id, session_key, issued_at) -> still valid, read in a few queries."""
    active = set(get_user_model().objects.filter(pk__in=user_ids, is_active=True).values_list("pk", flat=True))
    revoked = {user_id: revoked_at(user_id) for user_id in user_ids}
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    live_sessions = {key for key in session_keys if key and store.exists(key)}

    def valid(user_id: int | None, session_key: str | None, issued_at: float) -> bool:
        if user_id not in active or (session_key and session_key not in live_sessions):
            return False
        mark = revoked.get(user_id)
        return mark is None or issued_at > mark

    return valid


revocations = Revocations()  # this process's authenticated sockets


@database_sync_to_async
def session_expires_at(session: Any) -> float:
    """When the session ends: its row's expiry for the database-backed stores, else the
    expiry the session itself states."""
    model = getattr(session, "model", None)
    if model is not None:
        expiry = model.objects.filter(session_key=session.session_key).values_list("expire_date", flat=True).first()
        if expiry is not None:
            return float(expiry.timestamp())
    return float(session.get_expiry_date().timestamp())
