"""Real-time delivery with real processes: two Daphne web processes, a Celery worker, Redis.

Events are published the way workers publish them (one PUBLISH of an envelope on the
stream's channel), from this test process, or produced by the real bet pipeline.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
import pytest
import websockets
from rest_framework_simplejwt.tokens import AccessToken

from betting import streams as odds_streams
from blog import streams as blog_streams
from realtime import streams
from realtime.layer import HubChannelLayer
from tests.integration.harness import ManagedProcess, Stack, bearer_headers, new_bet_key

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

DEMO = ("demo@oddstream.local", "demo-password")
FAKE_MATCH = 900_001  # routed by the hub like any match; never in the database


@dataclass
class Web:
    process: ManagedProcess
    port: int

    def url(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.port}{path}"


@dataclass
class Running:
    stack: Stack
    web1: Web
    web2: Web
    users: dict[str, int] = field(default_factory=dict)
    layer: HubChannelLayer | None = None

    def publish(self, stream: str, frame: dict, **routing: object) -> int:
        """Publish as the workers do (through the channel layer); returns how many web processes got it."""
        if self.layer is None:  # one connection pool for the whole run, as a worker has
            self.layer = HubChannelLayer(hosts=[self.stack.redis_url], prefix=self.stack.env["REALTIME_PREFIX"])
        layer = self.layer
        sent = [
            pair
            for groups, message in streams.group_messages(stream, frame, dict(routing))
            for pair in layer.encode_group_send(groups, message)
        ]
        return min(layer.publish_encoded(sent))


class Client:
    """A WebSocket client that records every frame it receives, and how it was closed."""

    def __init__(self, ws: websockets.ClientConnection) -> None:
        self.ws = ws
        self.frames: list[dict] = []
        self.closed: websockets.ConnectionClosed | None = None
        self._task = asyncio.create_task(self._read())

    @classmethod
    async def connect(cls, url: str, **kwargs: object) -> Client:
        return cls(await websockets.connect(url, **kwargs))

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                self.frames.append(json.loads(raw))
        except websockets.ConnectionClosed as exc:
            self.closed = exc
        else:
            self.closed = websockets.ConnectionClosedOK(self.ws.close_rcvd, self.ws.close_sent)

    async def send(self, message: dict | str) -> None:
        await self.ws.send(message if isinstance(message, str) else json.dumps(message))

    async def wait_for(self, predicate: Callable[[dict], bool], timeout: float = 10) -> dict:
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            for frame in self.frames[seen:]:
                if predicate(frame):
                    return frame
            seen = len(self.frames)
            if self.closed is not None:
                break
            await asyncio.sleep(0.02)
        raise AssertionError(f"No matching frame within {timeout}s; got {self.frames[-5:]}, closed={self.closed}")

    async def wait_type(self, wanted: str, timeout: float = 10, **fields: object) -> dict:
        return await self.wait_for(
            lambda f: f.get("type") == wanted and all(f.get(k) == v for k, v in fields.items()), timeout
        )

    async def wait_closed(self, timeout: float = 10) -> websockets.ConnectionClosed:
        deadline = time.monotonic() + timeout
        while self.closed is None and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert self.closed is not None, "socket still open"
        return self.closed

    def of_type(self, wanted: str) -> list[dict]:
        return [f for f in self.frames if f.get("type") == wanted]

    async def close(self) -> None:
        await self.ws.close()
        self._task.cancel()


@pytest.fixture(scope="module")
def running(stack: Stack) -> Running:
    stack.env.update(
        {
            "REALTIME_PRESENCE_REFRESH_SECONDS": "0.5",
            "REALTIME_PRESENCE_TTL_SECONDS": "2",
            "REALTIME_SLOW_CLOSE_SECONDS": "1",
            "REALTIME_SOCKET_SNDBUF": "8192",
            "REALTIME_BACKLOG_HIGH_BYTES": "16384",
            "REALTIME_BACKLOG_LOW_BYTES": "4096",
        }
    )
    stack.start_worker()
    web1 = Web(*stack.start_web())
    web2 = Web(*stack.start_web())
    out = stack.manage(
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model as g; "
        "print(' '.join(f'{u.username}={u.pk}' for u in g().objects.all()))",
    )
    users = dict(pair.split("=") for pair in out.split() if "@" in pair)
    return Running(stack, web1, web2, {name: int(pk) for name, pk in users.items()})


def access_token(user_id: int, lifetime: timedelta | None = None) -> str:
    token = AccessToken()
    token["user_id"] = user_id
    if lifetime is not None:
        token.set_exp(lifetime=lifetime)
    return str(token)


def api_match(port: int, match_id: int | None = None) -> dict:
    matches = httpx.get(f"http://127.0.0.1:{port}/api/matches/").json()["results"]
    return matches[0] if match_id is None else next(m for m in matches if m["id"] == match_id)


def place_bet(port: int, match_id: int, selection: str = "home", stake: str = "150.00") -> None:
    reply = httpx.post(
        f"http://127.0.0.1:{port}/api/bets/",
        json={"match": match_id, "selection": selection, "stake": stake, "accept_odds_change": "any"},
        headers={**bearer_headers(f"http://127.0.0.1:{port}", *DEMO), **new_bet_key()},
        timeout=10,
    )
    assert reply.status_code == 201, reply.text


def move_odds(port: int, match_id: int, selection: str = "home") -> int:
    """Bet until the match's price moves (a small bet may not move it a ladder step); the new version."""
    before = api_match(port, match_id)["version"]
    for _ in range(6):
        place_bet(port, match_id, selection, "300.00")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            version = api_match(port, match_id)["version"]
            if version > before:
                return version
            time.sleep(0.1)
    raise AssertionError(f"The odds of match {match_id} did not move")


