"""What ops watch: queue depths, the odds pipeline's backlog and latency, workers.

Every figure is read from the shared state (Redis, the database) when asked, so the answer is
the same whichever process serves it and needs no metrics aggregation between processes.
"""

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import redis
from celery import current_app
from django.db.models import Count, F, Q, Sum
from django.utils import timezone
from kombu.exceptions import ChannelError, KombuError

from betting.models import Bet, Match, OddsVersion
from realtime import connections, presence
from realtime.counters import hub_counters_read

LATENCY_WINDOW = timedelta(minutes=5)


@dataclass(frozen=True)
class PipelineStats:
    versions_in_window: int
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    latency_max_ms: float | None


@dataclass(frozen=True)
class Histogram:
    """Cumulative counts per upper bound (seconds), as Prometheus histograms have them."""

    buckets: list[tuple[float, int]]
    count: int
    total: float


def _redis() -> redis.Redis:
    return connections.sync_client()


def queue_names() -> list[str]:
    """The queues the Celery app declares (its configuration, not an import of the worker)."""
    return [queue.name for queue in current_app.conf.task_queues or ()]


def queue_lengths() -> dict[str, int | None]:
    """Messages waiting per Celery queue (None when the broker does not answer), through
    kombu's public API: a passive declare tells the queue's depth on any broker."""
    queues = queue_names()
    lengths: dict[str, int | None] = dict.fromkeys(queues)
    try:
        with current_app.connection_for_read(connect_timeout=1) as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=1)
            for queue in queues:
                with connection.channel() as channel:
                    try:
                        lengths[queue] = channel.queue_declare(queue=queue, passive=True).message_count  # type: ignore[attr-defined]
                    except ChannelError:  # never declared, or empty on Redis (no list): nothing waits
                        lengths[queue] = 0
    except (KombuError, OSError, redis.RedisError):
        return dict.fromkeys(queues)
    return lengths


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


def pipeline_latency_histogram(bounds: Sequence[float]) -> Histogram:
    """Every published version's bet-commit-to-publish latency, in cumulative buckets of
    `bounds` seconds: one query, the same answer from any process, and it only grows."""
    measured = OddsVersion.objects.filter(pipeline_latency_ms__isnull=False)
    counts = measured.aggregate(
        count=Count("id"),
        total_ms=Sum("pipeline_latency_ms"),
        **{f"le_{i}": Count("id", filter=Q(pipeline_latency_ms__lte=b * 1000)) for i, b in enumerate(bounds)},
    )
    return Histogram(
        buckets=[(bound, counts[f"le_{i}"]) for i, bound in enumerate(bounds)],
        count=counts["count"],
        total=(counts["total_ms"] or 0.0) / 1000,
    )


def odds_versions_total() -> int:
    """Odds versions ever stored: one per recompute that moved the book (its rate is the recompute rate)."""
    return OddsVersion.objects.count()


def hub_counters() -> dict[str, int] | None:
    """The hubs' counters over every web process (None when Redis does not answer)."""
    try:
        return hub_counters_read(_redis())
    except redis.RedisError:
        return None


def pipeline_series(window: timedelta = timedelta(minutes=15), step_seconds: int = 10) -> dict[str, list[float | None]]:
    """The ops page's charts: per `step_seconds` over the last `window`, the recomputes per
    second (versions stored) and the median and p99 bet-to-publish latency in milliseconds."""
    now = timezone.now()
    start = now - window
    steps = int(window.total_seconds() // step_seconds)
    per_step: list[list[float]] = [[] for _ in range(steps)]
    counts = [0] * steps
    rows = OddsVersion.objects.filter(computed_at__gte=start).values_list("computed_at", "pipeline_latency_ms")
    for computed_at, latency in rows[:50000]:
        index = min(steps - 1, int((computed_at - start).total_seconds() // step_seconds))
        counts[index] += 1
        if latency is not None:
            per_step[index].append(latency)
    first = start.timestamp()
    return {
        "t": [first + (i + 1) * step_seconds for i in range(steps)],
        "recomputes_per_second": [n / step_seconds for n in counts],
        "latency_p50_ms": [statistics.median(values) if values else None for values in per_step],
        "latency_p99_ms": [percentile(values, 0.99) if values else None for values in per_step],
    }


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
    try:
        return presence.counts(_redis())
    except redis.RedisError:
        return None


def workers_alive(timeout: float = 0.5) -> list[str]:
    """Names of the Celery workers that answer a ping within `timeout` seconds."""
    try:
        replies = current_app.control.ping(timeout=timeout) or []
    except Exception:
        return []
    return sorted(name for reply in replies for name in reply)
