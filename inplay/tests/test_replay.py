"""The replay: drawn minutes agree with the real scores, and the command plays whole matches."""

import random
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from hypothesis import given
from hypothesis import strategies as st

from betting.engine.ladder import is_on_ladder
from betting.models import Match, MatchStatus
from inplay import replay
from inplay.models import FeedEvent
from inplay.state import MAX_CLOCK_RATE, FeedItem, Kind, Period, fold

T0 = datetime(2025, 1, 1, tzinfo=UTC)


@st.composite
def played_matches(draw) -> replay.PlayedMatch:
    half = (draw(st.integers(0, 4)), draw(st.integers(0, 4)))
    full = (half[0] + draw(st.integers(0, 4)), half[1] + draw(st.integers(0, 4)))
    return replay.PlayedMatch(
        "league",
        "2425",
        "2025-01-01",
        "Home FC",
        "Away FC",
        half,
        full,
        (draw(st.integers(0, 2)), draw(st.integers(0, 2))),
    )


@given(played=played_matches(), seed=st.integers(0, 2**32))
def test_drawn_minutes_agree_with_the_half_time_and_full_time_scores(played, seed) -> None:
    events = replay.script(played, random.Random(seed))
    kinds = [event.kind for event in events]
    assert kinds[0] == Kind.KICK_OFF and kinds[-1] == Kind.FULL_TIME
    assert [event.at for event in events] == sorted(event.at for event in events)
    half_time = kinds.index(Kind.HALF_TIME)
    first_half = [e for e in events[:half_time] if e.kind == Kind.GOAL]
    assert (sum(e.team == "home" for e in first_half), sum(e.team == "away" for e in first_half)) == played.half_time
    assert all(e.minute is not None and 1 <= e.minute <= 48 for e in first_half)
    second_half = [e for e in events[half_time:] if e.kind == Kind.GOAL]
    assert all(e.minute is not None and 46 <= e.minute <= 95 for e in second_half)
    items = [FeedItem(str(i), i + 1, e.kind, T0, e.team, e.minute) for i, e in enumerate(events)]
    state = fold(items)
    assert (state.period, state.score, state.red_cards) == (Period.FULL_TIME, played.full_time, played.red_cards)


def test_the_same_seed_plays_the_same_match_the_same_way() -> None:
    played = replay.PlayedMatch("l", "s", "d", "A", "B", (1, 0), (2, 1), (0, 1))
    assert replay.script(played, random.Random(5)) == replay.script(played, random.Random(5))


def test_real_seasons_load_and_price_on_the_ladder() -> None:
    seasons = replay.seasons(settings.FOOTBALL_DATA_DIR)
    assert len(seasons) >= 40
    season = replay.season_matches(seasons[0])
    assert len(season) > 300
    prices = replay.opening_prices(season[0], season)
    assert all(is_on_ladder(price) and price > Decimal("1.01") for price in prices.values())
    book = sum(1 / price for price in prices.values())
    assert Decimal("1.0") < book < Decimal("1.12")


@pytest.mark.parametrize("speed", ["0", str(MAX_CLOCK_RATE + 1)])
def test_the_command_refuses_a_speed_the_feed_would_refuse(speed) -> None:
    with pytest.raises(CommandError, match="--speed"):
        call_command("feed_replay", "--speed", speed, "--matches", "1")


@pytest.mark.django_db
def test_the_command_plays_whole_matches_and_settles_them(capsys, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        call_command("feed_replay", "--direct", "--speed", "3000", "--matches", "2", "--seed", "11", "--lead", "1")
    matches = list(Match.objects.order_by("pk"))
    assert len(matches) == 2
    for match in matches:
        assert match.status == MatchStatus.SETTLED and not match.in_play
        assert match.live_state.period == "full_time"
        assert not FeedEvent.objects.filter(match=match, processed_at=None).exists()
    assert "kick-off in" in capsys.readouterr().out