# --- Fan-out across processes ---------------------------------------------------
async def test_two_web_processes_each_deliver_every_update(running: Running) -> None:
    one = await Client.connect(running.web1.url("/ws/odds/"))
    two = await Client.connect(running.web2.url("/ws/odds/"))
    await one.wait_type("snapshot")
    await two.wait_type("snapshot")
    for version in range(1, 51):
        frame = {"type": "odds", "match": FAKE_MATCH, "version": version, "odds": {}, "status": "open"}
        assert running.publish(odds_streams.ODDS, frame, match=FAKE_MATCH, version=version) == 2  # both hubs
        await asyncio.sleep(0.005)
    for client in (one, two):
        await client.wait_type("odds", match=FAKE_MATCH, version=50)
        versions = [f["version"] for f in client.of_type("odds") if f["match"] == FAKE_MATCH]
        assert versions == list(range(1, 51))  # every update, in order, none lost
        await client.close()


async def test_a_bet_reaches_clients_on_both_processes(running: Running) -> None:
    match = api_match(running.web1.port)
    one = await Client.connect(running.web1.url(f"/ws/odds/{match['id']}/"))
    two = await Client.connect(running.web2.url("/ws/odds/"))
    await one.wait_type("snapshot")
    await two.wait_type("snapshot")
    version = await asyncio.to_thread(move_odds, running.web1.port, match["id"])
    for client in (one, two):
        update = await client.wait_type("odds", match=match["id"], version=version)
        assert update["bets"] > match["bets"]
        await client.close()


async def test_subscribe_and_unsubscribe_several_matches_on_one_socket(running: Running) -> None:
    matches = httpx.get(f"http://127.0.0.1:{running.web1.port}/api/matches/").json()["results"]
    first, others = matches[0], [m["id"] for m in matches[1:3]]
    client = await Client.connect(running.web1.url(f"/ws/odds/{first['id']}/"))
    await client.wait_type("snapshot")
    await client.send({"action": "subscribe", "matches": others})
    snapshot = await client.wait_for(lambda f: f["type"] == "snapshot" and len(client.of_type("snapshot")) == 2)
    assert [s["match"] for s in snapshot["matches"]] == sorted(others)
    await client.send({"action": "unsubscribe", "matches": [first["id"]]})
    reply = await client.wait_type("unsubscribed")
    assert reply["following"] == sorted(others)
    running.publish(odds_streams.ODDS, {"type": "odds", "match": first["id"], "version": 10**6}, match=first["id"])
    running.publish(odds_streams.ODDS, {"type": "odds", "match": others[0], "version": 10**6}, match=others[0])
    await client.wait_type("odds", match=others[0])
    assert not [f for f in client.of_type("odds") if f["match"] == first["id"]]  # unsubscribed
    await client.close()


