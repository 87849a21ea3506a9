"""Accumulators through the service and the API: placement rules, liability, settlement from
the legs (a loss at once, void legs at 1.00, the last win pays) and corrections re-settling the
whole bet with reversal entries."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from betting.accumulators import LegRequest, accumulator_place
from betting.errors import AccumulatorSameMatch, StakeTooHigh
from betting.models import Bet, BetKind, BetLeg, BetStatus, LedgerEntry, LedgerKind, Market, Match, MatchStatus
from betting.pricing import match_odds_recompute
from betting.selectors import ledger_audit
from betting.settlement import match_bets_settle, match_result_correct, match_transition
from betting.tests.factories import MatchFactory, UserFactory, balance_of, new_bet_key, settle
from safergambling.models import LimitKind, LimitPeriod
from safergambling.services import limit_set

pytestmark = pytest.mark.django_db

HOME, DRAW, AWAY = Decimal("2.10"), Decimal("3.40"), Decimal("3.50")  # the factory's 1X2 prices


def home_legs(*matches, odds=HOME) -> list[LegRequest]:
    return [LegRequest(match_id=m.pk, market="1x2", selection="home", quoted_odds=odds) for m in matches]


def place(user, *matches, stake="10.00") -> Bet:
    return accumulator_place(user=user, legs=home_legs(*matches), stake=Decimal(stake))


def run_settlement(match, score, capture) -> None:
    with capture(execute=True):
        settle(match, score)


def test_the_api_places_an_accumulator_and_shows_its_legs(api_client) -> None:
    user, first, second = UserFactory(), MatchFactory(), MatchFactory()
    api_client.force_authenticate(user)
    body = {
        "legs": [
            {"match": first.pk, "selection": "home", "odds": 2.1},
            {"match": second.pk, "market": "1x2", "selection": "away", "odds": "3.50"},
        ],
        "stake": "10.00",
    }
    reply = api_client.post("/api/bets/", body, format="json", **new_bet_key())
    assert reply.status_code == 201, reply.json()
    bet = reply.json()
    assert (bet["kind"], bet["match"], bet["odds"], bet["stake"], bet["status"]) == (
        "accumulator",
        None,
        7.35,  # 2.10 x 3.50
        "10.00",
        "open",
    )
    assert [(leg["match"], leg["market"], leg["selection"], leg["odds"], leg["status"]) for leg in bet["legs"]] == [
        (first.pk, "1x2", "home", 2.1, "open"),
        (second.pk, "1x2", "away", 3.5, "open"),
    ]
    assert balance_of(user) == Decimal("990.00")
    listed = api_client.get("/api/bets/").json()["results"]
    assert listed[0]["legs"] == bet["legs"]
    assert api_client.get(f"/api/bets/{bet['id']}/").json()["legs"] == bet["legs"]
    assert api_client.get("/api/bets/?market=accumulator").json()["count"] == 1
    assert api_client.get("/api/bets/?market=1x2").json()["count"] == 1  # a leg on 1x2
    assert api_client.get("/api/bets/?market=over_under").json()["count"] == 0
    # Each leg took a place in its match's bet sequence: the recompute counts it.
    assert first.bets.count() == 0 and BetLeg.objects.get(match_id=first.pk).sequence == 1


@pytest.mark.parametrize(
    ("legs", "status", "code"),
    [
        ("same_match", 400, "accumulator_same_match"),
        ("one", 400, "invalid"),
        ("eleven", 400, "invalid"),
        ("unknown_selection", 400, "invalid"),
        ("no_odds", 400, "invalid"),
    ],
)
def test_a_malformed_accumulator_is_refused_and_nothing_is_debited(api_client, legs, status, code) -> None:
    user = UserFactory()
    matches = [MatchFactory() for _ in range(2 if legs != "eleven" else 11)]
    api_client.force_authenticate(user)
    body_legs = [{"match": m.pk, "selection": "home", "odds": 2.1} for m in matches]
    if legs == "same_match":
        body_legs[1] = {"match": matches[0].pk, "market": "over_under_2_5", "selection": "over", "odds": 1.9}
    elif legs == "one":
        body_legs = body_legs[:1]
    elif legs == "unknown_selection":
        body_legs[1]["selection"] = "over"
    elif legs == "no_odds":
        del body_legs[1]["odds"]
    reply = api_client.post("/api/bets/", {"legs": body_legs, "stake": "10.00"}, format="json", **new_bet_key())
    assert (reply.status_code, reply.json()["code"]) == (status, code), reply.json()
    assert "legs" in reply.json()["errors"]
    assert balance_of(user) == Decimal("1000.00")
    assert not Bet.objects.exists() and not BetLeg.objects.exists()


def test_a_leg_on_a_match_in_play_is_refused_naming_it_and_nothing_is_debited(api_client) -> None:
    """In-play bets wait out the bet delay, which takes singles: an accumulator's legs are pre-match."""
    user, before, live = UserFactory(), MatchFactory(), MatchFactory()
    Match.objects.filter(pk=live.pk).update(in_play=True, kickoff=timezone.now() - timedelta(minutes=10))
    api_client.force_authenticate(user)
    body_legs = [{"match": m.pk, "selection": "home", "odds": 2.1} for m in (before, live)]
    reply = api_client.post("/api/bets/", {"legs": body_legs, "stake": "10.00"}, format="json", **new_bet_key())
    assert (reply.status_code, reply.json()["code"], reply.json()["leg"]) == (409, "accumulator_in_play", 1)
    assert balance_of(user) == Decimal("1000.00")
    assert not Bet.objects.exists() and not BetLeg.objects.exists()


