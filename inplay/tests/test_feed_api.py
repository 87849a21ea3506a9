"""The feed endpoint: its own credential, clear 400s, duplicates and conflicts; the timeline."""

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from betting.tests.factories import MatchFactory, UserFactory
from inplay.credentials import feed_provider_token_issue
from inplay.models import FeedEvent, FeedProvider
from inplay.state import MAX_CLOCK_RATE
from inplay.tests.conftest import Feed

pytestmark = pytest.mark.django_db


def body(target, **fields) -> dict:
    return {
        "event_id": "ev-1",
        "match": target.pk,
        "sequence": 1,
        "kind": "kick_off",
        "occurred_at": "2025-12-06T20:00:00Z",
        **fields,
    }


def test_a_provider_appends_an_event_with_its_token(feed_client, match) -> None:
    reply = feed_client.post("/api/feed/events/", body(match), format="json")
    assert reply.status_code == 202, reply.content
    assert reply.json() == {
        "event": {
            "id": "ev-1",
            "sequence": 1,
            "kind": "kick_off",
            "team": None,
            "minute": None,
            "occurred_at": "2025-12-06T20:00:00+00:00",
        },
        "duplicate": False,
    }
    assert FeedEvent.objects.get().provider.name == "test-provider"


def test_no_token_or_a_wrong_one_is_401_naming_the_feed_scheme(api_client, match) -> None:
    reply = api_client.post("/api/feed/events/", body(match), format="json")
    assert reply.status_code == 401 and reply["WWW-Authenticate"] == 'Feed realm="feed"'
    api_client.credentials(HTTP_AUTHORIZATION="Feed feed_not-a-real-token")
    assert api_client.post("/api/feed/events/", body(match), format="json").status_code == 401
    assert not FeedEvent.objects.exists()


def test_a_bettors_jwt_or_session_is_refused_with_403(match) -> None:
    bettor = UserFactory()
    client = APIClient()
    access = AccessToken.for_user(bettor)  # type: ignore[type-var]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    reply = client.post("/api/feed/events/", body(match), format="json")
    assert reply.status_code == 403 and "feed token" in reply.json()["detail"]
    staff = APIClient()
    staff.force_authenticate(UserFactory(is_staff=True, is_superuser=True))
    assert staff.post("/api/feed/events/", body(match), format="json").status_code == 403
    assert not FeedEvent.objects.exists()


def test_a_reissued_token_replaces_the_old_one(match) -> None:
    old = feed_provider_token_issue(name="acme")
    new = feed_provider_token_issue(name="acme")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Feed {old}")
    assert client.post("/api/feed/events/", body(match), format="json").status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Feed {new}")
    assert client.post("/api/feed/events/", body(match), format="json").status_code == 202
    assert FeedProvider.objects.get().token_sha256 != new  # only its digest is kept


def test_failed_tokens_are_limited_per_address(api_client, match, settings, feed_token) -> None:
    settings.FEED_AUTH_FAILURES_PER_MINUTE = 3
    api_client.credentials(HTTP_AUTHORIZATION="Feed wrong")
    assert [api_client.post("/api/feed/events/", body(match), format="json").status_code for _ in range(4)] == [
        401,
        401,
        401,
        429,
    ]
    # Locked out: even the right token waits, so guessing gains nothing.
    api_client.credentials(HTTP_AUTHORIZATION=f"Feed {feed_token}")
    assert api_client.post("/api/feed/events/", body(match), format="json").status_code == 429


def test_the_token_command_prints_a_working_token(match, capsys) -> None:
    call_command("feed_token", "opta")
    token = capsys.readouterr().out.strip()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Feed {token}")
    assert client.post("/api/feed/events/", body(match), format="json").status_code == 202


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "goal", "minute": 3}, "team"),
        ({"kind": "goal", "team": "home"}, "minute"),
        ({"kind": "goal", "team": "both", "minute": 3}, "team"),
        ({"kind": "goal_disallowed"}, "cancels"),
        ({"kind": "result_correction"}, "score"),
        ({"kind": "result_correction", "score": {"home": -1, "away": 0}}, "score"),
        ({"kind": "result_correction", "score": {"home": "2", "away": 0}}, "score"),
        ({"kind": "half_time", "team": "home"}, "team"),
        ({"kind": "goal", "team": "home", "minute": 3, "clock_rate": 20}, "clock_rate"),
        ({"kind": "free_kick"}, "kind"),
        ({"sequence": 0}, "sequence"),
        ({"sequence": "7"}, "sequence"),
        ({"event_id": "has spaces"}, "event_id"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"occurred_at": "2099-01-01T00:00:00Z"}, "occurred_at"),
        ({"match": 999999}, "match"),
    ],
)
def test_bad_events_are_400_naming_the_field(feed_client, match, fields, field) -> None:
    reply = feed_client.post("/api/feed/events/", body(match, **fields), format="json")
    assert reply.status_code == 400, reply.content
    assert reply.json()["code"] == "invalid" and field in reply.json()["errors"], reply.json()
    assert not FeedEvent.objects.exists()


