"""A corrected result: bets settled again, reversals in the ledger, balances as if it came first."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from betting import jobs
from betting import streams as odds_streams
from betting.engine.markets import grade, settlement_amount
from betting.errors import MatchTransitionNotAllowed, ResettlementUncollectable
from betting.models import Bet, BetStatus, LedgerEntry, LedgerKind, MatchStatus, Wallet
from betting.placement import bet_place
from betting.selectors import ledger_audit
from betting.settlement import (
    match_bets_settle,
    match_ids_settling_unfinished,
    match_ids_to_close,
    match_result_correct,
    match_transition,
)
from betting.tests.factories import SCORE_OF_RESULT, MatchFactory, UserFactory, balance_of, new_bet_key, settle

pytestmark = pytest.mark.django_db


def test_a_correction_reverses_the_old_winner_and_pays_the_new_one(
    match, bets, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        settle(match, "home")
    with django_capture_on_commit_callbacks(execute=True):
        match_result_correct(match_id=match.pk, score=SCORE_OF_RESULT["draw"])

    home, draw, away = (Bet.objects.get(pk=bets[s].pk) for s in ("home", "draw", "away"))
    assert (home.status, home.payout, home.settlement_round) == (BetStatus.LOST, Decimal("0.00"), 1)
    assert (draw.status, draw.payout, draw.settlement_round) == (BetStatus.WON, Decimal("170.00"), 1)
    assert (away.status, away.settlement_round) == (BetStatus.LOST, 0)  # lost either way: untouched
    # As if the draw had come first.
    assert balance_of(home.user) == Decimal("900.00")
    assert balance_of(draw.user) == Decimal("1120.00")
    assert balance_of(away.user) == Decimal("980.00")
    reversal = LedgerEntry.objects.get(kind=LedgerKind.REVERSAL)
    assert (reversal.bet_id, reversal.amount, reversal.settlement_round) == (home.pk, Decimal("-210.00"), 0)
    payout = LedgerEntry.objects.get(kind=LedgerKind.PAYOUT, bet=draw)
    assert payout.settlement_round == 1
    assert ledger_audit() == []


def test_correcting_back_and_forth_pays_each_round_once(match, bets, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        settle(match, "home")
    for result in ("away", "home", "away"):
        with django_capture_on_commit_callbacks(execute=True):
            match_result_correct(match_id=match.pk, score=SCORE_OF_RESULT[result])
    home, away = Bet.objects.get(pk=bets["home"].pk), Bet.objects.get(pk=bets["away"].pk)
    assert (home.status, home.settlement_round) == (BetStatus.LOST, 3)
    assert (away.status, away.payout, away.settlement_round) == (BetStatus.WON, Decimal("70.00"), 3)
    assert balance_of(home.user) == Decimal("900.00")
    assert balance_of(away.user) == Decimal("1050.00")
    assert LedgerEntry.objects.filter(bet=home, kind=LedgerKind.PAYOUT).count() == 2  # rounds 0 and 2
    assert LedgerEntry.objects.filter(bet=home, kind=LedgerKind.REVERSAL).count() == 2
    assert ledger_audit() == []


def test_the_settlement_message_delivered_three_times_writes_each_entry_once(
    match, bets, django_capture_on_commit_callbacks, run_task
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        settle(match, "home")
    match_result_correct(match_id=match.pk, score=SCORE_OF_RESULT["away"])  # its on-commit task is not run here
    entries = LedgerEntry.objects.count()
    # All three bets graded again (the draw lost either way: no entry), then nothing to do.
    assert [run_task(jobs.SETTLE_MATCH, match_id=match.pk) for _ in range(3)] == [3, 0, 0]
    assert LedgerEntry.objects.count() == entries + 2  # one reversal, one payout
    assert ledger_audit() == []


def test_the_same_result_again_changes_nothing(match, bets, django_capture_on_commit_callbacks, published) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        settle(match, "home")
    entries, frames = LedgerEntry.objects.count(), len(published)
    with django_capture_on_commit_callbacks(execute=True):
        match_result_correct(match_id=match.pk, score=SCORE_OF_RESULT["home"])
    assert LedgerEntry.objects.count() == entries and len(published) == frames


def test_only_a_settled_match_can_be_corrected(match) -> None:
    with pytest.raises(MatchTransitionNotAllowed):
        match_result_correct(match_id=match.pk, score=SCORE_OF_RESULT["home"])
    match_transition(match_id=match.pk, status=MatchStatus.CLOSED)
    with pytest.raises(MatchTransitionNotAllowed):
        match_result_correct(match_id=match.pk, score=SCORE_OF_RESULT["home"])


def test_a_reversal_the_wallet_cannot_cover_writes_nothing_and_stays_due(
    match, bets, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        settle(match, "home")
    winner = bets["home"].user
    # The winner spends what they won (1110.00 held; keep 100.00).
    Wallet.objects.filter(user=winner).update(balance=Decimal("100.00"))
    LedgerEntry.objects.create(
        wallet=winner.wallet, kind=LedgerKind.ADJUSTMENT, amount=Decimal("-1010.00"), balance_after=Decimal("100.00")
    )
    entries = LedgerEntry.objects.count()
    match_result_correct(match_id=match.pk, score=SCORE_OF_RESULT["draw"])
    with pytest.raises(ResettlementUncollectable):
        match_bets_settle(match_id=match.pk)
    assert LedgerEntry.objects.count() == entries
    assert Bet.objects.get(pk=bets["home"].pk).status == BetStatus.WON
    assert match.pk in match_ids_settling_unfinished()  # the sweep keeps asking until staff cover it
    assert ledger_audit() == []


def test_the_database_refuses_a_second_reversal_of_one_round(match, bets, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        settle(match, "home")
    with django_capture_on_commit_callbacks(execute=True):
        match_result_correct(match_id=match.pk, score=SCORE_OF_RESULT["draw"])
    reversal = LedgerEntry.objects.get(kind=LedgerKind.REVERSAL)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            wallet=reversal.wallet, kind=LedgerKind.REVERSAL, amount=reversal.amount, balance_after=0, bet=reversal.bet
        )
    with pytest.raises(IntegrityError), transaction.atomic():  # a reversal always takes money back
        LedgerEntry.objects.create(
            wallet=reversal.wallet, kind=LedgerKind.REVERSAL, amount=Decimal("1.00"), balance_after=0, bet=reversal.bet
        )


def test_a_correction_publishes_the_result_and_every_changed_bet(
    match, bets, published, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        settle(match, "home")
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        match_result_correct(match_id=match.pk, score=SCORE_OF_RESULT["draw"])
    match_frames = [frame for stream, frame, _ in published if stream == odds_streams.ODDS]
    assert [(f["type"], f["status"], f["result"]) for f in match_frames] == [("match", "settled", "draw")]
    bet_frames = {frame["id"]: frame for stream, frame, _ in published if frame["type"] == "bet"}
    assert bet_frames[bets["home"].pk]["status"] == "lost" and bet_frames[bets["draw"].pk]["status"] == "won"
    wallet_reasons = sorted(frame["reason"] for stream, frame, _ in published if frame["type"] == "wallet")
    assert wallet_reasons == ["payout", "reversal"]


def test_staff_correct_a_result_through_the_api(
    staff_client, user_client, match, bets, django_capture_on_commit_callbacks
) -> None:
    settle(match, "home")
    match_bets_settle(match_id=match.pk)
    draw = {"home_goals": 1, "away_goals": 1}
    assert user_client.post(f"/api/matches/{match.pk}/correct/", draw, format="json").status_code == 403
    for body in ({"result": "draw"}, {"home_goals": 1, "away_goals": 100}):
        reply = staff_client.post(f"/api/matches/{match.pk}/correct/", body, format="json")
        assert reply.status_code == 400 and "away_goals" in reply.json()["errors"]
    with django_capture_on_commit_callbacks(execute=True):
        reply = staff_client.post(f"/api/matches/{match.pk}/correct/", draw, format="json")
    assert reply.status_code == 200 and reply.json()["result"] == "draw"
    assert Bet.objects.get(pk=bets["draw"].pk).status == BetStatus.WON  # the eager task ran


# --- In play: suspension reasons, reopening after kick-off, the kick-off sweep -------------


def test_a_suspension_records_its_reason_and_reopening_clears_it() -> None:
    match = MatchFactory()
    assert match_transition(match_id=match.pk, status=MatchStatus.SUSPENDED).suspended_reason == "trader"
    match_transition(match_id=match.pk, status=MatchStatus.OPEN)
    suspended = match_transition(match_id=match.pk, status=MatchStatus.SUSPENDED, reason="goal")
    assert suspended.suspended_reason == "goal"
    assert match_transition(match_id=match.pk, status=MatchStatus.OPEN).suspended_reason == ""


def test_a_match_in_play_reopens_after_kickoff_and_takes_in_play_bets_only(user_client) -> None:
    match = MatchFactory(
        kickoff=timezone.now() - timedelta(minutes=20),
        status=MatchStatus.SUSPENDED,
        suspended_reason="goal",
        in_play=True,
    )
    assert match_transition(match_id=match.pk, status=MatchStatus.OPEN).status == MatchStatus.OPEN
    reply = user_client.post(
        "/api/bets/",
        {"match": match.pk, "selection": "home", "stake": "10.00", "odds": 2.1},
        format="json",
        **new_bet_key(),
    )
    # An in-play bet: pending for the bet delay (docs/in-play.md#the-bet-delay), never a pre-match one.
    assert reply.status_code == 202 and reply.json()["status"] == "pending"
    assert Bet.objects.get().decide_at is not None


def test_the_kickoff_sweep_leaves_matches_in_play_alone() -> None:
    past = timezone.now() - timedelta(minutes=1)
    fed = MatchFactory(kickoff=past, in_play=True)
    unfed = MatchFactory(kickoff=past)
    assert match_ids_to_close(now=timezone.now()) == [unfed.pk]
    assert fed.pk not in match_ids_to_close(now=timezone.now())


# --- Property: any bets, any first result, any correction -----------------------------------

CREDIT = Decimal("100000.00")
# Bets on every kind of market, void-able ones (draw no bet) included.
SELECTIONS = [
    ("1x2", "home"),
    ("1x2", "draw"),
    ("1x2", "away"),
    ("double_chance", "home_or_away"),
    ("draw_no_bet", "home"),
    ("draw_no_bet", "away"),
    ("over_under_1_5", "over"),
    ("over_under_3_5", "under"),
    ("both_teams_to_score", "yes"),
    ("correct_score", "1-1"),
    ("correct_score", "other"),
]
bet_strategy = st.tuples(
    st.integers(min_value=0, max_value=3),
    st.sampled_from(SELECTIONS),
    st.integers(min_value=10, max_value=5_000).map(lambda cents: Decimal(cents) / 100),
)
score_strategy = st.tuples(st.integers(min_value=0, max_value=5), st.integers(min_value=0, max_value=5))


class CorrectionProperties(TestCase):
    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        bets=st.lists(bet_strategy, max_size=10),
        results=st.lists(score_strategy, min_size=1, max_size=4),
    )
    def test_balances_end_as_if_the_last_result_had_come_first(self, bets: list, results: list) -> None:
        bettors = [UserFactory(wallet=CREDIT) for _ in range(4)]
        match = MatchFactory()
        for bettor, (market, selection), stake in bets:
            bet_place(
                user=bettors[bettor],
                match_id=match.pk,
                market=market,
                selection=selection,
                stake=stake,
                accept_odds_change="any",
            )
        settle(match, results[0])
        match_bets_settle(match_id=match.pk)
        for score in results[1:]:
            match_result_correct(match_id=match.pk, score=score)
            match_bets_settle(match_id=match.pk)
            assert match_bets_settle(match_id=match.pk) == 0  # redelivered: nothing more

        final = results[-1]
        expected = {user.pk: CREDIT for user in bettors}
        for bet in Bet.objects.filter(match_id=match.pk):
            outcome = grade(bet.market, bet.selection, *final)
            owed = settlement_amount(outcome, bet.stake, bet.odds)
            assert (bet.status, bet.payout) == (outcome, owed)
            expected[bet.user_id] += owed - bet.stake
        for user in bettors:
            assert balance_of(user) == expected[user.pk]
        assert ledger_audit() == []
