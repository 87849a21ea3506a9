"""A socket's authority ends with its credential, over real processes: two Daphne web
processes, Redis, real WebSocket clients. Sign-out, password change or reset and deactivation
on one process (or in a shell) close the user's sockets on both within a second; a token's
expiry closes its socket with 4401; caps refuse with 4429; a foreign origin is refused."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
import websockets
from rest_framework_simplejwt.tokens import AccessToken

from tests.integration.harness import ManagedProcess, Stack, session_client
from tests.integration.test_realtime import Client

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

PASSWORD = "a-long-enough-passphrase"
ACCESS_SECONDS = 4
MAX_PER_USER = 3
MAX_PER_IP = 8
CLOSE_WITHIN_SECONDS = 1.0


@dataclass
class Running:
    stack: Stack
    web: list[tuple[ManagedProcess, int]]

    def base(self, index: int) -> str:
        return f"http://127.0.0.1:{self.web[index][1]}"

    def ws(self, index: int, path: str) -> str:
        return f"ws://127.0.0.1:{self.web[index][1]}{path}"


@pytest.fixture(scope="module")
def running(stack: Stack) -> Running:
    stack.env.update(
        {
            "JWT_ACCESS_SECONDS": str(ACCESS_SECONDS),
            "THROTTLE_AUTH": "1000/minute",
            "REALTIME_MAX_SOCKETS_PER_USER": str(MAX_PER_USER),
            "REALTIME_MAX_SOCKETS_PER_IP": str(MAX_PER_IP),
        }
    )
    return Running(stack, [stack.start_web(), stack.start_web()])


async def register(running: Running) -> tuple[str, int]:
    email = f"socket-{uuid.uuid4().hex[:8]}@example.com"
    async with httpx.AsyncClient(base_url=running.base(0)) as client:
        reply = await client.post("/api/auth/register/", json={"email": email, "password": PASSWORD})
    assert reply.status_code == 201, reply.text
    return email, reply.json()["id"]


async def token_pair(running: Running, email: str) -> dict[str, str]:
    async with httpx.AsyncClient(base_url=running.base(0)) as client:
        reply = await client.post("/api/auth/token/", json={"email": email, "password": PASSWORD})
    assert reply.status_code == 200, reply.text
    return reply.json()


def long_access(user_id: int) -> str:
    """An access token that outlives the test, as a client that refreshed would hold."""
    token = AccessToken()
    token["user_id"] = user_id
    token.set_exp(lifetime=timedelta(minutes=10))
    return str(token)


async def sockets_on_both(running: Running, query: str = "", **kwargs: object) -> list[Client]:
    clients = [await Client.connect(running.ws(index, f"/ws/odds/{query}"), **kwargs) for index in (0, 1)]
    for client in clients:
        await client.wait_type("snapshot")
    return clients


async def assert_closed_soon(
    clients: list[Client], trigger: Callable[[], Awaitable[float | None]], reason: str
) -> list[float]:
    """Every client closed with 4401 and `reason` within CLOSE_WITHIN_SECONDS of the instant
    `trigger` returns (or, if it returns None, of when it was called)."""

    async def closed_at(client: Client) -> float:
        await client.wait_closed(timeout=10)
        return time.time()

    watchers = [asyncio.create_task(closed_at(client)) for client in clients]
    called_at = time.time()
    since = await trigger() or called_at
    delays = [at - since for at in await asyncio.gather(*watchers)]
    for client in clients:
        assert client.closed is not None and client.closed.rcvd is not None
        assert (client.closed.rcvd.code, client.closed.rcvd.reason) == (4401, reason)
    assert max(delays) < CLOSE_WITHIN_SECONDS, delays
    print(f"{reason}: closed after {', '.join(f'{d * 1000:.0f} ms' for d in delays)}")
    return delays


async def assert_still_open(clients: list[Client]) -> None:
    for client in clients:
        await client.send({"action": "ping"})
        await client.wait_type("pong", timeout=5)
        assert client.closed is None


async def test_jwt_sign_out_closes_the_users_sockets_on_both_processes(running: Running) -> None:
    email, user_id = await register(running)
    _, bystander_id = await register(running)
    pair = await token_pair(running, email)
    access = long_access(user_id)
    mine = await sockets_on_both(running, f"?token={access}")
    theirs = await sockets_on_both(running, f"?token={long_access(bystander_id)}")

    async def sign_out() -> None:
        async with httpx.AsyncClient(base_url=running.base(0)) as client:
            reply = await client.post("/api/auth/logout/", json={"refresh": pair["refresh"]})
        assert reply.status_code == 204, reply.text

    await assert_closed_soon(mine, sign_out, "credentials revoked: signed out")
    await assert_still_open(theirs)
    # The access token the client still holds opens no new socket, on either process.
    for index in (0, 1):
        again = await Client.connect(running.ws(index, f"/ws/odds/?token={access}"))
        closed = await again.wait_closed()
        assert closed.rcvd is not None and closed.rcvd.code == 4401 and "revoked" in closed.rcvd.reason
    for client in theirs:
        await client.close()


async def test_session_sign_out_closes_the_users_sockets_on_both_processes(running: Running) -> None:
    email, _ = await register(running)
    pages = await session_client(running.base(0), email, PASSWORD)
    cookie = {"Cookie": f"sessionid={pages.cookies['sessionid']}"}
    mine = await sockets_on_both(running, additional_headers=cookie)

    async def sign_out() -> None:
        reply = await pages.post("/accounts/logout/")
        assert reply.status_code in (200, 302), reply.text

    await assert_closed_soon(mine, sign_out, "credentials revoked: signed out")
    await pages.aclose()
    again = await Client.connect(running.ws(1, "/ws/odds/"), additional_headers=cookie)
    await again.wait_type("snapshot")  # the ended session makes an anonymous socket now
    await again.send({"action": "ping"})
    await again.wait_type("pong")
    await again.close()


async def test_password_reset_closes_the_users_sockets_on_both_processes(running: Running) -> None:
    email, user_id = await register(running)
    mine = await sockets_on_both(running, f"?token={long_access(user_id)}")
    async with httpx.AsyncClient(base_url=running.base(0)) as client:
        reply = await client.post("/api/auth/password-reset/", json={"email": email})
        assert reply.status_code == 202
        # The console e-mail backend prints the reset e-mail to the web process's output.
        process = running.web[0][0]
        process.wait_for_line(email, timeout=10)
        uid, token = re.findall(r"uid=(\S+) and token=(\S+)\.", "\n".join(process.lines))[-1]

        async def reset() -> None:
            body = {"uid": uid, "token": token, "new_password": PASSWORD + "-2"}
            reply = await client.post("/api/auth/password-reset/confirm/", json=body)
            assert reply.status_code == 204, reply.text

        await assert_closed_soon(mine, reset, "credentials revoked: password changed")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("user.set_password('another-long-passphrase')", "password changed"),
        ("user.is_active = False", "account deactivated"),
    ],
)
async def test_a_credential_change_in_any_process_closes_the_sockets_on_both(
    running: Running, change: str, reason: str
) -> None:
    """The change is made in a separate process (a shell, as the admin or a task would), and
    stamps the instant its transaction committed."""
    email, user_id = await register(running)
    pages = await session_client(running.base(1), email, PASSWORD)
    session_socket = await Client.connect(
        running.ws(0, "/ws/odds/"), additional_headers={"Cookie": f"sessionid={pages.cookies['sessionid']}"}
    )
    await session_socket.wait_type("snapshot")
    mine = [*await sockets_on_both(running, f"?token={long_access(user_id)}"), session_socket]

    async def change_in_a_shell() -> float:
        out = await asyncio.to_thread(
            running.stack.manage,
            "shell",
            "-c",
            "import time; from django.contrib.auth.models import User; "
            f"user = User.objects.get(pk={user_id}); {change}; user.save(); print('saved', time.time())",
        )
        return float(out.split("saved")[-1].strip())

    await assert_closed_soon(mine, change_in_a_shell, f"credentials revoked: {reason}")
    await pages.aclose()


async def test_a_token_socket_is_closed_with_4401_when_the_token_expires(running: Running) -> None:
    email, _ = await register(running)
    access = (await token_pair(running, email))["access"]
    expires_at = AccessToken(access)["exp"]
    client = await Client.connect(running.ws(1, f"/ws/odds/?token={access}"))
    await client.wait_type("snapshot")
    error = await client.wait_type("error", timeout=ACCESS_SECONDS + 3)
    closed = await client.wait_closed(timeout=2)
    late = time.time() - expires_at
    assert error["code"] == "token_expired"
    assert closed.rcvd is not None and (closed.rcvd.code, closed.rcvd.reason) == (4401, "token expired")
    assert -0.5 < late < CLOSE_WITHIN_SECONDS, late
    assert time.time() - expires_at < ACCESS_SECONDS  # it was open for most of the token's life


async def test_sockets_past_the_caps_are_refused_with_4429(running: Running) -> None:
    _, user_id = await register(running)
    access = long_access(user_id)
    mine = []
    for _ in range(MAX_PER_USER):
        client = await Client.connect(running.ws(0, f"/ws/odds/?token={access}"))
        await client.wait_type("snapshot")
        mine.append(client)
    extra = await Client.connect(running.ws(0, f"/ws/odds/?token={access}"))
    error = await extra.wait_type("error")
    closed = await extra.wait_closed()
    assert error["code"] == "too_many_sockets"
    assert closed.rcvd is not None and (closed.rcvd.code, closed.rcvd.reason) == (
        4429,
        f"too many sockets: at most {MAX_PER_USER} per user",
    )
    # Counted per process: the other process still takes one.
    other = await Client.connect(running.ws(1, f"/ws/odds/?token={access}"))
    await other.wait_type("snapshot")

    # Per address: every loopback address is a different client to the server.
    address = ("127.0.0.23", 0)
    anonymous = []
    for _ in range(MAX_PER_IP):
        client = await Client.connect(running.ws(1, "/ws/blog/"), local_addr=address)
        await client.wait_type("presence")
        anonymous.append(client)
    extra = await Client.connect(running.ws(1, "/ws/blog/"), local_addr=address)
    closed = await extra.wait_closed()
    assert closed.rcvd is not None and closed.rcvd.code == 4429 and "per address" in closed.rcvd.reason
    await anonymous.pop().close()
    # A closed socket frees its place (once the server has seen the close).
    deadline = time.monotonic() + 5
    while True:
        again = await Client.connect(running.ws(1, "/ws/blog/"), local_addr=address)
        try:
            await again.wait_type("presence", timeout=2)
            break
        except AssertionError:
            assert time.monotonic() < deadline, "the closed socket was never uncounted"
    for client in [*mine, other, *anonymous, again]:
        await client.close()


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://127.0.0.1:{port}", True),
        ("https://127.0.0.1:{port}", False),  # wrong scheme
        ("http://127.0.0.1:{other}", False),  # wrong port
        ("http://127.0.0.1", False),  # wrong (default) port
        ("http://evil.example:{port}", False),  # wrong host
    ],
)
async def test_the_origin_must_match_scheme_host_and_port(running: Running, origin: str, allowed: bool) -> None:
    port = running.web[0][1]
    url = running.ws(0, "/ws/odds/")
    origin = origin.format(port=port, other=running.web[1][1])
    if allowed:
        client = await Client.connect(url, origin=origin)
        await client.wait_type("snapshot")
        await client.close()
        return
    with pytest.raises(websockets.InvalidStatus) as refused:
        await websockets.connect(url, origin=origin)
    assert refused.value.response.status_code == 403