def test_same_match_legs_are_refused_by_the_service_too() -> None:
    match = MatchFactory()
    with pytest.raises(AccumulatorSameMatch):
        accumulator_place(
            user=UserFactory(),
            legs=[*home_legs(match), LegRequest(match.pk, "both_teams_to_score", "yes", None)],
            stake=Decimal("1.00"),
            accept_odds_change="any",
        )


def test_each_leg_has_its_own_price_acceptance(api_client) -> None:
    user, first, second = UserFactory(), MatchFactory(), MatchFactory()
    api_client.force_authenticate(user)
    legs = [
        {"match": first.pk, "selection": "home", "odds": 2.1},
        {"match": second.pk, "selection": "home", "odds": 2.0},
    ]
    reply = api_client.post("/api/bets/", {"legs": legs, "stake": "10.00"}, format="json", **new_bet_key())
    assert (reply.status_code, reply.json()["code"], reply.json()["leg"]) == (409, "odds_changed", 1)
    assert reply.json()["odds"]["home"] == 2.1
    # `higher` accepts a longer price on the leg quoted at 2.00.
    body = {"legs": legs, "stake": "10.00", "accept_odds_change": "higher"}
    reply = api_client.post("/api/bets/", body, format="json", **new_bet_key())
    assert reply.status_code == 201 and reply.json()["odds"] == 4.41
    # A suspended leg refuses the bet.
    match_transition(match_id=second.pk, status=MatchStatus.SUSPENDED)
    reply = api_client.post("/api/bets/", body, format="json", **new_bet_key())
    assert (reply.status_code, reply.json()["code"]) == (409, "market_suspended")
    assert balance_of(user) == Decimal("990.00")


def test_safer_gambling_and_the_balance_apply_to_the_accumulator_stake(api_client) -> None:
    user, first, second = UserFactory(wallet=Decimal("50.00")), MatchFactory(), MatchFactory()
    api_client.force_authenticate(user)
    legs = [{"match": m.pk, "selection": "home", "odds": 2.1} for m in (first, second)]
    limit_set(user=user, kind=LimitKind.STAKE, period=LimitPeriod.BET, amount=Decimal("20.00"), actor=user)
    reply = api_client.post("/api/bets/", {"legs": legs, "stake": "25.00"}, format="json", **new_bet_key())
    assert (reply.status_code, reply.json()["code"]) == (409, "stake_limit")
    limit_set(user=user, kind=LimitKind.STAKE, period=LimitPeriod.BET, amount=None, actor=user)  # after 24 h
    user.wallet.refresh_from_db()
    reply = api_client.post("/api/bets/", {"legs": legs, "stake": "20.00"}, format="json", **new_bet_key())
    assert reply.status_code == 201
    reply = api_client.post("/api/bets/", {"legs": legs, "stake": "40.00"}, format="json", **new_bet_key())
    assert (reply.status_code, reply.json()["code"]) == (409, "stake_limit")  # the removal waits 24 h
    assert balance_of(user) == Decimal("30.00")


