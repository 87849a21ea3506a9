"""Fuzzing every WebSocket endpoint leaves Daphne serving, bounded in memory, and fast for others.

One Daphne; well-behaved clients on every endpoint time `ping` → `pong` round trips, first
alone, then while a separate process (tests/integration/wsfuzz.py, seeded) sends random,
malformed, binary and oversized frames, floods, half-open connections and byte-by-byte
handshakes to every route of config/routing.py (five rounds of each, alternating, so the
noise of a shared machine falls on both sides). Bounded: a fixed number of connections and
seconds. Then: the process is alive and answers, every endpoint still accepts a client, its log
has no unhandled exception, its RSS grew by a bounded amount, every socket the fuzzer opened gave
its place back (a full per-address cap of sockets opens again), and the clients' p99 stayed
within twice their p99 without fuzzing (the median over the rounds of each fuzzing window's p99 over
the quiet window's just before it). `make bench BENCH=wsfuzz` is the longer run.
"""

import asyncio
import contextlib
import json

import httpx
import pytest
import websockets

from config.routing import websocket_urlpatterns
from tests.integration.harness import Stack
from tests.integration.wsfuzz import fuzz_while_watching

pytestmark = [pytest.mark.integration, pytest.mark.fuzz, pytest.mark.timeout(300)]

RSS_GROWTH_LIMIT_BYTES = 40 * 1024 * 1024
SOCKETS_PER_ADDRESS = 200  # REALTIME_MAX_SOCKETS_PER_IP's default: every socket here is 127.0.0.1
# What a crash or an unhandled error looks like in Daphne's output.
LOG_ALARMS = ("Traceback", "Unhandled", "Internal Server Error", "Exception in callback")


def websocket_paths(match_id: int) -> list[str]:
    """Every route of config/routing.py, with a real match where the route takes one."""
    return ["/" + str(route.pattern).replace("<int:match_id>", str(match_id)) for route in websocket_urlpatterns]


async def first_frame(url: str) -> dict:
    async with websockets.connect(url, open_timeout=10) as socket_:
        return json.loads(await asyncio.wait_for(socket_.recv(), timeout=10))


async def a_full_cap_opens(url: str, timeout: float = 20) -> bool:
    """Whether the per-address cap's worth of sockets opens, each with its snapshot; tried again
    until `timeout` while the server still processes the fuzzer's last resets."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with contextlib.AsyncExitStack() as sockets:
            opened = await asyncio.gather(
                *(
                    sockets.enter_async_context(websockets.connect(url, open_timeout=20))
                    for _ in range(SOCKETS_PER_ADDRESS)
                )
            )
            first = await asyncio.gather(*(asyncio.wait_for(socket_.recv(), 20) for socket_ in opened))
            if all(json.loads(frame)["type"] == "snapshot" for frame in first):
                return True
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.5)


async def test_fuzzing_every_endpoint_crashes_nothing_and_spares_other_sockets(stack: Stack) -> None:
    web, port = stack.start_web()
    paths = websocket_paths(match_id=1)
    assert {"/ws/odds/", "/ws/cotes/", "/ws/blog/"} <= set(paths)
    watched = await fuzz_while_watching(
        port=port,
        server_pid=web.popen.pid,
        paths=paths,
        seed=20261122,
        rounds=5,
        window_seconds=4,
        max_connections=1500,
        concurrency=4,
        clients_per_path=3,
    )
    print("\n" + watched.summary())

    # Still serving: the process, HTTP, and a fresh client on every endpoint.
    assert web.popen.poll() is None, "\n".join(web.lines[-40:])
    assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
    for path in paths:
        assert "type" in await first_frame(f"ws://127.0.0.1:{port}{path}"), path

    assert watched.tally["frames_sent"] > 1000 and all(watched.tally["connections"].values())
    alarms = [i for i, line in enumerate(web.lines) if any(alarm in line for alarm in LOG_ALARMS)]
    assert not alarms, "\n".join(web.lines[alarms[0] : alarms[0] + 80])
    assert watched.rss_after - watched.rss_before < RSS_GROWTH_LIMIT_BYTES
    assert await a_full_cap_opens(f"ws://127.0.0.1:{port}/ws/odds/"), "sockets of the fuzzer still hold their caps"
    assert watched.median_p99_ratio() <= 2
