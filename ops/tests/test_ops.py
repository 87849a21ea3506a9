import asyncio
import json
import logging
import time
from decimal import Decimal
from typing import cast

import pytest
import redis
from celery import current_app as app
from django.conf import settings
from prometheus_client.parser import text_string_to_metric_families

from betting.placement import bet_place
from betting.tests.factories import MatchFactory, UserFactory
from ops import request_id
from realtime import presence
from realtime.counters import HUB_COUNTERS, hub_counters_flush, hub_counters_key

pytestmark = pytest.mark.django_db
TOKEN = "a-metrics-token-for-the-tests-0123456789"


@pytest.fixture
def metrics_client(client, settings):
    settings.METRICS_TOKEN = TOKEN
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"
    return client


def scrape(client) -> dict:
    response = client.get("/metrics")
    assert response.status_code == 200
    # prometheus_client's parser: the exposition must parse, family by family.
    return {family.name: family for family in text_string_to_metric_families(response.content.decode())}


def value(families: dict, sample_name: str, **labels: str) -> float:
    family_name = sample_name.removesuffix("_total")
    for family in families.values():
        for sample in family.samples:
            if sample.name == sample_name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    raise AssertionError(f"{sample_name} {labels} not exported (family {family_name})")


def test_metrics_need_the_token_or_a_staff_session(client, settings) -> None:
    settings.METRICS_TOKEN = TOKEN
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
    client.force_login(UserFactory())
    assert client.get("/metrics").status_code == 401
    client.force_login(UserFactory(is_staff=True))
    assert client.get("/metrics").status_code == 200


def test_metrics_without_a_token_configured_are_staff_only(client, settings) -> None:
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401


@pytest.mark.redis
def test_metrics_follow_prometheus_conventions(metrics_client) -> None:
    families = scrape(metrics_client)
    ours = {name: family for name, family in families.items() if name.startswith("oddstream_")}
    assert ours, "no oddstream_ metric exported"
    for name, family in ours.items():
        assert not name.endswith(("_ms", "_milliseconds")), f"{name}: not in base units"
        if family.type == "counter":
            assert all(s.name.endswith(("_total", "_created")) for s in family.samples), name
        assert family.documentation, f"{name} has no help text"
    assert families["oddstream_pipeline_latency_seconds"].type == "histogram"
    assert families["oddstream_http_request_duration_seconds"].type == "histogram"
    for counter in ("oddstream_bets", "oddstream_odds_versions", "oddstream_hub_deliveries"):
        assert families[counter].type == "counter", counter
    # No family keeps the old gauge-with-quantile shape.
    assert all("quantile" not in s.labels for f in ours.values() for s in f.samples)


def test_metrics_expose_queues_backlog_and_latency(metrics_client) -> None:
    match = MatchFactory()
    bet_place(user=UserFactory(), match_id=match.pk, selection="home", stake=Decimal("10.00"), accept_odds_change="any")
    families = scrape(metrics_client)
    assert value(families, "oddstream_queue_messages", queue="odds") >= 0
    assert value(families, "oddstream_uncounted_bets") == 1  # on_commit not run: the bet is not counted yet
    assert value(families, "oddstream_matches_behind") == 1
    assert value(families, "oddstream_matches", status="open") == 1
    assert value(families, "oddstream_bets_total") == 1


def test_pipeline_latency_is_a_cumulative_histogram_in_seconds(metrics_client) -> None:
    from betting.models import Match, OddsVersion

    match = Match.objects.get(pk=MatchFactory().pk)
    for version, latency_ms in enumerate((3.0, 40.0, 40.0, 2000.0), start=2):  # after the opening version
        OddsVersion.objects.create(match=match, version=version, home=2, draw=3, away=4, pipeline_latency_ms=latency_ms)
    families = scrape(metrics_client)
    bucket = lambda le: value(families, "oddstream_pipeline_latency_seconds_bucket", le=le)  # noqa: E731
    assert bucket("0.005") == 1
    assert bucket("0.05") == 3
    assert bucket("2.5") == 4
    assert bucket("+Inf") == 4
    assert value(families, "oddstream_pipeline_latency_seconds_count") == 4
    assert value(families, "oddstream_pipeline_latency_seconds_sum") == pytest.approx(2.083)
    assert value(families, "oddstream_odds_versions_total") >= 4


@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")  # send_task really enqueues
def test_queue_depth_comes_from_the_broker(metrics_client) -> None:
    app.send_task("workers.tasks.reconcile_odds", queue="settlement", routing_key="settlement")
    try:
        assert value(scrape(metrics_client), "oddstream_queue_messages", queue="settlement") == 1
    finally:
        with app.connection_for_write() as connection:
            connection.default_channel.queue_purge("settlement")


@pytest.mark.redis
def test_metrics_count_sockets_from_presence(metrics_client) -> None:
    connection = redis.Redis.from_url(settings.REDIS_URL)
    connection.zadd(presence.processes_key(), {"test-process": time.time() + 60})
    connection.hset(presence.process_key("test-process"), mapping={"odds": 3, "blog": 2})
    families = scrape(metrics_client)
    assert value(families, "oddstream_websocket_connections", stream="odds") == 3
    assert value(families, "oddstream_websocket_connections", stream="blog") == 2


