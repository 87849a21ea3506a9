"""The cost of one publish from synchronous code (a Celery task), side by side in one run.

- `layer.publish`: how the workers publish an odds change (`realtime.publisher.publish`: the
  odds groups and the seed's cotes groups, one pipelined round trip on the process's pool);
- the seeds' `async_to_sync(get_channel_layer().group_send)` on this layer (a thread and an
  event loop per call, asgiref's doing; the layer publishes on the process's pool there);
- the same seed call on channels_redis' `RedisPubSubChannelLayer` and `RedisChannelLayer`
  (a Redis connection per call as well);
- a plain redis-py PUBLISH, the floor.

Medians of PUBLISH_COUNT calls (default 2,000; the channels_redis rows use a tenth). Goal: the
workers' publish at most 0.2 ms.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

COUNT = int(os.environ.get("PUBLISH_COUNT", "2000"))


def frame(version: int) -> dict:
    return {
        "type": "odds",
        "match": 1,
        "version": version,
        "odds": {"home": 2.1, "draw": 3.4, "away": 3.5},
        "markets": {},
        "status": "open",
        "bets": version,
        "ts": datetime.now(UTC).isoformat(),
    }


def median_ms(call: Callable[[int], object], count: int) -> float:
    call(0)  # connect outside the measurement
    costs = []
    for n in range(1, count + 1):
        started = time.perf_counter()
        call(n)
        costs.append(time.perf_counter() - started)
    return statistics.median(costs) * 1000


def main() -> None:
    import redis
    from asgiref.sync import async_to_sync
    from channels_redis.core import RedisChannelLayer
    from channels_redis.pubsub import RedisPubSubChannelLayer
    from django.conf import settings

    from betting import streams as odds_streams
    from realtime.layer import HubChannelLayer
    from realtime.publisher import get_layer, publish

    layer = get_layer()
    assert isinstance(layer, HubChannelLayer)
    client = redis.Redis.from_url(settings.REDIS_URL)
    pubsub_layer = RedisPubSubChannelLayer(hosts=[settings.REDIS_URL], prefix="bench-publish")
    core_layer = RedisChannelLayer(hosts=[settings.REDIS_URL], prefix="bench-publish")
    seed = {"type": "cotes_update", "data": {"match_id": 1, "cote1": 2.1, "coteN": 3.4, "cote2": 3.5}}
    rows = [
        (
            "workers' publish (layer.publish, odds + cotes groups)",
            lambda n: publish(odds_streams.ODDS, frame(n), match=1),
            COUNT,
        ),
        (
            "seed: async_to_sync(group_send) on this layer",
            lambda n: async_to_sync(layer.group_send)("cotes_1", seed),
            COUNT // 4,
        ),
        (
            "seed: async_to_sync(group_send) on RedisPubSubChannelLayer",
            lambda n: async_to_sync(pubsub_layer.group_send)("cotes_1", seed),
            COUNT // 10,
        ),
        (
            "seed: async_to_sync(group_send) on RedisChannelLayer",
            lambda n: async_to_sync(core_layer.group_send)("cotes_1", seed),
            COUNT // 10,
        ),
        ("plain redis-py PUBLISH", lambda n: client.publish("bench-publish:plain", b"x" * 300), COUNT),
    ]
    load = os.getloadavg()[0]
    print(f"load average (1 min) at start: {load:.2f}")
    print("| publish from sync code | median per call |")
    print("|---|---|")
    results = {}
    for name, call, count in rows:
        results[name] = median_ms(call, max(count, 20))
        print(f"| {name} | {results[name]:.3f} ms |", flush=True)
    ours = results[rows[0][0]]
    print(f"goal <= 0.2 ms: {'met' if ours <= 0.2 else 'MISSED'} ({ours:.3f} ms)")
