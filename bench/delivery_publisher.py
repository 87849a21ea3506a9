"""The worker side of `bench_delivery`: publish odds updates at a fixed rate, then report.

`python -m bench.delivery_publisher hub|baseline|pubsub RATE SECONDS MATCHES` publishes RATE
updates a second, round robin over MATCHES matches (versions rise by one per match), each
frame carrying its publish time in `sent`. `hub` publishes the way Oddstream's workers do
(`HubChannelLayer.publish` from sync code: one pipelined PUBLISH on a warm connection);
`baseline` the way the seeds' design does, `channel_layer.group_send` through
`channels_redis.core.RedisChannelLayer`, and `pubsub` the same through channels_redis'
`RedisPubSubChannelLayer`, both from one persistent event loop (fairer to them than a fresh
`async_to_sync` loop per message).
Prints one JSON line: the final version and publish time of each match, and the cost of a
publish call.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from datetime import UTC, datetime
from typing import Any

BASELINE_GROUP = "odds_all"


def frame(match: int, version: int) -> dict[str, Any]:
    return {
        "type": "odds",
        "match": match,
        "version": version,
        "odds": {"home": 2.1, "draw": 3.4, "away": 3.5},
        "status": "open",
        "bets": version * 3,
        "ts": datetime.now(UTC).isoformat(),
        "sent": time.time(),
    }


async def run(design: str, rate: float, seconds: float, matches: int) -> dict[str, Any]:
    if design == "hub":
        import django

        django.setup()
        from betting import streams as odds_streams
        from realtime.publisher import publish as publish_event

        async def publish(message: dict[str, Any]) -> None:
            publish_event(odds_streams.ODDS, message, match=message["match"], version=message["version"])

    else:
        from bench.baseline_asgi import baseline_layer

        layer = baseline_layer(design)

        async def publish(message: dict[str, Any]) -> None:
            await layer.group_send(BASELINE_GROUP, {"type": "odds.update", "data": message})

    versions = dict.fromkeys(range(1, matches + 1), 0)
    sent: dict[int, float] = {}
    costs: list[float] = []
    total = int(rate * seconds)
    started = time.monotonic()
    for n in range(total):
        await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
        match = n % matches + 1
        versions[match] += 1
        message = frame(match, versions[match])
        before = time.perf_counter()
        await publish(message)
        costs.append(time.perf_counter() - before)
        sent[match] = message["sent"]
    return {
        "published": total,
        "versions": versions,
        "sent": sent,
        "publish_ms_p50": statistics.median(costs) * 1000,
        "publish_ms_max": max(costs) * 1000,
    }


if __name__ == "__main__":
    result = asyncio.run(run(sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])))
    print(json.dumps(result), flush=True)