# --- Authentication and private events ------------------------------------------
async def test_private_events_reach_only_their_users_sockets_on_every_process(running: Running) -> None:
    demo_id = running.users["demo@oddstream.local"]
    admin_id = running.users["admin@oddstream.local"]
    login = httpx.Client(base_url=f"http://127.0.0.1:{running.web1.port}")
    login.get("/accounts/login/")
    login.post(
        "/accounts/login/",
        data={"username": DEMO[0], "password": DEMO[1], "csrfmiddlewaretoken": login.cookies["csrftoken"]},
        headers={"Referer": f"http://127.0.0.1:{running.web1.port}/accounts/login/"},
    )
    cookie = f"sessionid={login.cookies['sessionid']}"
    demo_session = await Client.connect(running.web1.url("/ws/odds/"), additional_headers={"Cookie": cookie})
    demo_token = await Client.connect(running.web2.url(f"/ws/odds/?token={access_token(demo_id)}"))
    admin = await Client.connect(running.web2.url(f"/ws/odds/?token={access_token(admin_id)}"))
    anonymous = await Client.connect(running.web1.url("/ws/odds/"))
    everyone = (demo_session, demo_token, admin, anonymous)
    for client in everyone:
        await client.wait_type("snapshot")

    running.publish(streams.PRIVATE, {"type": "wallet", "balance": "90.00"}, user=demo_id)
    running.publish(streams.PRIVATE, {"type": "bet", "id": 77, "status": "won"}, user=admin_id)
    running.publish(odds_streams.ODDS, {"type": "odds", "match": FAKE_MATCH, "version": 10**6}, match=FAKE_MATCH)
    for client in everyone:  # a public frame published after the private ones: all have arrived
        await client.wait_type("odds", match=FAKE_MATCH, version=10**6)
    assert [f["balance"] for f in demo_session.of_type("wallet")] == ["90.00"]
    assert [f["balance"] for f in demo_token.of_type("wallet")] == ["90.00"]
    assert not demo_session.of_type("bet") and not demo_token.of_type("bet")
    assert [f["id"] for f in admin.of_type("bet")] == [77] and not admin.of_type("wallet")
    assert not anonymous.of_type("bet") and not anonymous.of_type("wallet")
    for client in everyone:
        await client.close()


@pytest.mark.parametrize(
    "token",
    ["not-a-jwt", "expired", "unknown-user"],
)
async def test_a_bad_token_closes_the_socket_with_4401_and_a_reason(running: Running, token: str) -> None:
    raw = {
        "not-a-jwt": "not-a-jwt",
        "expired": access_token(running.users[DEMO[0]], lifetime=-timedelta(seconds=5)),
        "unknown-user": access_token(987654),
    }[token]
    client = await Client.connect(running.web1.url(f"/ws/odds/?token={raw}"))
    error = await client.wait_type("error")
    assert error["code"] == "unauthorized"
    closed = await client.wait_closed()
    assert closed.rcvd is not None and closed.rcvd.code == 4401
    assert closed.rcvd.reason.startswith("invalid token")


# --- Versions, gaps, restarts -------------------------------------------------------
async def test_gap_then_resync_converges_to_the_current_state(running: Running) -> None:
    match = api_match(running.web1.port)
    client = await Client.connect(running.web1.url(f"/ws/odds/{match['id']}/"))
    held = (await client.wait_type("snapshot"))["matches"][0]["version"]
    first = await asyncio.to_thread(move_odds, running.web1.port, match["id"], "away")
    await client.wait_type("odds", version=first)  # pretend this one was lost: keep `held`
    second = await asyncio.to_thread(move_odds, running.web1.port, match["id"], "draw")
    update = await client.wait_type("odds", version=second)
    assert update["version"] > held + 1  # a gap, from where the client stands
    await client.send({"action": "resync", "match": match["id"], "since": held})
    resync = await client.wait_for(lambda f: f["type"] == "snapshot" and bool(f.get("resync")))
    assert resync["since"] == held
    state = resync["matches"][0]
    current = api_match(running.web1.port, match["id"])
    assert (state["version"], state["odds"], state["bets"]) == (current["version"], current["odds"], current["bets"])
    await client.close()