def test_every_leg_counts_the_accumulator_toward_its_max_stake_and_its_odds() -> None:
    first, second = MatchFactory(), MatchFactory()
    row = Market.objects.get(match_id=first.pk, key="1x2")
    stored = Decimal(row.max_stakes["home"])
    room = stored * (HOME - 1)  # the liability room of first's home
    odds = HOME * HOME  # 4.41
    most = (room / (odds - 1)).quantize(Decimal("0.01"), rounding="ROUND_DOWN")
    with pytest.raises(StakeTooHigh) as refused:
        place(UserFactory(wallet=Decimal("10000")), first, second, stake=str(most + Decimal("0.01")))
    assert refused.value.extra["max_stake"] == f"{most:.2f}"
    # A single on the same selection placed first leaves less room for the accumulator.
    from betting.placement import bet_place

    bet_place(user=UserFactory(), match_id=first.pk, selection="home", stake=Decimal("100.00"), quoted_odds=HOME)
    with pytest.raises(StakeTooHigh):
        place(UserFactory(wallet=Decimal("10000")), first, second, stake=str(most))
    less = ((room - Decimal("100.00") * (HOME - 1)) / (odds - 1)).quantize(Decimal("0.01"), rounding="ROUND_DOWN")
    place(UserFactory(wallet=Decimal("10000")), first, second, stake=str(less))
    # The recompute counts the leg as stake x combined odds on its selection: the price shortens.
    match_odds_recompute(match_id=first.pk)
    row.refresh_from_db()
    assert Decimal(row.payouts["home"]) == Decimal("100.00") * HOME + less * odds
    # The selection's liability is at its limit: its price shortens past the ladder or closes, no room is left.
    assert row.prices["home"] is None or Decimal(row.prices["home"]) < HOME
    assert row.max_stakes["home"] in (None, "0.00")
    first.refresh_from_db()
    assert first.bets_counted == first.bet_sequence == 2


def test_a_leg_lost_loses_the_accumulator_at_once(django_capture_on_commit_callbacks) -> None:
    user, first, second = UserFactory(), MatchFactory(), MatchFactory()
    bet = place(user, first, second)
    run_settlement(first, "away", django_capture_on_commit_callbacks)
    bet.refresh_from_db()
    assert (bet.status, bet.payout) == (BetStatus.LOST, Decimal("0.00"))
    assert BetLeg.objects.get(bet=bet, match_id=second.pk).status == BetStatus.OPEN
    run_settlement(second, "home", django_capture_on_commit_callbacks)  # too late: nothing changes
    bet.refresh_from_db()
    assert (bet.status, bet.settlement_round) == (BetStatus.LOST, 0)
    assert balance_of(user) == Decimal("990.00")
    assert ledger_audit() == []


def test_the_last_leg_won_pays_the_accumulator(django_capture_on_commit_callbacks) -> None:
    user, first, second, third = UserFactory(), MatchFactory(), MatchFactory(), MatchFactory()
    bet = place(user, first, second, third)  # 2.10^3 = 9.261 → 9.26
    assert bet.odds == Decimal("9.26")
    run_settlement(first, "home", django_capture_on_commit_callbacks)
    run_settlement(second, "home", django_capture_on_commit_callbacks)
    bet.refresh_from_db()
    assert bet.status == BetStatus.OPEN and balance_of(user) == Decimal("990.00")
    run_settlement(third, "home", django_capture_on_commit_callbacks)
    bet.refresh_from_db()
    assert (bet.status, bet.payout) == (BetStatus.WON, Decimal("92.60"))
    assert balance_of(user) == Decimal("1082.60")
    assert LedgerEntry.objects.get(bet=bet, kind=LedgerKind.PAYOUT).amount == Decimal("92.60")
    assert ledger_audit() == []


def test_a_void_leg_counts_at_one(django_capture_on_commit_callbacks) -> None:
    user, first, second, third = UserFactory(), MatchFactory(), MatchFactory(), MatchFactory()
    legs = [
        *home_legs(first),
        LegRequest(
            second.pk,
            "draw_no_bet",
            "home",
            Decimal(Market.objects.get(match_id=second.pk, key="draw_no_bet").prices["home"]),
        ),
        *home_legs(third),
    ]
    bet = accumulator_place(user=user, legs=legs, stake=Decimal("10.00"))
    run_settlement(first, "home", django_capture_on_commit_callbacks)
    run_settlement(second, (1, 1), django_capture_on_commit_callbacks)  # draw no bet on a draw: void
    with django_capture_on_commit_callbacks(execute=True):
        match_transition(match_id=third.pk, status=MatchStatus.VOID)  # a void match: void leg
    bet.refresh_from_db()
    assert [leg.status for leg in bet.legs.all()] == [BetStatus.WON, BetStatus.VOID, BetStatus.VOID]
    assert (bet.status, bet.payout) == (BetStatus.WON, Decimal("21.00"))
    assert balance_of(user) == Decimal("1011.00")
    assert ledger_audit() == []


def test_every_leg_void_refunds_the_stake(django_capture_on_commit_callbacks) -> None:
    user, first, second = UserFactory(), MatchFactory(), MatchFactory()
    bet = place(user, first, second)
    for match in (first, second):
        with django_capture_on_commit_callbacks(execute=True):
            match_transition(match_id=match.pk, status=MatchStatus.VOID)
    bet.refresh_from_db()
    assert (bet.status, bet.payout) == (BetStatus.VOID, Decimal("10.00"))
    assert LedgerEntry.objects.get(bet=bet, kind=LedgerKind.REFUND).amount == Decimal("10.00")
    assert balance_of(user) == Decimal("1000.00") and ledger_audit() == []


