"""The direct write path's contract, live: a real Daphne process of the locked versions writes
frames straight to Twisted's transport, and says so in its metrics."""

from __future__ import annotations

import httpx
import pytest
import websockets

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


async def test_direct_writes_are_on_under_a_real_daphne(stack) -> None:
    stack.env["METRICS_TOKEN"] = "direct-write-contract"
    process, port = stack.start_web()
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws/odds/") as ws:
        snapshot = await ws.recv()  # written straight to Twisted's transport: one whole frame
        assert '"type":"snapshot"' in snapshot
        bearer = {"Authorization": "Bearer direct-write-contract"}
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", headers=bearer, timeout=10).text
    assert "oddstream_realtime_direct_write 1.0" in metrics
    assert not any("Direct WebSocket writes are off" in line for line in process.lines)


async def test_daphne_freezes_the_loaded_application_and_collects_less_often(stack) -> None:
    """realtime/collector.py runs under Daphne (and only there): its log line names the objects
    frozen and the thresholds."""
    process, port = stack.start_web()
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws/odds/") as ws:
        await ws.recv()
    tuned = [line for line in process.lines if "GC: " in line]
    assert tuned and "thresholds (50000, 20, 100)" in tuned[0], process.lines[-20:]