@pytest.mark.parametrize("rate", [300, 600, MAX_CLOCK_RATE])
def test_a_kick_off_takes_the_clock_rates_the_replay_runs_at(feed_client, match, rate) -> None:
    # `feed_replay --speed 300` over HTTP posts its kick-off with clock_rate 300: refused, the
    # match would never start and every later event of it would be ignored before kick-off.
    reply = feed_client.post("/api/feed/events/", body(match, clock_rate=rate), format="json")
    assert reply.status_code == 202, reply.content


def test_a_clock_rate_past_the_bound_is_400(feed_client, match) -> None:
    reply = feed_client.post("/api/feed/events/", body(match, clock_rate=MAX_CLOCK_RATE + 1), format="json")
    assert reply.status_code == 400 and "clock_rate" in reply.json()["errors"], reply.json()


def test_a_body_that_is_not_json_is_400(feed_client) -> None:
    reply = feed_client.post("/api/feed/events/", data="{nope", content_type="application/json")
    assert reply.status_code == 400 and reply.json()["code"] == "malformed"


def test_the_same_event_twice_is_a_duplicate_that_changes_nothing(feed_client, match) -> None:
    assert feed_client.post("/api/feed/events/", body(match), format="json").status_code == 202
    again = feed_client.post("/api/feed/events/", body(match), format="json")
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert FeedEvent.objects.count() == 1


def test_a_taken_id_or_sequence_with_other_content_is_409(feed_client, match) -> None:
    feed_client.post("/api/feed/events/", body(match), format="json")
    same_id = feed_client.post("/api/feed/events/", body(match, kind="half_time"), format="json")
    assert same_id.status_code == 409 and same_id.json()["code"] == "event_conflict"
    same_sequence = feed_client.post("/api/feed/events/", body(match, event_id="ev-2"), format="json")
    assert same_sequence.status_code == 409 and same_sequence.json()["sequence"] == 1
    assert FeedEvent.objects.count() == 1


def test_a_match_is_fed_by_one_provider(feed_client, match) -> None:
    feed_client.post("/api/feed/events/", body(match), format="json")
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Feed {feed_provider_token_issue(name='other')}")
    reply = other.post("/api/feed/events/", body(match, event_id="x-1"), format="json")
    assert reply.status_code == 409 and reply.json()["code"] == "match_fed_by_another_provider"


def test_the_timeline_lists_events_in_sequence_with_what_they_did(api_client, feed, match) -> None:
    feed.send("kick_off", sequence=1)
    feed.send("goal", sequence=3, team="home", minute=10)
    feed.send("goal", sequence=2, team="away", minute=4)  # arrives late, folded in its place
    feed.send("goal_disallowed", sequence=4, cancels=f"m{match.pk}-3", minute=11)
    feed.send("goal_disallowed", sequence=5, cancels="nothing", minute=12)
    reply = api_client.get(f"/api/matches/{match.pk}/events/")
    assert reply.status_code == 200
    timeline = reply.json()
    assert [event["sequence"] for event in timeline["events"]] == [1, 2, 3, 4, 5]
    assert [event["applied"] for event in timeline["events"]] == [True, True, True, True, False]
    assert timeline["events"][4]["ignored_because"] == "no such goal"
    assert timeline["live"]["score"] == {"home": 0, "away": 1}
    assert timeline["live"]["period"] == "first_half"
    assert api_client.get("/api/matches/999999/events/").status_code == 404


def test_the_match_api_carries_the_live_state(api_client, feed, match) -> None:
    assert api_client.get(f"/api/matches/{match.pk}/").json()["live"] is None
    feed.send("kick_off", clock_rate=30.0)
    feed.send("red_card", team="away", minute=20)
    live = api_client.get(f"/api/matches/{match.pk}/").json()["live"]
    assert live["period"] == "first_half" and live["red_cards"] == {"home": 0, "away": 1}
    assert live["clock"]["running"] and live["clock"]["rate"] == 30.0 and live["clock"]["minute"] >= 20
    listed = {m["id"]: m for m in api_client.get("/api/matches/").json()["results"]}
    assert listed[match.pk]["live"]["seq"] == 2


def test_a_goal_posted_by_one_feed_is_not_another_matchs(feed_client, match) -> None:
    other = MatchFactory()
    Feed(feed_client, match.pk).send("kick_off")
    Feed(feed_client, other.pk).send("kick_off")
    assert FeedEvent.objects.filter(match_id=other.pk).count() == 1
