"""Every market of a match, bettable and settled: placement on each kind, the refusals
(unknown market, suspended, closed, stake too high), settlement from the final score with its
void rules, corrections, trader overrides and what the frames carry."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from betting import events, matches
from betting.engine.markets import decided_outcome, decided_selections, match_markets
from betting.models import Bet, BetStatus, LedgerEntry, Market, Match, MatchStatus, PriceOverride
from betting.placement import bet_place
from betting.pricing import match_odds_recompute
from betting.selectors import ledger_audit
from betting.settlement import match_result_correct, match_transition
from betting.tests.factories import UserFactory, balance_of, new_bet_key, settle

pytestmark = pytest.mark.django_db


@pytest.fixture
def trader_user(db):
    from django.contrib.auth.models import Group

    from betting.permissions import TRADERS_GROUP

    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=TRADERS_GROUP))
    return user


@pytest.fixture
def trader_client(trader_user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(trader_user)
    return client


# One bet on each kind of market, and what it does on a final score of 2-1.
ONE_OF_EACH_KIND = (
    ("1x2", "home", BetStatus.WON),
    ("double_chance", "draw_or_away", BetStatus.LOST),
    ("draw_no_bet", "home", BetStatus.WON),
    ("over_under_2_5", "over", BetStatus.WON),
    ("over_under_3_5", "over", BetStatus.LOST),
    ("both_teams_to_score", "yes", BetStatus.WON),
    ("correct_score", "2-1", BetStatus.WON),
    ("correct_score", "other", BetStatus.LOST),
)


def price_of(match: Match, market: str, selection: str) -> Decimal:
    return Decimal(Market.objects.get(match=match, key=market).prices[selection])


def place(user, match: Match, market: str, selection: str, stake: str = "10.00") -> Bet:
    return bet_place(
        user=user,
        match_id=match.pk,
        market=market,
        selection=selection,
        stake=Decimal(stake),
        quoted_odds=price_of(match, market, selection),
    )


def test_every_match_has_its_fifteen_markets_open(match) -> None:
    rows = list(Market.objects.filter(match=match))
    assert [row.key for row in rows] == [m.key for m in match_markets(match.asian_handicap_lines)]
    assert len(rows) == 15 and {row.status for row in rows} == {"open"}
    assert all(row.prices and set(row.prices) == set(row.max_stakes) for row in rows)
    assert match.current_prices == {s: Decimal(p) for s, p in rows[0].prices.items()}  # the 1X2 mirror


def test_a_bet_on_every_kind_settles_from_the_score(match, django_capture_on_commit_callbacks) -> None:
    user = UserFactory()
    main_line = match.asian_handicap_lines[2]
    handicap = Market.objects.get(match=match, key__startswith="asian_handicap", position=10 + 2).key
    placed = []
    with django_capture_on_commit_callbacks(execute=True):
        for market, selection, _ in ONE_OF_EACH_KIND:
            placed.append(place(user, Match.objects.get(pk=match.pk), market, selection))
        handicap_bet = place(user, Match.objects.get(pk=match.pk), handicap, "home")
    assert {bet.market for bet in placed} == {m for m, _, _ in ONE_OF_EACH_KIND}
    with django_capture_on_commit_callbacks(execute=True):
        settle(match, (2, 1))
    for bet, (market, selection, expected) in zip(placed, ONE_OF_EACH_KIND, strict=True):
        bet.refresh_from_db()
        assert bet.status == expected, (market, selection)
        assert bet.payout == ((bet.stake * bet.odds).quantize(Decimal("0.01")) if expected == "won" else 0)
    handicap_bet.refresh_from_db()
    home_covers = 2 - 1 + main_line > 0
    assert handicap_bet.status == (BetStatus.WON if home_covers else BetStatus.LOST)
    assert set(Market.objects.filter(match=match).values_list("status", flat=True)) == {"settled"}
    assert ledger_audit() == []


def test_draw_no_bet_on_a_draw_returns_the_stake(match, django_capture_on_commit_callbacks) -> None:
    user = UserFactory()
    before = balance_of(user)
    with django_capture_on_commit_callbacks(execute=True):
        home = place(user, match, "draw_no_bet", "home", "20.00")
        away = place(user, Match.objects.get(pk=match.pk), "draw_no_bet", "away", "5.00")
    with django_capture_on_commit_callbacks(execute=True):
        settle(match, (1, 1))
    for bet in (home, away):
        bet.refresh_from_db()
        assert bet.status == BetStatus.VOID and bet.payout == bet.stake
        assert LedgerEntry.objects.get(bet=bet, kind="refund").amount == bet.stake
    assert balance_of(user) == before
    assert ledger_audit() == []


def test_a_correction_settles_every_market_again(match, django_capture_on_commit_callbacks) -> None:
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        over = place(user, match, "over_under_2_5", "over")
        score = place(user, Match.objects.get(pk=match.pk), "correct_score", "1-0")
        home = place(user, Match.objects.get(pk=match.pk), "1x2", "home")
    with django_capture_on_commit_callbacks(execute=True):
        settle(match, (1, 0))
    with django_capture_on_commit_callbacks(execute=True):
        match_result_correct(match_id=match.pk, score=(2, 1))  # still a home win: that bet stays
    for bet in (over, score, home):
        bet.refresh_from_db()
    assert (over.status, score.status, home.status) == (BetStatus.WON, BetStatus.LOST, BetStatus.WON)
    assert home.settlement_round == 0 and over.settlement_round == 1 and score.settlement_round == 1
    assert home.result_version == over.result_version == 1
    assert not LedgerEntry.objects.filter(bet=home, kind="reversal").exists()
    assert LedgerEntry.objects.filter(bet=score, kind="reversal").get().amount == -score.stake * score.odds
    match.refresh_from_db()
    assert (match.home_goals, match.away_goals, match.result) == (2, 1, "home")
    assert ledger_audit() == []


def test_a_void_match_refunds_every_market(match, django_capture_on_commit_callbacks) -> None:
    user = UserFactory()
    before = balance_of(user)
    with django_capture_on_commit_callbacks(execute=True):
        place(user, match, "correct_score", "0-0")
        place(user, Match.objects.get(pk=match.pk), "both_teams_to_score", "no")
        match_transition(match_id=match.pk, status=MatchStatus.VOID)
    assert set(Bet.objects.filter(match=match).values_list("status", flat=True)) == {"void"}
    assert balance_of(user) == before and ledger_audit() == []


# --- Refusals --------------------------------------------------------------------------


def test_a_suspended_market_refuses_and_debits_nothing(match) -> None:
    user = UserFactory()
    match_transition(match_id=match.pk, status=MatchStatus.SUSPENDED)
    assert set(Market.objects.filter(match=match).values_list("status", flat=True)) == {"suspended"}
    before = balance_of(user)
    with pytest.raises(Exception) as refused:
        place(user, match, "over_under_2_5", "under")
    assert refused.value.code == "market_suspended"
    match_transition(match_id=match.pk, status=MatchStatus.OPEN)
    assert set(Market.objects.filter(match=match).values_list("status", flat=True)) == {"open"}
    assert balance_of(user) == before and not Bet.objects.exists()


def test_one_closed_market_refuses_while_the_others_take_bets(match) -> None:
    user = UserFactory()
    Market.objects.filter(match=match, key="correct_score").update(status="closed")
    with pytest.raises(Exception) as refused:
        place(user, match, "correct_score", "1-1")
    assert refused.value.code == "market_closed"
    assert place(user, match, "1x2", "draw").market == "1x2"


def test_a_closed_selection_refuses(match) -> None:
    user = UserFactory()
    row = Market.objects.get(match=match, key="correct_score")
    row.prices = {**row.prices, "4-4": None}
    row.save()
    with pytest.raises(Exception) as refused:
        bet_place(
            user=user,
            match_id=match.pk,
            market="correct_score",
            selection="4-4",
            stake=Decimal("1.00"),
            accept_odds_change="any",
        )
    assert refused.value.code == "selection_closed"


def test_a_stake_above_the_maximum_is_refused_with_the_maximum(match, django_capture_on_commit_callbacks) -> None:
    user = UserFactory(wallet=Decimal("10000.00"))
    row = Market.objects.get(match=match, key="correct_score")
    row.max_stakes = {**row.max_stakes, "3-3": "50.00"}
    row.save()
    before = balance_of(user)
    with pytest.raises(Exception) as refused:
        place(user, match, "correct_score", "3-3", "50.01")
    assert refused.value.code == "stake_too_high"
    assert refused.value.extra["max_stake"] == "50.00"
    assert balance_of(user) == before and not Bet.objects.exists()
    place(user, match, "correct_score", "3-3", "30.00")
    # The bet not yet counted by a recompute has used 30 of the 50.
    with pytest.raises(Exception) as refused:
        place(user, Match.objects.get(pk=match.pk), "correct_score", "3-3", "20.01")
    assert refused.value.extra["max_stake"] == "20.00"


def test_the_recompute_shrinks_the_room_left_under_the_liability_limit(match) -> None:
    """What a further bet may add to the loss on 0-0 (maximum stake x (price - 1)) falls by what
    the bet counted added; the stake itself may not, as the price shortens too."""

    def room() -> Decimal:
        row = Market.objects.get(match=match, key="correct_score")
        return Decimal(row.max_stakes["0-0"]) * (Decimal(row.prices["0-0"]) - 1)

    user = UserFactory(wallet=Decimal("5000.00"))
    before = room()
    bet = place(user, match, "correct_score", "0-0", "200.00")
    match_odds_recompute(match_id=match.pk)
    assert before - room() == pytest.approx(bet.stake * (bet.odds - 1), abs=Decimal("0.1"))


def test_bet_api_validates_market_and_selection(user_client, match) -> None:
    body = {"match": match.pk, "stake": "5.00", "accept_odds_change": "any"}
    reply = user_client.post(
        "/api/bets/", {**body, "market": "first_goalscorer", "selection": "x"}, format="json", **new_bet_key()
    )
    assert reply.status_code == 400 and "market" in reply.json()["errors"]
    reply = user_client.post(
        "/api/bets/", {**body, "market": "over_under_2_5", "selection": "home"}, format="json", **new_bet_key()
    )
    assert reply.status_code == 400 and "over, under" in reply.json()["errors"]["selection"][0]
    reply = user_client.post(
        "/api/bets/",
        {**body, "market": "asian_handicap_minus_7_5", "selection": "home"},
        format="json",
        **new_bet_key(),
    )
    assert reply.status_code == 409 and reply.json()["code"] == "market_closed"  # a line this match lacks
    reply = user_client.post(
        "/api/bets/", {**body, "market": "both_teams_to_score", "selection": "yes"}, format="json", **new_bet_key()
    )
    assert reply.status_code == 201 and reply.json()["market"] == "both_teams_to_score"
    reply = user_client.post("/api/bets/", {**body, "selection": "draw"}, format="json", **new_bet_key())
    assert reply.status_code == 201 and reply.json()["market"] == "1x2"  # the old body means 1X2
    assert not Bet.objects.filter(market="first_goalscorer").exists()


def test_stake_too_high_over_the_api(user_client, match) -> None:
    row = Market.objects.get(match=match, key="over_under_2_5")
    row.max_stakes = {**row.max_stakes, "over": "12.34"}
    row.save()
    body = {"match": match.pk, "market": "over_under_2_5", "selection": "over", "stake": "12.35"}
    reply = user_client.post("/api/bets/", {**body, "accept_odds_change": "any"}, format="json", **new_bet_key())
    assert reply.status_code == 409
    assert reply.json()["code"] == "stake_too_high" and reply.json()["max_stake"] == "12.34"


# --- Settling over the API ---------------------------------------------------------------


def test_settle_api_needs_the_score(match, trader_client) -> None:
    match_transition(match_id=match.pk, status=MatchStatus.CLOSED)
    reply = trader_client.post(f"/api/matches/{match.pk}/settle/", {"result": "home"}, format="json")
    assert reply.status_code == 400 and "final score" in reply.json()["errors"]["home_goals"][0]
    reply = trader_client.post(f"/api/matches/{match.pk}/settle/", {"home_goals": -1, "away_goals": 0}, format="json")
    assert reply.status_code == 400
    assert Match.objects.get(pk=match.pk).status == MatchStatus.CLOSED
    reply = trader_client.post(f"/api/matches/{match.pk}/settle/", {"home_goals": 0, "away_goals": 3}, format="json")
    assert reply.status_code == 200
    assert (reply.json()["home_goals"], reply.json()["away_goals"], reply.json()["result"]) == (0, 3, "away")


# --- Opening prices and overrides -----------------------------------------------------


def test_typed_opening_odds_are_a_recorded_override(trader_client, trader_user) -> None:
    body = {
        "home_team": "Nantes",
        "away_team": "Brest",
        "kickoff": (timezone.now() + timedelta(days=2)).isoformat(),
        "opening_odds": {"home": "1.80", "draw": "3.60", "away": "4.50"},
    }
    reply = trader_client.post("/api/matches/", body, format="json")
    assert reply.status_code == 201, reply.content
    created = reply.json()
    assert created["score_prior"]["source"] == "trader" and created["score_prior"]["home_goals"] > 1.2
    override = PriceOverride.objects.get(match_id=created["id"])
    assert override.created_by == trader_user and override.odds == body["opening_odds"]
    assert override.prior["source"] == "trader"


def test_without_odds_or_ratings_a_match_cannot_be_created(trader_client) -> None:
    body = {"home_team": "Nowhere FC", "away_team": "Elsewhere", "kickoff": "2099-01-01T12:00:00Z"}
    reply = trader_client.post("/api/matches/", body, format="json")
    assert reply.status_code == 400 and "opening_odds" in reply.json()["errors"]
    assert not Match.objects.filter(home_team="Nowhere FC").exists()


def test_an_override_before_any_bet_reprices_every_market(match, trader_user) -> None:
    before = dict(Market.objects.get(match=match, key="over_under_2_5").prices)
    version = match.odds_version
    matches.match_opening_override(
        match_id=match.pk,
        odds={"home": Decimal("1.40"), "draw": Decimal("4.80"), "away": Decimal("8.00")},
        user=trader_user,
    )
    match.refresh_from_db()
    assert match.odds_version == version + 1 and match.score_prior["source"] == "trader"
    assert Market.objects.get(match=match, key="over_under_2_5").prices != before
    override = PriceOverride.objects.get(match=match)
    assert override.replaced["source"] == "trader" and override.created_by == trader_user
    place(UserFactory(), match, "1x2", "home")
    with pytest.raises(Exception) as refused:
        matches.match_opening_override(
            match_id=match.pk,
            odds={"home": Decimal("2.00"), "draw": Decimal("3.40"), "away": Decimal("4.00")},
            user=None,
        )
    assert refused.value.code == "transition_not_allowed"


# --- Frames --------------------------------------------------------------------------


def test_snapshot_and_odds_frame_carry_every_market(match) -> None:
    user = UserFactory()
    place(user, match, "both_teams_to_score", "yes", "100.00")
    match_odds_recompute(match_id=match.pk)
    match.refresh_from_db()
    frame = events.odds_frame(match)
    assert len(frame["markets"]) == 15 and frame["market_status"]["correct_score"] == "open"
    assert frame["max_stakes"]["1x2"]["home"] is not None
    assert frame["markets"]["1x2"] == events.odds_as_numbers(match.current_prices)


ALL_MARKETS = match_markets((-9.5, -2.5, -0.5, 0.5, 1.5, 9.5))
GOALS = st.integers(min_value=0, max_value=30)


@given(home=GOALS, away=GOALS, more_home=GOALS, more_away=GOALS)
def test_a_decided_selection_settles_as_decided_whatever_the_goals_to_come(home, away, more_home, more_away) -> None:
    """The settled-in-play marker never disagrees with the settlement: whatever final score
    follows (each side's goals only rise), every decided selection ends as it said."""
    final = (home + more_home, away + more_away)
    for found in ALL_MARKETS:
        for selection, outcome in decided_selections(found, home, away).items():
            assert found.outcome(selection, *final) == outcome, (found.key, selection, home, away, final)


def test_what_the_score_decides_in_play() -> None:
    by_key = {found.key: found for found in ALL_MARKETS}
    assert decided_selections(by_key["over_under_0_5"], 0, 0) == {}
    assert decided_selections(by_key["over_under_0_5"], 1, 0) == {"over": "won", "under": "lost"}
    assert decided_selections(by_key["over_under_2_5"], 2, 0) == {}
    assert decided_selections(by_key["over_under_2_5"], 2, 1) == {"over": "won", "under": "lost"}
    assert decided_selections(by_key["both_teams_to_score"], 3, 0) == {}
    assert decided_selections(by_key["both_teams_to_score"], 1, 1) == {"yes": "won", "no": "lost"}
    scores = decided_selections(by_key["correct_score"], 2, 0)
    assert scores["0-0"] == scores["1-3"] == "lost" and "2-0" not in scores and "other" not in scores
    assert decided_selections(by_key["correct_score"], 5, 0)["other"] == "won"
    for key in ("1x2", "double_chance", "draw_no_bet", "asian_handicap_minus_9_5", "asian_handicap_plus_9_5"):
        assert decided_selections(by_key[key], 4, 0) == {}, key  # a goal either side can still turn them
    assert decided_outcome(by_key["over_under_4_5"], "under", 0, 0) is None
