"""Fuzzing every WebSocket endpoint leaves Daphne serving, bounded in memory, and fast for others.

One Daphne; well-behaved clients on every endpoint time `ping` → `pong` round trips, first
alone, then while a separate process (tests/integration/wsfuzz.py, seeded) sends random,
malformed, binary and oversized frames, floods, half-open connections and byte-by-byte
handshakes to every route of realtime/routing.py (five rounds of each, alternating, so the
noise of a shared machine falls on both sides). Bounded: a fixed number of connections and
seconds. Then: the process is alive and answers, every endpoint still accepts a client, its log
has no unhandled exception, its RSS grew by a bounded amount, and the clients' p99 stayed within
twice their p99 without fuzzing (the median over the rounds of each fuzzing window's p99 over
the quiet window's just before it). `make bench BENCH=wsfuzz` is the longer run.
"""

import asyncio
import json

import httpx
import pytest
import websockets

from realtime.routing import websocket_urlpatterns
from tests.integration.harness import Stack
from tests.integration.wsfuzz import fuzz_while_watching

pytestmark = [pytest.mark.integration, pytest.mark.fuzz, pytest.mark.timeout(300)]

RSS_GROWTH_LIMIT_BYTES = 40 * 1024 * 1024
# What a crash or an unhandled error looks like in Daphne's output.
LOG_ALARMS = ("Traceback", "Unhandled", "Internal Server Error", "Exception in callback")


def websocket_paths(match_id: int) -> list[str]:
    """Every route of realtime/routing.py, with a real match where the route takes one."""
    return ["/" + str(route.pattern).replace("<int:match_id>", str(match_id)) for route in websocket_urlpatterns]


async def first_frame(url: str) -> dict:
    async with websockets.connect(url, open_timeout=10) as socket_:
        return json.loads(await asyncio.wait_for(socket_.recv(), timeout=10))


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
    assert watched.median_p99_ratio() <= 2
