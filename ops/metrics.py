"""Prometheus metrics at /metrics, collected from the shared state at scrape time.

A collector that reads Redis and the database gives the same answer from any web process
(Daphne or gunicorn), without prometheus_client's multiprocess mode.
"""

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ops import selectors


class OddstreamCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        queues = GaugeMetricFamily("oddstream_queue_messages", "Messages waiting in a Celery queue", labels=["queue"])
        for queue, length in selectors.queue_lengths().items():
            if length is not None:
                queues.add_metric([queue], length)
        yield queues

        backlog = selectors.uncounted_bets()
        yield GaugeMetricFamily(
            "oddstream_uncounted_bets", "Bets committed but not yet in the published odds", value=backlog["bets"]
        )
        yield GaugeMetricFamily(
            "oddstream_matches_behind", "Matches with bets their odds have not counted", value=backlog["matches"]
        )

        stats = selectors.pipeline_stats()
        latency = GaugeMetricFamily(
            "oddstream_pipeline_latency_ms",
            "Bet commit to odds publish, over the last five minutes",
            labels=["quantile"],
        )
        for label, value in (
            ("0.5", stats.latency_p50_ms),
            ("0.99", stats.latency_p99_ms),
            ("1", stats.latency_max_ms),
        ):
            if value is not None:
                latency.add_metric([label], value)
        yield latency
        yield GaugeMetricFamily(
            "oddstream_odds_versions_recent",
            "Odds versions published in the last five minutes",
            value=stats.versions_in_window,
        )

        matches = GaugeMetricFamily("oddstream_matches", "Matches by status", labels=["status"])
        for status, count in selectors.match_counts_by_status().items():
            matches.add_metric([status], count)
        yield matches

        sockets = GaugeMetricFamily(
            "oddstream_websocket_connections", "Open WebSockets per stream, over every web process", labels=["stream"]
        )
        for stream, count in (selectors.websocket_counts() or {}).items():
            sockets.add_metric([stream], count)
        yield sockets

        bets = selectors.bet_totals()
        yield GaugeMetricFamily("oddstream_bets", "Bets placed", value=bets["count"])


registry = CollectorRegistry(auto_describe=False)
registry.register(OddstreamCollector())


def render() -> bytes:
    return generate_latest(registry)