def correct(match, score, capture) -> None:
    with capture(execute=True):
        match_result_correct(match_id=match.pk, score=score)


def test_a_correction_on_one_leg_resettles_the_whole_with_reversals(django_capture_on_commit_callbacks) -> None:
    user, first, second = UserFactory(), MatchFactory(), MatchFactory()
    bet = place(user, first, second)  # 4.41
    run_settlement(first, "home", django_capture_on_commit_callbacks)
    run_settlement(second, "home", django_capture_on_commit_callbacks)
    bet.refresh_from_db()
    assert (bet.status, bet.payout, bet.settlement_round) == (BetStatus.WON, Decimal("44.10"), 0)
    correct(second, (0, 0), django_capture_on_commit_callbacks)  # the second leg lost after all
    bet.refresh_from_db()
    assert (bet.status, bet.payout, bet.settlement_round) == (BetStatus.LOST, Decimal("0.00"), 1)
    reversal = LedgerEntry.objects.get(bet=bet, kind=LedgerKind.REVERSAL)
    assert (reversal.amount, reversal.settlement_round) == (Decimal("-44.10"), 0)
    assert balance_of(user) == Decimal("990.00")
    correct(second, (3, 0), django_capture_on_commit_callbacks)  # and back: paid again, round 2
    bet.refresh_from_db()
    assert (bet.status, bet.payout, bet.settlement_round) == (BetStatus.WON, Decimal("44.10"), 2)
    assert balance_of(user) == Decimal("1034.10")
    correct(second, (4, 0), django_capture_on_commit_callbacks)  # still a home win: nothing moves
    bet.refresh_from_db()
    assert bet.settlement_round == 2 and balance_of(user) == Decimal("1034.10")
    assert ledger_audit() == []


def test_a_correction_can_turn_a_win_into_a_void_leg(django_capture_on_commit_callbacks) -> None:
    user, first, second = UserFactory(), MatchFactory(), MatchFactory()
    dnb = Decimal(Market.objects.get(match_id=second.pk, key="draw_no_bet").prices["home"])
    bet = accumulator_place(
        user=user, legs=[*home_legs(first), LegRequest(second.pk, "draw_no_bet", "home", dnb)], stake=Decimal("10.00")
    )
    run_settlement(first, "home", django_capture_on_commit_callbacks)
    run_settlement(second, "home", django_capture_on_commit_callbacks)
    bet.refresh_from_db()
    paid = (Decimal("10.00") * (HOME * dnb).quantize(Decimal("0.01"), rounding="ROUND_DOWN")).quantize(Decimal("0.01"))
    assert (bet.status, bet.payout) == (BetStatus.WON, paid)
    correct(second, (2, 2), django_capture_on_commit_callbacks)
    bet.refresh_from_db()
    assert (bet.status, bet.payout, bet.settlement_round) == (BetStatus.WON, Decimal("21.00"), 1)
    assert balance_of(user) == Decimal("1011.00")
    assert ledger_audit() == []


def test_a_correction_of_the_losing_leg_reopens_the_accumulator(django_capture_on_commit_callbacks) -> None:
    user, first, second = UserFactory(), MatchFactory(), MatchFactory()
    bet = place(user, first, second)
    run_settlement(first, "away", django_capture_on_commit_callbacks)
    bet.refresh_from_db()
    assert bet.status == BetStatus.LOST
    correct(first, (1, 0), django_capture_on_commit_callbacks)  # it was a home win: the bet lives on
    bet.refresh_from_db()
    assert (bet.status, bet.payout, bet.settled_at, bet.settlement_round) == (BetStatus.OPEN, None, None, 1)
    run_settlement(second, "home", django_capture_on_commit_callbacks)
    bet.refresh_from_db()
    assert (bet.status, bet.payout, bet.settlement_round) == (BetStatus.WON, Decimal("44.10"), 1)
    assert balance_of(user) == Decimal("1034.10")
    assert ledger_audit() == []


def test_settling_twice_pays_once(django_capture_on_commit_callbacks) -> None:
    user, first, second = UserFactory(), MatchFactory(), MatchFactory()
    bet = place(user, first, second)
    run_settlement(first, "home", django_capture_on_commit_callbacks)
    run_settlement(second, "home", django_capture_on_commit_callbacks)
    assert match_bets_settle(match_id=first.pk) == 0 and match_bets_settle(match_id=second.pk) == 0
    assert LedgerEntry.objects.filter(bet=bet, kind=LedgerKind.PAYOUT).count() == 1
    assert Bet.objects.get(pk=bet.pk).kind == BetKind.ACCUMULATOR
    assert ledger_audit() == []
