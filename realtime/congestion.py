"""The congested sockets of a hub, and the one loop that drains them.

A socket whose unsent backlog is high keeps its frames in a conflating outbox
(`realtime.outbox`) and is marked congested here. Every `DRAIN_INTERVAL_SECONDS` the loop asks
each congested socket to `drain`: it flushes its outbox once it caught up, or closes itself if
it stayed behind too long; either way it leaves the set.
"""

from __future__ import annotations

import asyncio
import logging
import time

from realtime.subscriber import Subscriber

logger = logging.getLogger(__name__)

DRAIN_INTERVAL_SECONDS = 0.05


class Congestion:
    def __init__(self) -> None:
        self.sockets: set[Subscriber] = set()

    def mark(self, socket: Subscriber) -> None:
        self.sockets.add(socket)

    def discard(self, socket: Subscriber) -> None:
        self.sockets.discard(socket)

    def __len__(self) -> int:
        return len(self.sockets)

    async def drain_once(self) -> None:
        now = time.monotonic()
        for socket in list(self.sockets):
            try:
                if await socket.drain(now):
                    self.sockets.discard(socket)
            except Exception:
                logger.exception("Draining a socket failed")
                self.sockets.discard(socket)

    async def drain_forever(self) -> None:
        while True:
            await asyncio.sleep(DRAIN_INTERVAL_SECONDS)
            if self.sockets:
                await self.drain_once()
