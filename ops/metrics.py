"""Prometheus metrics at /metrics, named as Prometheus asks: the `oddstream_` prefix, base
units (seconds), `_total` on counters, latency as histograms, bounded label values.

Two kinds, documented one by one in docs/operations.md:

- Deployment-wide figures, read from the shared state (the database, Redis, the broker) at
  scrape time: the same answer from any web process, container or machine. The pipeline
  latency histogram and the counters among them only grow, so `rate()` works on them.
- This server's own request metrics (`oddstream_http_*`), kept by each process. Under gunicorn
  every worker writes them to PROMETHEUS_MULTIPROC_DIR and the scrape adds all the workers up
  (prometheus_client's multiprocess mode; deploy/gunicorn.conf.py empties the directory at
  start and marks exited workers dead). Without that directory (one Daphne, `make run`) the
  process's own registry is used.
"""

import os
from collections.abc import Iterator

from prometheus_client import REGISTRY, CollectorRegistry, Histogram, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from betting import selectors as betting_selectors
from inplay import selectors as inplay_selectors
from ops import selectors
from realtime.transport import DirectWrite

# Bet commit to odds publish: tens of milliseconds when the worker keeps up, seconds when the
# odds queue backs up.
PIPELINE_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# A feed event's time to its processing: tens of milliseconds when the feed worker keeps up.
FEED_LAG_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# An in-play bet's placement to its decision: the delay (6 s by default) plus the worker's lateness.
BET_DECISION_BUCKETS = (1.0, 2.0, 4.0, 6.0, 6.5, 7.0, 8.0, 10.0, 15.0, 30.0, 60.0)
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

HTTP_REQUEST_DURATION = Histogram(
    "oddstream_http_request_duration_seconds",
    "HTTP requests served by this server (its workers added up), by method and status code",
    ["method", "status"],
)

HUB_COUNTERS = {
    "sockets_opened": ("oddstream_websocket_connections_opened", "WebSockets accepted, over every web process"),
    "events_received": ("oddstream_hub_events_received", "Events the web processes' hubs read from Redis pub/sub"),
    "events_superseded": (
        "oddstream_hub_events_superseded",
        "Odds frames dropped by a hub because a newer version of the same match was already waiting",
    ),
    "deliveries": ("oddstream_hub_deliveries", "Frames handed to sockets by the hubs"),
    "slow_closed": ("oddstream_websocket_slow_closes", "Sockets closed with 4408 because they stayed too far behind"),
}


def http_request_observe(method: str, status: int, seconds: float) -> None:
    method = method if method in HTTP_METHODS else "other"
    HTTP_REQUEST_DURATION.labels(method=method, status=str(status)).observe(seconds)


class DeploymentCollector(Collector):
    """Figures read from the shared state at scrape time."""

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

        latency = selectors.pipeline_latency_histogram(PIPELINE_LATENCY_BUCKETS)
        yield HistogramMetricFamily(
            "oddstream_pipeline_latency_seconds",
            "Bet commit to the publish of the odds version that counted it",
            buckets=[(repr(bound), count) for bound, count in latency.buckets] + [("+Inf", latency.count)],
            sum_value=latency.total,
        )
        yield CounterMetricFamily(
            "oddstream_odds_versions",
            "Odds versions published (one per recompute that counted new bets)",
            value=selectors.odds_versions_total(),
        )
        yield CounterMetricFamily("oddstream_bets", "Bets placed", value=selectors.bet_totals()["count"])

        lag_buckets, lag_count, lag_total = inplay_selectors.feed_lag_histogram(FEED_LAG_BUCKETS)
        yield HistogramMetricFamily(
            "oddstream_feed_lag_seconds",
            "Feed events: the provider's time of the event to its processing by the feed worker",
            buckets=[(repr(bound), count) for bound, count in lag_buckets] + [("+Inf", lag_count)],
            sum_value=lag_total,
        )
        feed_events = inplay_selectors.feed_event_counts()
        yield CounterMetricFamily("oddstream_feed_events", "Feed events received", value=feed_events["received"])
        yield GaugeMetricFamily(
            "oddstream_feed_events_waiting", "Feed events not yet processed by a worker", value=feed_events["waiting"]
        )
        yield GaugeMetricFamily(
            "oddstream_matches_in_play",
            "Matches between kick-off and full time",
            value=inplay_selectors.matches_in_play(),
        )
        yield GaugeMetricFamily(
            "oddstream_markets_suspended",
            "Markets suspended (every market of a suspended match)",
            value=inplay_selectors.markets_suspended(),
        )

        yield GaugeMetricFamily(
            "oddstream_bets_pending", "In-play bets waiting out the bet delay", value=betting_selectors.bets_pending()
        )
        decision_buckets, decision_count, decision_total = betting_selectors.bet_decision_histogram(
            BET_DECISION_BUCKETS
        )
        yield HistogramMetricFamily(
            "oddstream_bet_decision_seconds",
            "In-play bets: placement to the bet delay's decision (the delay plus the worker's lateness)",
            buckets=[(repr(bound), count) for bound, count in decision_buckets] + [("+Inf", decision_count)],
            sum_value=decision_total,
        )

        yield GaugeMetricFamily(
            "oddstream_cashouts_pending",
            "In-play cash-outs waiting out the bet delay",
            value=betting_selectors.cashouts_pending(),
        )
        cashouts = CounterMetricFamily(
            "oddstream_cashout_decisions", "In-play cash-outs decided after the bet delay", labels=["outcome"]
        )
        for outcome, count in betting_selectors.cashout_decisions_by_outcome().items():
            cashouts.add_metric([outcome], count)
        yield cashouts

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

        hub = selectors.hub_counters()
        if hub is not None:
            for key, (name, documentation) in HUB_COUNTERS.items():
                yield CounterMetricFamily(name, documentation, value=hub[key])

        if DirectWrite.available is not None:  # this web process is Daphne and has served a socket
            yield GaugeMetricFamily(
                "oddstream_realtime_direct_write",
                "1: this Daphne process writes WebSocket frames straight to its transports; 0: the probe failed",
                value=int(DirectWrite.available),
            )


class ProcessCollector(Collector):
    """This process's own metrics, when there is no multiprocess directory to read them from."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def registry() -> CollectorRegistry:
    """A fresh registry per scrape, as prometheus_client's multiprocess mode requires."""
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(DeploymentCollector())
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(scrape)
    else:
        scrape.register(ProcessCollector())
    return scrape


def render() -> bytes:
    return generate_latest(registry())
