"""One heartbeat frame for every socket of a hub at a fixed interval, so a client can tell a
quiet feed from a dead connection. The frame is encoded and framed once for all of them.

The walk over every socket lets the event loop run other work whenever it has held it for
REALTIME_WALK_SLICE_MS: at 10,000 sockets, a slice of 1,000 sends took 50 to 100 ms on a loaded
machine, a stall of every other socket (docs/realtime-delivery.md#mass-disconnect). With the
setting at 0 it yields every YIELD_EVERY_SOCKETS sockets only."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Hashable, Iterable

from django.conf import settings

from realtime.groups import encode_json
from realtime.subscriber import Subscriber
from realtime.transport import wire_text_frame

logger = logging.getLogger(__name__)

YIELD_EVERY_SOCKETS = 1000


async def heartbeat_forever(sockets: Callable[[], Iterable[Subscriber]], interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        await heartbeat_send([s for s in sockets() if s.wants_heartbeat])


async def heartbeat_send(sockets: list[Subscriber]) -> None:
    now = time.time()
    frame = encode_json({"type": "heartbeat", "ts": now})
    items: list[tuple[Hashable | None, int, str]] = [("heartbeat", int(now * 1000), frame)]
    wire = wire_text_frame(frame)
    slice_seconds = settings.REALTIME_WALK_SLICE_MS / 1000
    deadline = time.perf_counter() + slice_seconds
    for count, socket in enumerate(sockets, 1):
        try:
            await socket.deliver_batch(items, wire)
        except Exception:
            logger.debug("Heartbeat to a socket failed", exc_info=True)
        if count % YIELD_EVERY_SOCKETS == 0 or (slice_seconds > 0 and time.perf_counter() > deadline):
            await asyncio.sleep(0)
            deadline = time.perf_counter() + slice_seconds
