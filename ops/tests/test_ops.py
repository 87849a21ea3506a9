from decimal import Decimal

import pytest

from betting.services import bet_place
from betting.tests.factories import MatchFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_metrics_expose_queues_backlog_and_latency(client) -> None:
    match = MatchFactory()
    bet_place(user=UserFactory(), match_id=match.pk, selection="home", stake=Decimal("10.00"))
    body = client.get("/metrics").content.decode()
    assert 'oddstream_queue_messages{queue="odds"}' in body
    assert "oddstream_uncounted_bets 1.0" in body  # on_commit not run: the bet is not counted yet
    assert "oddstream_matches_behind 1.0" in body
    assert 'oddstream_matches{status="open"} 1.0' in body


def test_ops_page_is_staff_only(client) -> None:
    assert client.get("/ops/").status_code == 302
    client.force_login(UserFactory(is_staff=True))
    page = client.get("/ops/")
    assert page.status_code == 200
    assert b"Odds pipeline" in page.content
    status = client.get("/ops/status.json").json()
    assert set(status) >= {"queues", "websockets", "workers", "uncounted", "pipeline"}


def test_metrics_count_sockets_from_presence(client) -> None:
    import time

    import redis
    from django.conf import settings

    from realtime import presence

    connection = redis.Redis.from_url(settings.REDIS_URL)
    connection.zadd(presence.processes_key(), {"test-process": time.time() + 60})
    connection.hset(presence.process_key("test-process"), mapping={"odds": 3, "blog": 2})
    body = client.get("/metrics").content.decode()
    assert 'oddstream_websocket_connections{stream="odds"} 3.0' in body
    assert 'oddstream_websocket_connections{stream="blog"} 2.0' in body