@pytest.mark.redis
def test_hub_counters_add_up_over_processes(metrics_client) -> None:
    import redis.asyncio as aioredis

    redis.Redis.from_url(settings.REDIS_URL).delete(hub_counters_key())

    async def two_processes_flush() -> None:
        client = aioredis.Redis.from_url(settings.REDIS_URL)
        first: dict[str, int] = {}
        second: dict[str, int] = {}
        totals = dict.fromkeys(HUB_COUNTERS, 0)
        await hub_counters_flush(client, {**totals, "deliveries": 10, "sockets_opened": 2}, first)
        await hub_counters_flush(client, {**totals, "deliveries": 15, "sockets_opened": 2}, first)  # +5
        await hub_counters_flush(client, {**totals, "deliveries": 7, "slow_closed": 1}, second)
        await client.aclose()

    asyncio.run(two_processes_flush())
    families = scrape(metrics_client)
    assert value(families, "oddstream_hub_deliveries_total") == 22
    assert value(families, "oddstream_websocket_connections_opened_total") == 2
    assert value(families, "oddstream_websocket_slow_closes_total") == 1
    assert value(families, "oddstream_hub_events_superseded_total") == 0


def test_request_metrics_count_requests(metrics_client) -> None:
    before = scrape(metrics_client)
    metrics_client.get("/no-such-page/")
    after = scrape(metrics_client)
    labels = {"method": "GET", "status": "404"}
    counted = value(after, "oddstream_http_request_duration_seconds_count", **labels)
    try:
        earlier = value(before, "oddstream_http_request_duration_seconds_count", **labels)
    except AssertionError:
        earlier = 0
    assert counted == earlier + 1


def test_ops_page_is_staff_only_and_links_to_flower_from_settings(client, settings) -> None:
    settings.FLOWER_URL = "https://ops.example.com/flower/"
    assert client.get("/ops/").status_code == 302
    client.force_login(UserFactory(is_staff=True))
    page = client.get("/ops/")
    assert page.status_code == 200
    assert b"Odds pipeline" in page.content
    assert b'href="https://ops.example.com/flower/"' in page.content
    assert b"127.0.0.1:5555" not in page.content
    assert b'id="latency-chart"' in page.content and b'id="rate-chart"' in page.content
    status = client.get("/ops/status.json").json()
    assert set(status) >= {"queues", "websockets", "workers", "uncounted", "pipeline", "series"}
    series = status["series"]
    assert len(series["t"]) == len(series["recomputes_per_second"]) == len(series["latency_p99_ms"]) > 0


def test_request_id_is_echoed_when_sane_and_replaced_when_not(client) -> None:
    sane = client.get("/healthz", HTTP_X_REQUEST_ID="lb-0123456789abcdef")
    assert sane["X-Request-ID"] == "lb-0123456789abcdef"
    for bad in ("short", "x" * 65, "evil\r\nheader: 1", "<script>alert(1)</script>"):
        replaced = client.get("/healthz", HTTP_X_REQUEST_ID=bad)["X-Request-ID"]
        assert replaced != bad and len(replaced) == 32
    assert len(client.get("/healthz")["X-Request-ID"]) == 32


def test_request_id_reaches_the_task_headers_and_the_log_records(caplog) -> None:
    headers: dict = {}
    token = request_id.request_id_set("bet-request-000001")
    try:
        request_id._task_publish_carries_request_id(headers=headers)
        record = logging.LogRecord("betting", logging.INFO, __file__, 1, "bet placed", None, None)
        request_id.RequestIdFilter().filter(record)
    finally:
        request_id.request_id_reset(token)
    assert headers == {"request_id": "bet-request-000001"}
    assert record.request_id == "bet-request-000001"

    class Task:
        class request:
            request_id = "bet-request-000001"

    request_id._task_takes_request_id(task_id="t1", task=Task())
    assert request_id.request_id_get() == "bet-request-000001"
    request_id._task_drops_request_id(task_id="t1")
    assert request_id.request_id_get() is None


def test_json_log_format_is_one_object_per_line_with_the_request_id() -> None:
    import io

    from pythonjsonlogger.json import JsonFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    config = cast(dict, settings.LOGGING["formatters"])["json"]
    handler.setFormatter(JsonFormatter(config["format"], rename_fields=config["rename_fields"]))
    handler.addFilter(request_id.RequestIdFilter())
    log = logging.getLogger("ops.tests.json")
    log.addHandler(handler)
    log.propagate = False
    token = request_id.request_id_set("bet-request-000002")
    try:
        log.warning("odds published\nsecond line", extra={"match": 7})
    finally:
        request_id.request_id_reset(token)
        log.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["request_id"] == "bet-request-000002"
    assert entry["level"] == "WARNING" and entry["logger"] == "ops.tests.json" and entry["match"] == 7
    assert entry["message"] == "odds published\nsecond line"


def test_sentry_reports_carry_the_request_id() -> None:
    import sentry_sdk
    from sentry_sdk.transport import Transport

    from ops.sentry import sentry_init

    sent: list = []

    class Capture(Transport):
        def capture_envelope(self, envelope) -> None:
            sent.extend(item.payload.json for item in envelope.items if item.payload.json)

    sentry_init(dsn="http://public@127.0.0.1:9/1", environment="test", traces_sample_rate=0.0, transport=Capture)
    token = request_id.request_id_set("bet-request-000003")
    try:
        sentry_sdk.capture_exception(RuntimeError("settlement failed"))
        sentry_sdk.flush()
    finally:
        request_id.request_id_reset(token)
        sentry_sdk.init()  # off again for the other tests
    assert sent and sent[0]["tags"]["request_id"] == "bet-request-000003"
    assert sent[0]["environment"] == "test"


def test_static_files_pass_through_the_request_id_middleware(client) -> None:
    """whitenoise answers with a streaming FileResponse, not an HttpResponse: still a 200."""
    response = client.get("/static/frontend/css/oddstream.css")
    assert response.status_code == 200
    assert len(response["X-Request-ID"]) == 32