async def test_client_reconnects_after_its_web_process_is_killed_and_converges(running: Running) -> None:
    stack = running.stack
    process, port = stack.start_web()
    match = api_match(port)
    client = await Client.connect(f"ws://127.0.0.1:{port}/ws/odds/{match['id']}/")
    held = (await client.wait_type("snapshot"))["matches"][0]["version"]
    process.stop(signal.SIGKILL)
    await client.wait_closed()
    await asyncio.to_thread(move_odds, running.web1.port, match["id"])  # a change this client cannot see
    stack.start_web(port)
    # What the JS client does: reconnect with backoff, then ask for what it missed.
    reconnected = None
    for attempt in range(20):
        try:
            reconnected = await Client.connect(f"ws://127.0.0.1:{port}/ws/odds/{match['id']}/")
            break
        except OSError:
            await asyncio.sleep(min(2.0, 0.1 * 2**attempt))
    assert reconnected is not None
    await reconnected.wait_type("snapshot")
    await reconnected.send({"action": "resync", "match": match["id"], "since": held})
    state = (await reconnected.wait_for(lambda f: f["type"] == "snapshot" and bool(f.get("resync"))))["matches"][0]
    assert state["version"] == api_match(port, match["id"])["version"] > held
    await reconnected.close()


# --- Bad input ----------------------------------------------------------------------
async def test_bad_frames_get_errors_and_the_socket_stays_open(running: Running) -> None:
    client = await Client.connect(running.web1.url("/ws/odds/"))
    await client.wait_type("snapshot")
    cases = [
        ("not json", "bad_json"),
        (json.dumps([1, 2]), "bad_frame"),
        (json.dumps({"action": "dance"}), "unknown_action"),
        (json.dumps({"action": "subscribe", "matches": ["x"]}), "bad_match_id"),
        (json.dumps({"action": "subscribe", "matches": [FAKE_MATCH]}), "unknown_match"),
        (json.dumps({"action": "resync", "match": 1, "since": "yesterday"}), "bad_request"),
        (json.dumps({"action": "ping", "pad": "x" * 5000}), "frame_too_large"),
    ]
    for raw, code in cases:
        await client.send(raw)
        error = await client.wait_type("error", code=code)
        assert error["message"]
    await client.send({"action": "ping"})
    await client.wait_type("pong")
    assert client.closed is None
    await client.close()


async def test_a_flood_of_bad_frames_closes_the_socket(running: Running) -> None:
    client = await Client.connect(running.web1.url("/ws/odds/"))
    await client.wait_type("snapshot")
    for _ in range(60):
        await client.send("garbage")
    closed = await client.wait_closed()
    assert closed.rcvd is not None and closed.rcvd.code == 4400
    assert len(client.of_type("error")) <= 31  # the error budget, then the close


async def test_a_huge_frame_fails_the_connection_before_it_is_buffered(running: Running) -> None:
    client = await Client.connect(running.web1.url("/ws/odds/"))
    await client.wait_type("snapshot")
    await client.send("x" * 200_000)
    closed = await client.wait_closed()
    # autobahn fails the connection by dropping it (or with 1009, "message too big")
    assert closed.rcvd is None or closed.rcvd.code == 1009
    after = await Client.connect(running.web1.url("/ws/odds/"))  # the server is unharmed
    await after.wait_type("snapshot")
    await after.close()


