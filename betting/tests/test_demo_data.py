"""`make run` always has something to bet on: `load_demo_data` tops the board up to five
upcoming open matches, however old the data is (the clock is moved here, not waited for)."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.utils import timezone

from betting.management.commands.load_demo_data import DEMO_MATCHES, DEMO_OPEN_MATCHES
from betting.matches import Fixture, matches_top_up
from betting.models import Match, MatchStatus
from betting.placement import bet_place
from betting.selectors import match_list_upcoming_open
from betting.settlement import match_transition
from betting.tests.factories import MatchFactory, UserFactory

pytestmark = pytest.mark.django_db

PRICES = {"home": Decimal("2.10"), "draw": Decimal("3.40"), "away": Decimal("3.50")}


def load_demo_data() -> str:
    out = StringIO()
    call_command("load_demo_data", stdout=out)
    return out.getvalue()


def upcoming_open() -> list[Match]:
    return list(match_list_upcoming_open(now=timezone.now()))


def test_a_fresh_load_opens_five_matches_and_a_second_run_adds_none() -> None:
    load_demo_data()
    first = upcoming_open()
    assert len(first) == DEMO_OPEN_MATCHES == len(DEMO_MATCHES)
    assert all(m.market_rows.count() == 15 and m.kickoff > timezone.now() + timedelta(hours=12) for m in first)
    assert "Created match" not in load_demo_data()
    assert Match.objects.count() == DEMO_OPEN_MATCHES


def test_a_week_after_loading_the_board_is_topped_up_again() -> None:
    load_demo_data()
    week_later = timezone.now() + timedelta(days=7)
    with mock.patch("django.utils.timezone.now", return_value=week_later):
        assert upcoming_open() == []  # every first demo match has kicked off
        load_demo_data()
        fresh = upcoming_open()
        assert len(fresh) >= DEMO_OPEN_MATCHES
        assert all(m.kickoff > week_later for m in fresh)
        # Something a newcomer can really bet on, at the moved clock.
        bet = bet_place(
            user=UserFactory(), match_id=fresh[0].pk, selection="home", stake=Decimal("5.00"), accept_odds_change="any"
        )
        assert bet.pk is not None
    assert Match.objects.count() == 2 * DEMO_OPEN_MATCHES  # the old ones stay, as history


def test_matches_settled_or_suspended_are_replaced_with_open_ones() -> None:
    load_demo_data()
    first, second = upcoming_open()[:2]
    match_transition(match_id=first.pk, status=MatchStatus.SUSPENDED)
    match_transition(match_id=second.pk, status=MatchStatus.VOID)
    created = load_demo_data().count("Created match")
    assert created == 2 and len(upcoming_open()) == DEMO_OPEN_MATCHES


def test_top_up_counts_every_open_match_and_skips_pairings_already_on_the_board() -> None:
    MatchFactory(home_team="A", away_team="B", kickoff=timezone.now() + timedelta(days=3))
    MatchFactory(home_team="Old", away_team="Match", kickoff=timezone.now() - timedelta(hours=1))  # kicked off
    fixtures = [Fixture("A", "B", PRICES), Fixture("C", "D", PRICES), Fixture("E", "F", PRICES)]
    created = matches_top_up(wanted=3, fixtures=iter(fixtures))
    assert [(m.home_team, m.away_team) for m in created] == [("C", "D"), ("E", "F")]
    latest = timezone.now() + timedelta(days=3)
    assert created[0].kickoff >= latest and created[1].kickoff - created[0].kickoff == timedelta(hours=3)
    assert matches_top_up(wanted=3, fixtures=iter(fixtures)) == []
