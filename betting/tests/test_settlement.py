"""Match lifecycle (staff API, admin, beat) and settlement: win, loss, void, exactly once."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction
from django.utils import timezone

from betting import jobs
from betting import streams as odds_streams
from betting.models import Bet, BetStatus, LedgerEntry, LedgerKind, Match, MatchStatus, PriceOverride, Wallet
from betting.placement import bet_place
from betting.selectors import ledger_audit
from betting.settlement import match_bets_settle, match_transition, matches_close_at_kickoff
from betting.tests.factories import MatchFactory, UserFactory, balance_of, settle
from realtime import streams

pytestmark = pytest.mark.django_db


def test_winners_are_paid_stake_times_odds_and_losers_marked_lost(
    match, bets, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        settle(match, "home")
    home, draw, away = (Bet.objects.get(pk=bets[s].pk) for s in ("home", "draw", "away"))
    assert (home.status, home.payout) == (BetStatus.WON, Decimal("210.00"))
    assert (draw.status, draw.payout) == (BetStatus.LOST, Decimal("0.00"))
    assert (away.status, away.payout) == (BetStatus.LOST, Decimal("0.00"))
    assert balance_of(home.user) == Decimal("1110.00")
    assert balance_of(draw.user) == Decimal("950.00")
    payout = LedgerEntry.objects.get(kind=LedgerKind.PAYOUT)
    assert payout.bet_id == home.pk and payout.amount == Decimal("210.00")
    assert ledger_audit() == []


def test_void_refunds_every_stake(match, bets, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        match_transition(match_id=match.pk, status=MatchStatus.VOID)
    for bet in Bet.objects.all():
        assert bet.status == BetStatus.VOID and bet.payout == bet.stake
        assert balance_of(bet.user) == Decimal("1000.00")
    assert LedgerEntry.objects.filter(kind=LedgerKind.REFUND).count() == 3
    assert ledger_audit() == []


def test_settling_twice_pays_once(match, bets, django_capture_on_commit_callbacks, run_task) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        settle(match, "draw")
    assert run_task(jobs.SETTLE_MATCH, match_id=match.pk) == 0
    assert match_bets_settle(match_id=match.pk) == 0
    assert LedgerEntry.objects.filter(kind=LedgerKind.PAYOUT).count() == 1
    assert balance_of(bets["draw"].user) == Decimal("1120.00")


def test_the_database_refuses_a_second_payout_for_a_bet(match, bets, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        settle(match, "home")
    entry = LedgerEntry.objects.get(kind=LedgerKind.PAYOUT)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            wallet=entry.wallet, kind=LedgerKind.PAYOUT, amount=entry.amount, balance_after=0, bet=entry.bet
        )


def test_the_database_refuses_a_negative_balance(user) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Wallet.objects.filter(user=user).update(balance=Decimal("-0.01"))


def test_ledger_entries_are_append_only(user) -> None:
    entry = LedgerEntry.objects.get(wallet__user=user)
    entry.amount = Decimal("1.00")
    with pytest.raises(ValueError, match="append-only"):
        entry.save()


def test_settlement_publishes_bet_and_wallet_events(match, bets, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        settle(match, "away")
    winner = bets["away"]
    private = [(frame, routing["user"]) for stream, frame, routing in published if stream == streams.PRIVATE]
    assert ({"type": "wallet", "balance": "1050.00", "change": "70.00", "reason": "payout"}, winner.user_id) in private
    settled_bets = {frame["id"]: frame for frame, _ in private if frame["type"] == "bet"}
    assert settled_bets[winner.pk]["status"] == "won" and settled_bets[winner.pk]["payout"] == "70.00"
    assert settled_bets[bets["home"].pk]["status"] == "lost"
    statuses = [
        frame["status"] for stream, frame, _ in published if stream == odds_streams.ODDS and frame["type"] == "match"
    ]
    assert statuses == ["closed", "settled"]


def test_settlement_runs_in_bounded_batches(match, settings, django_capture_on_commit_callbacks) -> None:
    settings.SETTLEMENT_BATCH_SIZE = 2
    user = UserFactory()
    for _ in range(5):
        bet_place(user=user, match_id=match.pk, selection="home", stake=Decimal("1.00"), accept_odds_change="any")
    with django_capture_on_commit_callbacks(execute=True):
        settle(match, "home")
    assert not Bet.objects.filter(status=BetStatus.OPEN).exists()
    assert balance_of(user) == Decimal("1000.00") - 5 + 5 * Decimal("2.10")


def test_audit_ledger_command_passes_then_fails_on_a_mismatch(match, bets, capsys) -> None:
    call_command("audit_ledger")
    assert "passed" in capsys.readouterr().out
    Wallet.objects.filter(user=bets["home"].user).update(balance=Decimal("999.99"))
    with pytest.raises(CommandError) as failure:
        call_command("audit_ledger")
    assert failure.value.returncode == 1
    assert "balance 999.99 != ledger 900.00" in capsys.readouterr().err


# --- Lifecycle -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "action", "end"),
    [
        (MatchStatus.SCHEDULED, "open", MatchStatus.OPEN),
        (MatchStatus.OPEN, "suspend", MatchStatus.SUSPENDED),
        (MatchStatus.SUSPENDED, "open", MatchStatus.OPEN),
        (MatchStatus.SUSPENDED, "close", MatchStatus.CLOSED),
        (MatchStatus.OPEN, "close", MatchStatus.CLOSED),
        (MatchStatus.SCHEDULED, "void", MatchStatus.VOID),
        (MatchStatus.CLOSED, "void", MatchStatus.VOID),
    ],
)
def test_staff_move_matches_along_the_lifecycle(staff_client, published, start, action, end) -> None:
    match = MatchFactory(status=start)
    reply = staff_client.post(f"/api/matches/{match.pk}/{action}/")
    assert reply.status_code == 200, reply.content
    assert reply.json()["status"] == end
    match.refresh_from_db()
    assert match.status == end


@pytest.mark.parametrize(
    ("start", "action"),
    [
        (MatchStatus.SCHEDULED, "close"),
        (MatchStatus.CLOSED, "open"),
        (MatchStatus.OPEN, "open"),
        (MatchStatus.SETTLED, "void"),
        (MatchStatus.VOID, "open"),
    ],
)
def test_transitions_outside_the_lifecycle_are_409(staff_client, start, action) -> None:
    match = MatchFactory(status=start)
    reply = staff_client.post(f"/api/matches/{match.pk}/{action}/")
    assert reply.status_code == 409
    assert reply.json()["code"] == "transition_not_allowed" and reply.json()["status"] == start
    match.refresh_from_db()
    assert match.status == start


def test_settling_needs_a_closed_match_and_a_result(
    staff_client, bets, match, django_capture_on_commit_callbacks
) -> None:
    score = {"home_goals": 2, "away_goals": 0}
    assert staff_client.post(f"/api/matches/{match.pk}/settle/", score, format="json").status_code == 409
    staff_client.post(f"/api/matches/{match.pk}/close/")
    for body in ({}, {"result": "home"}, {"home_goals": 2}, {"home_goals": "two", "away_goals": 0}):
        reply = staff_client.post(f"/api/matches/{match.pk}/settle/", body, format="json")
        assert (reply.status_code == 400 and "home_goals" in reply.json()["errors"]) or "away_goals" in reply.json()[
            "errors"
        ]
    with django_capture_on_commit_callbacks(execute=True):
        reply = staff_client.post(f"/api/matches/{match.pk}/settle/", score, format="json")
    assert reply.status_code == 200 and reply.json()["result"] == "home"
    assert (reply.json()["home_goals"], reply.json()["away_goals"]) == (2, 0)
    # The eager settlement task ran on commit.
    assert Bet.objects.get(pk=bets["home"].pk).status == BetStatus.WON


def test_bettors_and_strangers_cannot_trade(user_client, api_client, match) -> None:
    assert user_client.post(f"/api/matches/{match.pk}/suspend/").status_code == 403
    assert api_client.post(f"/api/matches/{match.pk}/suspend/").status_code == 401
    assert user_client.post("/api/matches/", {}, format="json").status_code == 403
    match.refresh_from_db()
    assert match.status == MatchStatus.OPEN


def test_unknown_match_is_404(staff_client) -> None:
    assert staff_client.post("/api/matches/999999/close/").status_code == 404


def test_staff_create_a_match_with_opening_odds(staff_client) -> None:
    body = {
        "home_team": "Lille",
        "away_team": "Lens",
        "kickoff": (timezone.now() + timedelta(days=2)).isoformat(),
        "opening_odds": {"home": "2.06", "draw": "3.20", "away": "3.30"},
    }
    reply = staff_client.post("/api/matches/", body, format="json")
    assert reply.status_code == 201, reply.content
    created = reply.json()
    # The typed odds (10% overround) stand for a score distribution the book prices with its 5%.
    assert created["status"] == "scheduled" and created["odds"] == {"home": 2.1, "draw": 3.4, "away": 3.5}
    assert set(created["market_status"].values()) == {"suspended"}  # scheduled: priced, not yet bettable
    assert Match.objects.get(pk=created["id"]).odds_versions.count() == 1


def test_opening_odds_accept_the_numbers_the_api_returns(staff_client, api_client) -> None:
    """Odds leave the API as JSON numbers: a client can send them back as they came."""
    source = MatchFactory()
    odds = api_client.get(f"/api/matches/{source.pk}/").json()["odds"]
    assert all(isinstance(price, float) for price in odds.values())
    body = {
        "home_team": "Lille",
        "away_team": "Lens",
        "kickoff": (timezone.now() + timedelta(days=2)).isoformat(),
        "opening_odds": {**odds, "away": 4},  # an integer is a number too
    }
    reply = staff_client.post("/api/matches/", body, format="json")
    assert reply.status_code == 201, reply.content
    override = PriceOverride.objects.get(match_id=reply.json()["id"])
    assert override.odds == {**{s: f"{p:.2f}" for s, p in odds.items()}, "away": "4.00"}  # read as typed


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"opening_odds": {"home": "2.10", "draw": "3.40"}}, "opening_odds"),
        ({"opening_odds": {"home": "2.11", "draw": "3.40", "away": "3.50"}}, "opening_odds"),
        ({"opening_odds": {"home": "1.00", "draw": "3.40", "away": "3.50"}}, "opening_odds"),
        ({"opening_odds": {"home": 2.11, "draw": 3.4, "away": 3.5}}, "opening_odds"),  # off the ladder
        ({"opening_odds": {"home": 2.105, "draw": 3.4, "away": 3.5}}, "opening_odds"),  # finer than a cent
        ({"opening_odds": {"home": True, "draw": 3.4, "away": 3.5}}, "opening_odds"),
        ({"opening_odds": {"home": 1000.5, "draw": 3.4, "away": 3.5}}, "opening_odds"),  # above the ladder
        ({"kickoff": "tomorrow"}, "kickoff"),
        ({"away_team": "lille"}, "away_team"),
        ({"status": "settled"}, "status"),
    ],
)
def test_bad_match_creation_is_400(staff_client, overrides, field) -> None:
    body = {
        "home_team": "Lille",
        "away_team": "Lens",
        "kickoff": (timezone.now() + timedelta(days=2)).isoformat(),
        "opening_odds": {"home": "2.10", "draw": "3.40", "away": "3.50"},
        **overrides,
    }
    reply = staff_client.post("/api/matches/", body, format="json")
    assert reply.status_code == 400 and field in reply.json()["errors"]
    assert not Match.objects.exists()


def test_beat_closes_betting_at_kickoff(published, django_capture_on_commit_callbacks, run_task) -> None:
    started = MatchFactory(kickoff=timezone.now() - timedelta(minutes=1))
    suspended = MatchFactory(kickoff=timezone.now() - timedelta(minutes=1), status=MatchStatus.SUSPENDED)
    later = MatchFactory(kickoff=timezone.now() + timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert sorted(run_task(jobs.CLOSE_MATCHES_AT_KICKOFF)) == sorted([started.pk, suspended.pk])
    assert matches_close_at_kickoff() == []
    statuses = {m.pk: m.status for m in Match.objects.all()}
    assert statuses == {started.pk: "closed", suspended.pk: "closed", later.pk: "open"}
    assert {(f["match"], f["status"]) for s, f, _ in published if f["type"] == "match"} == {
        (started.pk, "closed"),
        (suspended.pk, "closed"),
    }


def test_beat_finishes_a_settlement_the_broker_lost(match, bets, monkeypatch, run_task) -> None:
    monkeypatch.setattr("betting.settlement.settlement_request", lambda match_id: None)  # enqueue lost
    settle(match, "home")
    monkeypatch.undo()
    assert Bet.objects.filter(status=BetStatus.OPEN).count() == 3
    run_task(jobs.CLOSE_MATCHES_AT_KICKOFF)
    assert not Bet.objects.filter(status=BetStatus.OPEN).exists()


def test_admin_actions_use_the_lifecycle(admin_client, match) -> None:
    reply = admin_client.post(
        "/admin/betting/match/", {"action": "make_suspended", "_selected_action": [match.pk]}, follow=True
    )
    assert reply.status_code == 200
    match.refresh_from_db()
    assert match.status == MatchStatus.SUSPENDED
    admin_client.post("/admin/betting/match/", {"action": "make_settled_home", "_selected_action": [match.pk]})
    match.refresh_from_db()
    assert match.status == MatchStatus.SUSPENDED  # settling needs a closed match: refused, unchanged


def test_creating_a_match_announces_it_on_commit(staff_client, published, django_capture_on_commit_callbacks) -> None:
    """Open boards add a new match from this frame, without a reload."""
    body = {
        "home_team": "Lille",
        "away_team": "Lens",
        "kickoff": "2031-12-01T20:00:00Z",
        "opening_odds": {"home": "2.10", "draw": "3.40", "away": "3.50"},
    }
    with django_capture_on_commit_callbacks(execute=True):
        reply = staff_client.post("/api/matches/", body, format="json")
    assert reply.status_code == 201, reply.content
    frames = [(stream, frame) for stream, frame, _ in published if frame["type"] == "match"]
    assert frames == [
        (
            odds_streams.ODDS,
            {
                "type": "match",
                "match": reply.json()["id"],
                "status": MatchStatus.SCHEDULED,
                "suspended_reason": "",
                "result": "",
                "live": None,
                "version": 1,
            },
        )
    ]
    json.dumps(frames)
