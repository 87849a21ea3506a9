"""Processing the feed: state, suspension and reopening, full-time settlement, corrections."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from betting import jobs as betting_jobs
from betting import streams as odds_streams
from betting.models import Bet, BetStatus, LedgerEntry, Match, MatchStatus
from betting.selectors import ledger_audit
from betting.settlement import match_ids_to_close, match_transition
from betting.tests.factories import balance_of, new_bet_key
from inplay import jobs, services
from inplay.models import FeedEvent, MatchState

pytestmark = pytest.mark.django_db


def refreshed(match: Match) -> Match:
    match.refresh_from_db()
    return match


def match_frames(published: list) -> list[dict]:
    return [frame for stream, frame, _ in published if stream == odds_streams.ODDS and frame["type"] == "match"]


def test_kick_off_takes_the_match_in_play(feed, match) -> None:
    feed.send("kick_off", clock_rate=20.0)
    state = MatchState.objects.get(match=match)
    assert (state.period, state.clock_rate) == ("first_half", 20.0)
    assert refreshed(match).in_play and match.status == MatchStatus.OPEN


def test_a_match_in_play_takes_in_play_bets_even_before_its_scheduled_kickoff(feed, match, user_client) -> None:
    feed.send("kick_off")  # an early kick-off: the scheduled time is tomorrow
    reply = user_client.post(
        "/api/bets/",
        {"match": match.pk, "selection": "home", "stake": "10.00", "odds": 2.1},
        format="json",
        **new_bet_key(),
    )
    # Not a pre-match bet any more: an in-play one, which waits out the bet delay.
    assert reply.status_code == 202 and reply.json()["status"] == "pending"


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        ("goal", {"team": "home", "minute": 9}),
        ("red_card", {"team": "away", "minute": 9}),
        ("penalty", {"team": "home"}),
    ],
)
def test_a_goal_red_card_or_penalty_suspends_at_once_with_the_reason(
    feed, match, published, user_client, kind, fields
) -> None:
    feed.send("kick_off")
    published.clear()
    feed.send(kind, **fields)
    match = refreshed(match)
    assert (match.status, match.suspended_reason) == (MatchStatus.SUSPENDED, kind)
    [frame] = match_frames(published)
    assert (frame["status"], frame["suspended_reason"]) == ("suspended", kind)
    assert frame["events"][0]["kind"] == kind and frame["events"][0]["applied"] is True
    json.dumps(frame)
    reply = user_client.post(
        "/api/bets/",
        {"match": match.pk, "selection": "home", "stake": "10.00", "odds": 2.1},
        format="json",
        **new_bet_key(),
    )
    assert reply.status_code == 409 and reply.json() | {"detail": ""} == {
        "code": "market_suspended",
        "detail": "",
        "status": "suspended",
        "reason": kind,
    }


def test_the_match_frame_carries_the_live_state(feed, match, published) -> None:
    feed.send("kick_off", clock_rate=10.0)
    feed.send("goal", team="away", minute=12)
    frame = match_frames(published)[-1]
    assert set(frame) == {"type", "match", "status", "suspended_reason", "result", "live", "version", "events"}
    live = frame["live"]
    assert live["period"] == "first_half" and live["score"] == {"home": 0, "away": 1}
    assert live["red_cards"] == {"home": 0, "away": 0} and live["seq"] == 2
    assert live["clock"]["minute"] >= 12 and live["clock"]["running"] is True and live["clock"]["rate"] == 10.0


def test_markets_reopen_when_the_suspension_is_over(
    feed, match, published, settings, run_task, reopen_requests, django_capture_on_commit_callbacks
) -> None:
    settings.INPLAY_REOPEN_SECONDS = 10
    feed.send("kick_off")
    feed.send("goal", team="home", minute=5)
    assert reopen_requests == [(match.pk, 10)]
    state = MatchState.objects.get(match=match)
    assert state.suspended_until is not None
    # Early (the countdown ran short): nothing yet.
    assert services.match_markets_reopen(match_id=match.pk, now=state.suspended_until - timedelta(seconds=1)) is False
    assert refreshed(match).status == MatchStatus.SUSPENDED
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.match_markets_reopen(match_id=match.pk, now=state.suspended_until) is True
    assert (refreshed(match).status, match.suspended_reason) == (MatchStatus.OPEN, "")
    [frame] = match_frames(published)
    assert frame["status"] == "open" and frame["suspended_reason"] == "" and frame["events"] == []
    assert run_task(jobs.REOPEN_MARKETS, match_id=match.pk) is False  # a second delivery: nothing


def test_a_second_event_while_suspended_moves_the_reopening_on(feed, match, settings) -> None:
    settings.INPLAY_REOPEN_SECONDS = 10
    feed.send("kick_off")
    feed.send("goal", team="home", minute=5)
    first = MatchState.objects.get(match=match).suspended_until
    feed.send("red_card", team="away", minute=6)
    state = MatchState.objects.get(match=match)
    assert first is not None and state.suspended_until is not None and state.suspended_until > first
    assert refreshed(match).suspended_reason == "red_card"
    assert services.match_markets_reopen(match_id=match.pk, now=first) is False


def test_the_feed_never_lifts_a_traders_suspension(feed, match, staff_client) -> None:
    feed.send("kick_off")
    match_transition(match_id=match.pk, status=MatchStatus.SUSPENDED)  # reason: trader
    feed.send("goal", team="home", minute=5)
    assert refreshed(match).suspended_reason == "trader"
    later = timezone.now() + timedelta(minutes=5)
    assert services.match_markets_reopen(match_id=match.pk, now=later) is False
    assert services.feed_sweep(now=later)["reopened"] == []
    # A trader reopens in play (after the scheduled kick-off too).
    Match.objects.filter(pk=match.pk).update(kickoff=timezone.now() - timedelta(minutes=10))
    assert staff_client.post(f"/api/matches/{match.pk}/open/").status_code == 200


def test_a_trader_reopens_a_goal_suspension_early(feed, match, staff_client) -> None:
    feed.send("kick_off")
    feed.send("goal", team="home", minute=5)
    assert staff_client.post(f"/api/matches/{match.pk}/open/").status_code == 200
    assert services.match_markets_reopen(match_id=match.pk, now=timezone.now() + timedelta(minutes=1)) is False
    assert refreshed(match).status == MatchStatus.OPEN


def test_a_match_the_kickoff_sweep_closed_goes_back_in_play_at_the_feeds_kickoff(feed, match) -> None:
    Match.objects.filter(pk=match.pk).update(kickoff=timezone.now() - timedelta(seconds=5))
    assert match_ids_to_close(now=timezone.now()) == [match.pk]
    match_transition(match_id=match.pk, status=MatchStatus.CLOSED)
    feed.send("kick_off")
    assert (refreshed(match).status, match.in_play) == (MatchStatus.OPEN, True)
    assert match_ids_to_close(now=timezone.now()) == []
    # Closed again by a trader while in play: later events leave it closed.
    match_transition(match_id=match.pk, status=MatchStatus.CLOSED)
    feed.send("goal", team="home", minute=30)
    assert refreshed(match).status == MatchStatus.CLOSED


def test_half_time_and_the_second_half(feed, match) -> None:
    feed.send("kick_off")
    feed.send("half_time")
    assert MatchState.objects.get(match=match).period == "half_time" and refreshed(match).in_play
    feed.send("second_half")
    state = MatchState.objects.get(match=match)
    assert state.period == "second_half" and state.second_half_at is not None
    assert state.clock()["minute"] >= 46


def play(feed, *goals: str) -> None:
    feed.send("kick_off")
    for minute, team in enumerate(goals, start=10):
        feed.send("goal", team=team, minute=minute)
    feed.send("half_time")
    feed.send("second_half")
    feed.send("full_time")


def test_full_time_settles_the_match_from_the_final_score(feed, match, bets, published) -> None:
    play(feed, "home", "away", "away")
    match = refreshed(match)
    assert (match.status, match.result, match.in_play) == (MatchStatus.SETTLED, "away", False)
    assert {bet.selection: bet.status for bet in Bet.objects.all()} == {
        "home": BetStatus.LOST,
        "draw": BetStatus.LOST,
        "away": BetStatus.WON,
    }
    assert balance_of(bets["away"].user) == Decimal("1050.00")
    assert match_frames(published)[-1]["status"] == "settled" and match_frames(published)[-1]["result"] == "away"
    assert ledger_audit() == []


def test_full_time_delivered_three_times_pays_once(feed, match, bets, run_task) -> None:
    play(feed, "home")
    entries = LedgerEntry.objects.count()
    for _ in range(3):
        assert run_task(jobs.PROCESS_FEED_EVENTS, match_id=match.pk) == 0
        assert run_task(betting_jobs.SETTLE_MATCH, match_id=match.pk) == 0
    feed.send("full_time", sequence=8)  # the provider sends the whistle again: a duplicate
    assert LedgerEntry.objects.count() == entries
    assert balance_of(bets["home"].user) == Decimal("1110.00")


def test_a_correction_after_full_time_settles_again(feed, match, bets) -> None:
    play(feed, "home")
    assert balance_of(bets["home"].user) == Decimal("1110.00")
    feed.send("result_correction", score={"home": 1, "away": 1})
    match = refreshed(match)
    assert (match.status, match.result) == (MatchStatus.SETTLED, "draw")
    assert MatchState.objects.get(match=match).home_score == 1
    # As if the draw had come first.
    assert balance_of(bets["home"].user) == Decimal("900.00")
    assert balance_of(bets["draw"].user) == Decimal("1120.00")
    assert balance_of(bets["away"].user) == Decimal("980.00")
    assert ledger_audit() == []


def test_a_goal_before_the_whistle_that_arrives_after_it_settles_again(feed, match, bets) -> None:
    feed.send("kick_off", sequence=1)
    feed.send("half_time", sequence=3)
    feed.send("second_half", sequence=4)
    feed.send("full_time", sequence=6)
    assert refreshed(match).result == "draw"
    feed.send("goal", sequence=5, team="away", minute=89)  # late, but before the whistle in sequence
    assert refreshed(match).result == "away"
    feed.send("goal", sequence=7, team="home", minute=95)  # after the whistle: ignored
    assert refreshed(match).result == "away"
    assert balance_of(bets["away"].user) == Decimal("1050.00")
    assert balance_of(bets["draw"].user) == Decimal("950.00")
    assert ledger_audit() == []


def test_events_are_processed_once_and_their_lag_recorded(feed_client, match, run_task) -> None:
    from inplay.tests.conftest import Feed

    Feed(feed_client, match.pk).send("kick_off")  # not processed on commit here
    event = FeedEvent.objects.get()
    assert event.processed_at is None
    assert run_task(jobs.PROCESS_FEED_EVENTS, match_id=match.pk) == 1
    assert run_task(jobs.PROCESS_FEED_EVENTS, match_id=match.pk) == 0
    event.refresh_from_db()
    assert event.processed_at is not None and event.lag_ms >= 0


def test_the_sweep_processes_events_whose_task_was_lost(feed_client, match, settings, monkeypatch) -> None:
    from inplay.tests.conftest import Feed

    def broker_down(**_: object) -> None:
        raise ConnectionError("broker down")

    monkeypatch.setattr(jobs, "feed_events_process_enqueue", broker_down)
    Feed(feed_client, match.pk).send("kick_off")  # stored, 202: the enqueue failed quietly
    assert services.feed_sweep()["processed"] == []  # too recent: its task may be on its way
    later = timezone.now() + timedelta(seconds=settings.INPLAY_SWEEP_SECONDS + 1)
    assert services.feed_sweep(now=later)["processed"] == [match.pk]
    assert refreshed(match).in_play


def test_the_sweep_reopens_markets_whose_countdown_was_lost(feed, match) -> None:
    feed.send("kick_off")
    feed.send("goal", team="home", minute=5)
    later = timezone.now() + timedelta(minutes=1)
    assert services.feed_sweep(now=later)["reopened"] == [match.pk]
    assert refreshed(match).status == MatchStatus.OPEN


def test_a_void_match_is_never_settled_by_the_feed(feed, match, bets, django_capture_on_commit_callbacks) -> None:
    feed.send("kick_off")
    with django_capture_on_commit_callbacks(execute=True):
        match_transition(match_id=match.pk, status=MatchStatus.VOID)
    feed.send("full_time")
    assert refreshed(match).status == MatchStatus.VOID
    assert all(bet.status == BetStatus.VOID for bet in Bet.objects.all())
