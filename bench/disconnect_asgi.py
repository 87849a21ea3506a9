"""The application of `bench_disconnect`'s Daphne: the project's own, plus a probe of its event loop.

`daphne bench.disconnect_asgi:application` serves `config.asgi.application` unchanged and, from
the first connection on, runs a ticker on Daphne's event loop that notes how late each 5 ms tick
wakes up: a tick that wakes up late is the loop stalled, and nothing else (no frame, no heartbeat,
no handshake) ran meanwhile either. `GET /bench/loop-stalls` answers the longest stall since the
previous read, in milliseconds, and starts a new window. Nothing of this is in the project's code.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from config.asgi import application as oddstream

TICK_SECONDS = 0.005
STALLS_PATH = "/bench/loop-stalls"


class LoopStalls:
    def __init__(self) -> None:
        self.longest = 0.0
        self.ticks = 0
        self._task: asyncio.Task[None] | None = None

    def ensure_started(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._tick())

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(TICK_SECONDS)
            self.longest = max(self.longest, loop.time() - before - TICK_SECONDS)
            self.ticks += 1

    def read(self) -> dict[str, float]:
        window = {"longest_stall_ms": self.longest * 1000, "ticks": self.ticks}
        self.longest, self.ticks = 0.0, 0
        return window


stalls = LoopStalls()


async def application(scope: dict[str, Any], receive: Any, send: Any) -> Any:
    stalls.ensure_started()
    if scope["type"] == "http" and scope["path"] == STALLS_PATH:
        body = json.dumps(stalls.read()).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})
        return None
    return await oddstream(scope, receive, send)
