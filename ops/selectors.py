"""What ops watch: queue depths, the odds pipeline's backlog and latency, workers.

Every figure is read from the shared state (Redis, the database) when asked, so the answer is
the same whichever process serves it and needs no metrics aggregation between processes.
"""

import statistics
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import redis
from django.conf import settings
from django.db.models import Count, F, Sum
from django.utils import timezone

from betting.models import Bet, Match, OddsVersion
from workers.celery import QUEUES, app

# kombu's Redis transport keeps a queue's messages of priority p in the list
# `name` (p = 0) or `name\x06\x16p`; count them all.
_PRIORITY_SEPARATOR = "\x06\x16"
_PRIORITY_STEPS = (0, 3, 6, 9)
LATENCY_WINDOW = timedelta(minutes=5)


@dataclass(frozen=True)
class PipelineStats:
    versions_in_window: int
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    latency_max_ms: float | None


def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=1, socket_timeout=1)


def queue_lengths() -> dict[str, int | None]:
    """Messages waiting per Celery queue (None when the broker does not answer)."""
    try:
        client = _redis()
        with client.pipeline() as pipe:
            for queue in QUEUES:
                for step in _PRIORITY_STEPS:
                    pipe.llen(queue if step == 0 else f"{queue}{_PRIORITY_SEPARATOR}{step}")
            counts = pipe.execute()
    except redis.RedisError:
        return dict.fromkeys(QUEUES)
    per_queue = len(_PRIORITY_STEPS)
    return {queue: sum(counts[i * per_queue : (i + 1) * per_queue]) for i, queue in enumerate(QUEUES)}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def pipeline_stats() -> PipelineStats:
    """Latency from a bet's commit to the publish that counted it, over recent versions."""
    since = timezone.now() - LATENCY_WINDOW
    latencies = [
        value
        for value in OddsVersion.objects.filter(computed_at__gte=since).values_list("pipeline_latency_ms", flat=True)[
            :10000
        ]
        if value is not None
    ]
    if not latencies:
        return PipelineStats(0, None, None, None)
    return PipelineStats(
        versions_in_window=len(latencies),
        latency_p50_ms=statistics.median(latencies),
        latency_p99_ms=percentile(latencies, 0.99),
        latency_max_ms=max(latencies),
    )


def uncounted_bets() -> dict[str, int]:
    """Bets committed but not yet in the published odds: the recompute backlog."""
    behind = Match.objects.filter(bet_sequence__gt=F("bets_counted")).aggregate(
        matches=Count("id"), bets=Sum(F("bet_sequence") - F("bets_counted"))
    )
    return {"matches": behind["matches"] or 0, "bets": behind["bets"] or 0}


def match_counts_by_status() -> dict[str, int]:
    return dict(Match.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n"))


def bet_totals() -> dict[str, Any]:
    totals = Bet.objects.aggregate(count=Count("id"), staked=Sum("stake"))
    return {"count": totals["count"] or 0, "staked": totals["staked"] or 0}


def websocket_counts() -> dict[str, int] | None:
    """Open sockets per stream over every live web process (None when Redis does not answer)."""
    from realtime import presence

    try:
        return presence.counts(redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1))
    except redis.RedisError:
        return None


def workers_alive(timeout: float = 0.5) -> list[str]:
    """Names of the Celery workers that answer a ping within `timeout` seconds."""
    try:
        replies = app.control.ping(timeout=timeout) or []
    except Exception:
        return []
    return sorted(name for reply in replies for name in reply)
