"""The hubs' counters, added up over every web process in Redis.

Each hub counts in plain integers (`HubCounters`: a Prometheus counter per delivery would cost
more than the delivery) and adds what it counted since its last flush to one Redis hash at
every presence refresh and when it stops. The hash only grows, so the totals are counters over
the whole deployment, whichever web process, container or machine did the work, and /metrics
reads them from any process (ops.metrics).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import redis
import redis.asyncio as aioredis
from django.conf import settings

HUB_COUNTERS = ("sockets_opened", "events_received", "events_superseded", "deliveries", "slow_closed")


@dataclasses.dataclass
class HubCounters:
    sockets_opened: int = 0
    events_received: int = 0
    events_superseded: int = 0  # skipped for a newer frame with the same key (batch or outbox)
    deliveries: int = 0  # frames handed to hub sockets
    queued_deliveries: int = 0  # messages put in channels
    dropped_full: int = 0  # messages for a full channel
    slow_closed: int = 0  # sockets closed with 4408

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


def hub_counters_key() -> str:
    return f"{settings.REALTIME_PREFIX}:metrics:hub"


async def hub_counters_flush(client: aioredis.Redis, totals: Mapping[str, int], flushed: dict[str, int]) -> None:
    """Add `totals - flushed` to the shared hash; `flushed` is updated once Redis took it."""
    deltas = {name: totals[name] - flushed.get(name, 0) for name in HUB_COUNTERS}
    deltas = {name: delta for name, delta in deltas.items() if delta}
    if not deltas:
        return
    async with client.pipeline(transaction=True) as pipe:
        for name, delta in deltas.items():
            pipe.hincrby(hub_counters_key(), name, delta)
        await pipe.execute()
    flushed.update({name: totals[name] for name in deltas})


def hub_counters_read(client: redis.Redis) -> dict[str, int]:
    raw = client.hgetall(hub_counters_key())
    return {name: int(raw.get(name.encode(), 0)) for name in HUB_COUNTERS}
