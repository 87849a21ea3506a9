"""The feed's metrics at /metrics and on /ops/: lag, matches in play, markets suspended."""

from datetime import timedelta
from decimal import Decimal

import pytest
from prometheus_client.parser import text_string_to_metric_families

from betting.models import Market
from inplay.models import FeedEvent

pytestmark = pytest.mark.django_db
TOKEN = "a-metrics-token-for-the-feed-tests-0123456"


def scrape(client, settings) -> dict:
    settings.METRICS_TOKEN = TOKEN
    reply = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert reply.status_code == 200
    samples = {}
    for family in text_string_to_metric_families(reply.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_feed_lag_in_play_and_suspended_are_exported(client, settings, feed, match) -> None:
    feed.send("kick_off")
    feed.send("goal", team="home", minute=3)
    FeedEvent.objects.filter(sequence=1).update(lag_ms=30.0)  # the first at 30 ms, the goal as measured
    samples = scrape(client, settings)
    assert samples[("oddstream_matches_in_play", ())] == 1
    markets = Market.objects.filter(match=match).count()
    assert markets > 1 and samples[("oddstream_markets_suspended", ())] == markets  # a goal suspends them all
    assert samples[("oddstream_feed_events_total", ())] == 2
    assert samples[("oddstream_feed_events_waiting", ())] == 0
    assert samples[("oddstream_feed_lag_seconds_count", ())] == 2
    assert samples[("oddstream_feed_lag_seconds_bucket", (("le", "0.025"),))] <= 1
    assert samples[("oddstream_feed_lag_seconds_bucket", (("le", "0.05"),))] >= 1
    assert samples[("oddstream_feed_lag_seconds_bucket", (("le", "+Inf"),))] == 2


def test_the_ops_page_shows_the_feed(client, feed, match) -> None:
    from betting.tests.factories import UserFactory

    feed.send("kick_off")
    feed.send("red_card", team="away", minute=10)
    client.force_login(UserFactory(is_staff=True))
    status = client.get("/ops/status.json").json()["inplay"]
    markets = Market.objects.filter(match=match).count()
    assert (status["matches_in_play"], status["markets_suspended"]) == (1, markets)
    assert status["feed_events"] == {"received": 2, "waiting": 0}
    assert status["feed_lag_ms"]["events"] == 2 and status["feed_lag_ms"]["p50"] >= 0
    page = client.get("/ops/").content.decode()
    assert 'id="matches-in-play">1<' in page and f'id="markets-suspended">{markets}<' in page


def test_bets_pending_and_their_decision_times_are_exported(client, settings, feed, match, user) -> None:
    from betting import delay
    from betting.placement import bet_place
    from betting.tests.factories import UserFactory

    feed.send("kick_off")
    stake = Decimal("5.00")
    first = bet_place(user=user, match_id=match.pk, selection="home", stake=stake, quoted_odds=Decimal("2.10"))
    second = bet_place(user=user, match_id=match.pk, selection="away", stake=stake, quoted_odds=Decimal("3.50"))
    assert first.decide_at is not None
    delay.bet_delay_decide(bet_id=first.pk, now=first.decide_at + timedelta(seconds=1))
    samples = scrape(client, settings)
    assert samples[("oddstream_bets_pending", ())] == 1
    assert samples[("oddstream_bet_decision_seconds_count", ())] == 1
    assert samples[("oddstream_bet_decision_seconds_bucket", (("le", "6.5"),))] == 0
    assert samples[("oddstream_bet_decision_seconds_bucket", (("le", "7.0"),))] == 1
    client.force_login(UserFactory(is_staff=True))
    status = client.get("/ops/status.json").json()["inplay"]
    assert status["bets_pending"] == 1 and second.status == "pending"
    assert status["bet_decision_ms"]["bets"] == 1 and 6900 <= status["bet_decision_ms"]["p50"] <= 7100
    assert 'id="bets-pending">1<' in client.get("/ops/").content.decode()