def raw_handshake(port: int, path: str) -> socket.socket:
    """A WebSocket handshake on a plain socket with a tiny receive buffer, so that not
    reading really stalls the server's writes (a library client would keep reading)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert b" 101 " in head.split(b"\r\n")[0]
    return sock


def read_until_closed(sock: socket.socket, timeout: float) -> tuple[bytes, bool]:
    """Everything the server sent, and whether it ended with a reset (a dropped connection)."""
    sock.settimeout(timeout)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        return data, True
    except TimeoutError:
        pass
    return data, False


async def test_a_client_that_does_not_read_is_closed_as_too_slow(running: Running) -> None:
    slow = raw_handshake(running.web2.port, "/ws/odds/")
    healthy = await Client.connect(running.web2.url("/ws/odds/"))
    await healthy.wait_type("snapshot")
    padding = "x" * 3000
    slowest_publish = 0.0
    for n in range(400):  # 1.2 MB in distinct matches: nothing to conflate
        match = FAKE_MATCH + 1 + n
        started = time.perf_counter()
        running.publish(odds_streams.ODDS, {"type": "odds", "match": match, "version": 1, "pad": padding}, match=match)
        slowest_publish = max(slowest_publish, time.perf_counter() - started)
    assert slowest_publish < 0.5  # a stalled browser never holds up the publisher (a worker)
    await healthy.wait_type("odds", match=FAKE_MATCH + 400)
    running.web2.process.wait_for_line("Closing a slow WebSocket", timeout=15)
    assert healthy.closed is None  # only the slow one
    # It was sent a bounded amount, not the 1.2 MB, then a 4408 close (unless it was dropped
    # first for not reading even the close frame in time).
    received, reset = await asyncio.to_thread(read_until_closed, slow, 10)
    assert len(received) < 300_000
    # A close frame (4408 and the reason) if we read it within autobahn's 1 s close-handshake
    # timeout; after that the server drops the connection, and the kernel discards what we
    # had not read yet.
    closed_with_reason = (4408).to_bytes(2, "big") + b"too slow" in received[-200:]
    assert closed_with_reason or reset
    await healthy.close()


# --- Heartbeat, blog, presence -----------------------------------------------------------
async def test_every_socket_gets_heartbeats(running: Running) -> None:
    client = await Client.connect(running.web2.url("/ws/blog/"))
    await client.wait_type("heartbeat", timeout=5)
    await client.close()


async def test_blog_feed_drafts_only_to_their_author(running: Running) -> None:
    demo_id = running.users[DEMO[0]]
    author = await Client.connect(running.web1.url(f"/ws/blog/?token={access_token(demo_id)}"))
    reader = await Client.connect(running.web2.url("/ws/blog/"))
    for client in (author, reader):
        await client.wait_type("presence")
    draft = {"type": "post_created", "event": "post_created", "id": 5, "title": "Draft", "status": "draft"}
    running.publish(blog_streams.BLOG, draft, user=demo_id)
    post = {"type": "post_created", "event": "post_created", "id": 6, "title": "Out", "status": "published"}
    running.publish(blog_streams.BLOG, post)
    for client in (author, reader):
        await client.wait_type("post_created", id=6)
    assert [f["id"] for f in author.of_type("post_created")] == [5, 6]
    assert [f["id"] for f in reader.of_type("post_created")] == [6]
    for client in (author, reader):
        await client.close()


async def test_blog_presence_counts_across_processes_and_after_one_dies(running: Running) -> None:
    stack = running.stack
    doomed, doomed_port = stack.start_web()
    survivor = await Client.connect(running.web1.url("/ws/blog/"))
    await survivor.wait_type("presence", count=1)
    others = [await Client.connect(f"ws://127.0.0.1:{doomed_port}/ws/blog/") for _ in range(2)]
    others.append(await Client.connect(running.web2.url("/ws/blog/")))
    for client in [survivor, *others]:
        await client.wait_type("presence", count=4)
    await others[2].close()  # a leave on web2: everyone else learns it
    for client in [survivor, *others[:2]]:
        await client.wait_type("presence", count=3)
    doomed.stop(signal.SIGKILL)  # its two sockets must not stay counted
    frame = await survivor.wait_type("presence", count=1, timeout=8)
    assert frame["stream"] == "blog"
    await survivor.close()
