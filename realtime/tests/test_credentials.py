"""A socket's authority ends with its credential; caps; the origin check. In-process ASGI stack
with a real Redis (the revocation notes travel over its pub/sub)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlparse

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from betting.tests.factories import UserFactory
from config.asgi import application
from realtime import credentials
from realtime.credentials import user_sockets_close
from realtime.origin import origin_refusal
from realtime.tests.cancellation import tasks_left_after_cancelling
from tests.waiting import next_second

PASSWORD = "correct-horse-battery"


# --- Origin -----------------------------------------------------------------------
def scope_of(origin: str | None, host: str = "example.com", scheme: str = "ws", **headers: str) -> dict[str, Any]:
    pairs = [(b"host", host.encode())] + [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    if origin is not None:
        pairs.append((b"origin", origin.encode()))
    return {"type": "websocket", "scheme": scheme, "headers": pairs}


@pytest.mark.parametrize(
    ("origin", "host", "scheme", "allowed"),
    [
        (None, "example.com", "ws", True),  # not a browser
        ("http://example.com", "example.com", "ws", True),
        ("https://example.com", "example.com", "wss", True),
        ("https://example.com:443", "example.com", "wss", True),  # the default port, spelt out
        ("http://example.com:8000", "example.com:8000", "ws", True),
        ("https://example.com", "example.com", "ws", False),  # wrong scheme
        ("http://example.com", "example.com", "wss", False),  # a plain-HTTP page on a TLS site
        ("http://example.com:9000", "example.com:8000", "ws", False),  # wrong port
        ("http://example.com", "example.com:8000", "ws", False),  # wrong (default) port
        ("http://evil.test", "example.com", "ws", False),  # wrong host
        ("http://example.com", "evil.test", "ws", False),  # Host outside ALLOWED_HOSTS
        ("null", "example.com", "ws", False),  # sandboxed iframe, file://
        ("https://app.partner.test", "example.com", "wss", True),  # CSRF_TRUSTED_ORIGINS, wildcard
        ("http://app.partner.test", "example.com", "ws", False),  # trusted host, other scheme
        ("https://trusted.test:8443", "example.com", "wss", True),  # CSRF_TRUSTED_ORIGINS, exact
        ("https://trusted.test", "example.com", "wss", False),  # trusted host, other port
    ],
)
def test_origin_must_match_scheme_host_and_port(settings, origin, host, scheme, allowed) -> None:
    settings.ALLOWED_HOSTS = ["example.com"]
    settings.CSRF_TRUSTED_ORIGINS = ["https://*.partner.test", "https://trusted.test:8443"]
    refusal = origin_refusal(scope_of(origin, host, scheme))
    assert (refusal is None) is allowed, refusal


@pytest.mark.parametrize(
    ("forwarded_proto", "proxy_trusted", "origin", "allowed"),
    [
        ("https", True, "https://example.com", True),  # TLS ends at the proxy, which says so
        ("http", True, "https://example.com", False),
        ("https", True, "http://example.com", False),
        ("https", False, "https://example.com", False),  # the header is not trusted
    ],
)
def test_behind_a_tls_proxy_the_scheme_comes_from_the_trusted_header(
    settings, forwarded_proto, proxy_trusted, origin, allowed
) -> None:
    settings.ALLOWED_HOSTS = ["example.com"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if proxy_trusted else None
    scope = scope_of(origin, "example.com", "ws", x_forwarded_proto=forwarded_proto)
    assert (origin_refusal(scope) is None) is allowed


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_handshake_from_another_port_is_refused_by_the_stack() -> None:
    communicator = WebsocketCommunicator(
        application, "/ws/odds/", headers=[(b"host", b"127.0.0.1:8000"), (b"origin", b"http://127.0.0.1:8001")]
    )
    connected, _ = await communicator.connect()
    assert not connected


# --- Sockets bound to their credential ---------------------------------------------
async def open_socket(path: str, headers: list[tuple[bytes, bytes]] | None = None, client: str | None = None):
    communicator = WebsocketCommunicator(application, path, headers=headers)
    if client is not None:
        communicator.scope["client"] = (client, 50000)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def first_frame(communicator: WebsocketCommunicator) -> dict:
    return await communicator.receive_json_from(timeout=5)


async def closed_with(communicator: WebsocketCommunicator, timeout: float = 5) -> tuple[int, str, list[dict]]:
    """(close code, reason, frames before it)."""
    frames: list[dict] = []
    deadline = time.monotonic() + timeout
    while True:
        output = await communicator.receive_output(timeout=max(0.01, deadline - time.monotonic()))
        if output["type"] == "websocket.close":
            return output["code"], output.get("reason", ""), frames
        frames.append(output)


async def token_socket(user: User, lifetime: timedelta | None = None) -> WebsocketCommunicator:
    token = AccessToken.for_user(user)
    if lifetime is not None:
        token.set_exp(lifetime=lifetime)
    communicator = await open_socket(f"/ws/odds/?token={token}")
    assert (await first_frame(communicator))["type"] == "snapshot"
    return communicator


@database_sync_to_async
def signed_in_session(user: User) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


async def session_socket(session_key: str) -> WebsocketCommunicator:
    communicator = await open_socket("/ws/odds/", headers=[(b"cookie", f"sessionid={session_key}".encode())])
    assert (await first_frame(communicator))["type"] == "snapshot"
    return communicator


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.redis
async def test_a_token_socket_is_closed_with_4401_when_its_token_expires() -> None:
    user = await database_sync_to_async(UserFactory)()
    started = time.monotonic()
    communicator = await token_socket(user, lifetime=timedelta(seconds=2))
    code, reason, frames = await closed_with(communicator, timeout=5)
    assert (code, reason) == (4401, "token expired")
    assert 1.0 <= time.monotonic() - started <= 3.5
    assert '"code":"token_expired"' in frames[-1]["text"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.redis
async def test_revoking_a_user_closes_their_sockets_and_no_one_elses() -> None:
    alice, bob = await database_sync_to_async(UserFactory)(), await database_sync_to_async(UserFactory)()
    alices = [await token_socket(alice), await session_socket(await signed_in_session(alice))]
    bobs = await token_socket(bob)
    await database_sync_to_async(user_sockets_close)(user_id=alice.pk, reason="signed out")
    for communicator in alices:
        assert (await closed_with(communicator))[:2] == (4401, "credentials revoked: signed out")
    assert await bobs.receive_nothing(timeout=0.3)
    await bobs.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.redis
async def test_a_token_issued_before_a_revocation_opens_no_socket() -> None:
    user = await database_sync_to_async(UserFactory)()
    token = AccessToken.for_user(user)
    await next_second()  # `iat` is in whole seconds
    await database_sync_to_async(user_sockets_close)(user_id=user.pk, reason="signed out")
    communicator = await open_socket(f"/ws/odds/?token={token}")
    code, reason, _ = await closed_with(communicator)
    assert code == 4401 and "revoked" in reason
    await next_second()
    await (await token_socket(user)).disconnect()  # a token issued afterwards works


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.redis
async def test_a_revocation_during_the_credential_check_still_closes_the_socket(monkeypatch) -> None:
    user = await database_sync_to_async(UserFactory)()
    real_add = credentials.Revocations.add

    def add_after_a_note(self: credentials.Revocations, socket: Any) -> str | None:
        # The note lands after the token was checked but before the socket registered.
        self._recent[("user", user.pk)] = (time.monotonic(), "credentials revoked: signed out")
        return real_add(self, socket)

    monkeypatch.setattr(credentials.Revocations, "add", add_after_a_note)
    communicator = await open_socket(f"/ws/odds/?token={AccessToken.for_user(user)}")
    code, reason, _ = await closed_with(communicator)
    assert (code, reason) == (4401, "credentials revoked: signed out")


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.redis
async def test_a_session_socket_closes_when_its_session_is_flushed_or_expires() -> None:
    user = await database_sync_to_async(UserFactory)()
    flushed_key = await signed_in_session(user)
    flushed = await session_socket(flushed_key)

    @database_sync_to_async
    def flush() -> None:
        from accounts.sessions import SessionStore

        SessionStore(flushed_key).flush()

    await flush()
    assert (await closed_with(flushed))[:2] == (4401, "credentials revoked: session ended")

    expiring_key = await signed_in_session(user)
    expire_date = timezone.now() + timedelta(seconds=1.5)
    # The session table of the configured engine (accounts.sessions keeps each session's user).
    from accounts.sessions import SessionStore

    sessions = SessionStore.get_model_class().objects
    await database_sync_to_async(sessions.filter(session_key=expiring_key).update)(expire_date=expire_date)
    expiring = await session_socket(expiring_key)
    assert (await closed_with(expiring, timeout=4))[:2] == (4401, "session expired")


# --- Credential changes publish revocations ---------------------------------------------
@pytest.fixture
def revoked(monkeypatch) -> list[dict]:
    """Every revocation note published after commit, instead of Redis."""
    notes: list[dict] = []
    monkeypatch.setattr(credentials, "revocation_publish", notes.append)
    return notes


@pytest.mark.django_db(transaction=True)
def test_password_change_deactivation_and_sign_out_revoke_the_users_sockets(revoked, api_client) -> None:
    user = UserFactory()
    user.set_password("another-long-passphrase")
    user.save()
    assert revoked[-1] == {"user": user.pk, "reason": "password changed"}
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert revoked[-1] == {"user": user.pk, "reason": "account deactivated"}
    count = len(revoked)
    user.first_name = "Unrelated"
    user.save()
    from django.contrib.auth.models import update_last_login

    update_last_login(None, user)
    assert len(revoked) == count

    other = cast(User, UserFactory())
    refresh = str(RefreshToken.for_user(other))
    assert api_client.post("/api/auth/logout/", {"refresh": refresh}, format="json").status_code == 204
    assert revoked[-1] == {"user": other.pk, "reason": "signed out"}

    pages = Client()
    pages.force_login(other)
    pages.post("/accounts/logout/")
    assert {"user": other.pk, "reason": "signed out"} in revoked[count + 1 :]
    assert any("session" in note for note in revoked[count + 1 :])  # the flushed session too


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_password_change_revokes_nothing(revoked) -> None:
    from django.db import transaction

    user = UserFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        user.set_password("another-long-passphrase")
        user.save()
        raise RuntimeError
    assert revoked == []


# --- Caps -------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.redis
async def test_sockets_past_the_per_user_and_per_ip_caps_are_refused_with_4429(settings) -> None:
    settings.REALTIME_MAX_SOCKETS_PER_USER = 2
    settings.REALTIME_MAX_SOCKETS_PER_IP = 3
    user = await database_sync_to_async(UserFactory)()
    token = AccessToken.for_user(user)
    mine = [await open_socket(f"/ws/odds/?token={token}", client="10.0.0.1") for _ in range(2)]
    refused = await open_socket(f"/ws/odds/?token={token}", client="10.0.0.2")
    code, reason, _ = await closed_with(refused)
    assert (code, reason) == (4429, "too many sockets: at most 2 per user")

    anonymous = await open_socket("/ws/blog/", client="10.0.0.1")
    refused = await open_socket("/ws/blog/", client="10.0.0.1")
    assert (await closed_with(refused))[:2] == (4429, "too many sockets: at most 3 per address")
    await (await open_socket("/ws/blog/", client="10.0.0.3")).disconnect()  # another address

    await mine[0].disconnect()  # a closed socket frees its place
    await asyncio.sleep(0.05)
    again = await open_socket(f"/ws/odds/?token={token}", client="10.0.0.4")
    assert (await first_frame(again))["type"] == "snapshot"
    for communicator in (mine[1], anonymous, again):
        await communicator.disconnect()


# --- The process's Redis connections ------------------------------------------------------
def redis_connections_of_this_process(port: int) -> int:
    """Established TCP connections of this process to `port` (Linux: /proc)."""
    inodes = set()
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    count = 0
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "01" and int(fields[2].rsplit(":", 1)[1], 16) == port and fields[9] in inodes:
                count += 1
    return count


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.redis
async def test_signed_in_sockets_hold_no_redis_connection_of_their_own(settings) -> None:
    """Each handshake reads the user's revocation record: through the process's one cache
    client, not one per socket kept open as long as the socket (Django's cache per context)."""
    port = urlparse(settings.REDIS_URL).port or 6379
    user = await database_sync_to_async(UserFactory)()
    warm = await token_socket(user)  # the hub's and the revocation listener's connections
    before = redis_connections_of_this_process(port)
    sockets = [await token_socket(user) for _ in range(12)]
    assert redis_connections_of_this_process(port) - before <= 2
    for communicator in (warm, *sockets):
        await communicator.disconnect()


# --- The revocation listener's loop ---------------------------------------------------------
@pytest.mark.redis
def test_a_revocation_listener_cancelled_at_any_point_of_its_start_up_stops() -> None:
    """As the hub's listener (realtime/tests/test_layer.py): redis-py may swallow a cancellation
    that lands during the subscribe; the loop must still stop, or its event loop never closes."""

    assert tasks_left_after_cancelling(lambda: credentials.Revocations().listen(), runs=100) == []
