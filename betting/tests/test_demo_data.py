"""`make run` always has something to bet on: `load_demo_data` tops the board up to five
upcoming open matches between real teams, priced by the team model, however old the data is
(the clock is moved here, not waited for)."""

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO
from unittest import mock

import numpy as np
import pytest
from django.core.management import call_command
from django.utils import timezone

from betting.engine.markets import market, outcome_masks
from betting.management.commands.load_demo_data import (
    DEMO_BETTOR_BALANCE,
    DEMO_LEAGUE,
    DEMO_OPEN_MATCHES,
    DEMO_PUNTER,
    DEMO_USER,
    demo_fixtures,
    round_robin,
)
from betting.matches import Fixture, matches_top_up
from betting.models import Match, MatchStatus, Wallet
from betting.placement import bet_place
from betting.selectors import match_list_upcoming_open
from betting.settlement import match_transition
from betting.tests.factories import MatchFactory, UserFactory
from teammodel.models import RatingFit, Result
from teammodel.selectors import fixture_score_prior, team_list_of_latest_season

pytestmark = pytest.mark.django_db

PRICES = {"home": Decimal("2.10"), "draw": Decimal("3.40"), "away": Decimal("3.50")}


def load_demo_data() -> str:
    out = StringIO()
    call_command("load_demo_data", stdout=out)
    return out.getvalue()


def upcoming_open() -> list[Match]:
    return list(match_list_upcoming_open(now=timezone.now()))


def assert_priced_by_the_model(match: Match) -> None:
    """Every market's prices, their margin taken off, are the model's probabilities for the
    fixture (to within the ladder's rounding): read from the same score matrix."""
    prior = fixture_score_prior(home=match.home_team, away=match.away_team, league=DEMO_LEAGUE)
    assert match.score_prior["source"] == "model" and match.score_prior["fit_id"] == prior.fit_id
    scores = prior.matrix.ravel()
    rows = list(match.market_rows.all())
    assert len(rows) == 15
    for row in rows:
        offered = market(row.key)
        won, void = outcome_masks(offered)
        fair = (won @ scores) / (1 - void @ scores)  # a draw no bet's draw is void, not lost
        implied = np.array([1 / float(row.prices[s]) if row.prices[s] else np.nan for s in offered.selections])
        implied *= offered.covers_each_score / np.nansum(implied)
        assert np.nanmax(np.abs(implied - fair)) < 0.01, (match, row.key, row.prices, fair)


def test_the_demo_punter_has_an_account_of_its_own_with_a_demo_balance() -> None:
    load_demo_data()
    load_demo_data()  # a second run tops nothing up twice
    for email, password in (DEMO_USER, DEMO_PUNTER):
        wallet = Wallet.objects.select_related("user").get(user__username=email)
        assert wallet.user.check_password(password) and wallet.balance == DEMO_BETTOR_BALANCE


def test_a_fresh_load_opens_five_matches_between_real_teams_at_the_models_prices() -> None:
    load_demo_data()
    first = upcoming_open()
    assert len(first) == DEMO_OPEN_MATCHES
    teams = set(team_list_of_latest_season(league=DEMO_LEAGUE))
    assert len(teams) == 20 and {"Arsenal", "Liverpool"} <= teams  # the Premier League's latest season
    on_board = Counter(team for m in first for team in (m.home_team, m.away_team))
    assert set(on_board) <= teams and max(on_board.values()) == 1  # no team plays twice
    for match in first:
        assert match.kickoff > timezone.now() + timedelta(hours=12)
        assert_priced_by_the_model(match)


def test_a_second_run_imports_fits_and_opens_nothing() -> None:
    load_demo_data()
    results, fits = Result.objects.count(), list(RatingFit.objects.values_list("pk", flat=True))
    assert results > 1000 and len(fits) == 1
    assert "Created match" not in load_demo_data()
    assert Result.objects.count() == results and list(RatingFit.objects.values_list("pk", flat=True)) == fits
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
        assert_priced_by_the_model(fresh[0])
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


def test_round_robin_plays_every_pairing_once_each_way_and_no_team_twice_a_round() -> None:
    for teams in (["A", "B", "C", "D"], ["A", "B", "C", "D", "E"]):
        rounds = list(round_robin(teams))
        pairings = [pair for pairs in rounds for pair in pairs]
        assert sorted(pairings) == sorted((h, a) for h in teams for a in teams if h != a)
        assert all(len({t for pair in pairs for t in pair}) == 2 * len(pairs) for pairs in rounds)


def test_demo_fixtures_leave_out_busy_teams_and_move_with_the_date() -> None:
    teams = [f"Team {n}" for n in range(20)]
    fixtures = list(demo_fixtures(teams, busy={"Team 3"}, start=date(2026, 1, 1)))
    assert all("Team 3" not in (f.home_team, f.away_team) and f.opening is None for f in fixtures)
    assert fixtures[0].league == DEMO_LEAGUE
    playing = [t for f in fixtures for t in (f.home_team, f.away_team)]
    assert len(playing) == len(set(playing)) == 18  # each free team once: 9 fixtures
    a_week_later = list(demo_fixtures(teams, busy=set(), start=date(2026, 1, 8)))
    assert a_week_later[:3] != list(demo_fixtures(teams, busy=set(), start=date(2026, 1, 1)))[:3]


def test_the_feed_replay_plays_beside_the_demo_matches(django_capture_on_commit_callbacks) -> None:
    """`make run` runs both: the replay's real past match (opened at its season's prices, as a
    trader would) is played and settled, and the demo's model-priced board is left as it was."""
    load_demo_data()
    board = upcoming_open()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("feed_replay", "--direct", "--speed", "3000", "--matches", "1", "--seed", "5", "--lead", "1")
    replayed = Match.objects.exclude(pk__in=[m.pk for m in board]).get()
    assert replayed.status == MatchStatus.SETTLED and replayed.score_prior["source"] == "trader"
    assert upcoming_open() == board and all(m.score_prior["source"] == "model" for m in board)
    assert "Created match" not in load_demo_data()
