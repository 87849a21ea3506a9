"""One heartbeat frame for every socket of a hub at a fixed interval, so a client can tell a
quiet feed from a dead connection. The frame is encoded and framed once for all of them."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Hashable, Iterable

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
    for count, socket in enumerate(sockets, 1):
        try:
            await socket.deliver_batch(items, wire)
        except Exception:
            logger.debug("Heartbeat to a socket failed", exc_info=True)
        if count % YIELD_EVERY_SOCKETS == 0:
            await asyncio.sleep(0)
