"""Deposit, loss and stake limits with a frozen clock: what binds when, the 24-hour delay,
the boundaries of the rolling windows, the lowest-binds rule, and refusals that change
nothing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from betting.models import Bet, LedgerEntry, Wallet
from betting.selectors import ledger_audit
from betting.tests.factories import MatchFactory, new_bet_key
from payments.models import Payment
from payments.tests.doubles import post_callback
from safergambling.models import AuditAction, AuditEntry, Limit
from safergambling.services import limit_set
from safergambling.tests.conftest import T0

pytestmark = pytest.mark.django_db


def deposit(client, amount: str, **extra):
    return client.post("/api/wallet/deposits/", {"amount": amount, **extra})


def bet(client, match, stake: str, selection: str = "home"):
    return client.post(
        "/api/bets/",
        {"match": match.pk, "selection": selection, "stake": stake, "accept_odds_change": "any"},
        **new_bet_key(),
    )


def set_limit(client, kind: str, period: str, amount: str | None):
    return client.post("/api/me/limits/", {"kind": kind, "period": period, "amount": amount})


def money_state(user) -> tuple:
    wallet = Wallet.objects.get(user_id=user.pk)
    return wallet.balance, wallet.held, LedgerEntry.objects.count(), Payment.objects.count(), Bet.objects.count()


def test_a_deposit_limit_allows_up_to_the_cent_and_refuses_the_next(clock, client, bettor) -> None:
    assert set_limit(client, "deposit", "day", "100.00").status_code == 200
    assert deposit(client, "60.00").status_code == 201
    assert deposit(client, "40.00").status_code == 201  # exactly the limit
    before = money_state(bettor)
    refused = deposit(client, "1.00")
    assert refused.status_code == 409
    assert refused.json() | {"detail": ""} == {
        "code": "deposit_limit_reached",
        "detail": "",
        "period": "day",
        "limit": "100.00",
        "remaining": "0.00",
    }
    assert money_state(bettor) == before


def test_the_deposit_window_rolls_24_hours_from_each_deposit(clock, client) -> None:
    set_limit(client, "deposit", "day", "100.00")
    assert deposit(client, "100.00").status_code == 201
    clock.move_to(T0 + timedelta(hours=24) - timedelta(seconds=1))
    assert deposit(client, "1.00").json()["code"] == "deposit_limit_reached"
    clock.move_to(T0 + timedelta(hours=24, seconds=1))
    assert deposit(client, "100.00").status_code == 201


WINDOWS = [("week", timedelta(days=7)), ("month", timedelta(days=30))]


@pytest.mark.parametrize(("period", "length"), WINDOWS)
def test_the_week_and_month_deposit_windows_roll_to_the_second(clock, client, period, length) -> None:
    set_limit(client, "deposit", period, "100.00")
    assert deposit(client, "100.00").status_code == 201
    clock.move_to(T0 + length - timedelta(seconds=1))
    refused = deposit(client, "1.00").json()
    assert (refused["code"], refused["period"], refused["remaining"]) == ("deposit_limit_reached", period, "0.00")
    clock.move_to(T0 + length + timedelta(seconds=1))
    assert deposit(client, "100.00").status_code == 201


@pytest.mark.parametrize(("period", "length"), WINDOWS)
def test_the_week_and_month_loss_windows_roll_to_the_second(clock, client, far_match, period, length) -> None:
    set_limit(client, "loss", period, "100.00")
    assert bet(client, far_match, "100.00").status_code == 201
    clock.move_to(T0 + length - timedelta(seconds=1))
    refused = bet(client, far_match, "1.00").json()
    assert (refused["code"], refused["period"], refused["remaining"]) == ("loss_limit_reached", period, "0.00")
    clock.move_to(T0 + length + timedelta(seconds=1))
    assert bet(client, far_match, "100.00").status_code == 201


@pytest.mark.parametrize("kind", ["deposit", "loss"])
def test_a_month_limit_binds_once_the_day_and_week_windows_have_rolled_on(clock, client, bettor, far_match, kind):
    for period, amount in (("day", "500.00"), ("week", "500.00"), ("month", "600.00")):
        assert set_limit(client, kind, period, amount).status_code == 200

    def use(amount: str):
        return deposit(client, amount) if kind == "deposit" else bet(client, far_match, amount)

    assert use("400.00").status_code == 201
    clock.move_to(T0 + timedelta(days=8))  # only the month window still holds the 400.00
    before = money_state(bettor)
    refused = use("200.01")
    assert refused.status_code == 409
    assert (refused.json()["period"], refused.json()["limit"], refused.json()["remaining"]) == (
        "month",
        "600.00",
        "200.00",
    )
    assert money_state(bettor) == before
    assert use("200.00").status_code == 201


def test_the_lowest_limit_binds(clock, client) -> None:
    set_limit(client, "deposit", "day", "500.00")
    set_limit(client, "deposit", "week", "300.00")
    set_limit(client, "deposit", "month", "1000.00")
    refused = deposit(client, "301.00")
    assert (refused.json()["period"], refused.json()["remaining"]) == ("week", "300.00")
    assert deposit(client, "250.00").status_code == 201
    clock.move_to(T0 + timedelta(days=2))  # the day window has rolled on, the week's has not
    refused = deposit(client, "50.01")
    assert (refused.json()["period"], refused.json()["remaining"]) == ("week", "50.00")


def test_pending_deposits_use_up_the_limit_and_failed_ones_free_it(clock, client, bettor) -> None:
    set_limit(client, "deposit", "day", "100.00")
    assert deposit(client, "80.00", provider="psp").status_code == 202
    assert deposit(client, "30.00").json()["code"] == "deposit_limit_reached"
    post_callback(APIClient(), Payment.objects.get(provider="psp"), "failed")
    assert deposit(client, "100.00").status_code == 201


def test_a_lower_limit_binds_at_once_and_a_higher_one_after_24_hours(clock, client) -> None:
    set_limit(client, "deposit", "day", "100.00")
    raised = set_limit(client, "deposit", "day", "500.00")
    assert raised.json() == {
        "kind": "deposit",
        "period": "day",
        "amount": "100.00",
        "pending": {"amount": "500.00", "effective_at": (T0 + timedelta(hours=24)).isoformat()},
    }
    assert deposit(client, "101.00").json()["code"] == "deposit_limit_reached"
    clock.move_to(T0 + timedelta(hours=24) - timedelta(microseconds=1))
    assert deposit(client, "101.00").json()["code"] == "deposit_limit_reached"
    clock.move_to(T0 + timedelta(hours=24))
    assert deposit(client, "101.00").status_code == 201
    summary = client.get("/api/me/safer-gambling/").json()
    assert summary["limits"] == [{"kind": "deposit", "period": "day", "amount": "500.00", "pending": None}]


def test_a_removal_waits_24_hours(clock, client) -> None:
    set_limit(client, "deposit", "week", "50.00")
    assert set_limit(client, "deposit", "week", None).json()["pending"]["amount"] is None
    assert deposit(client, "60.00").json()["code"] == "deposit_limit_reached"
    clock.move_to(T0 + timedelta(hours=24))
    assert deposit(client, "60.00").status_code == 201
    assert Limit.objects.get().amount_at(T0 + timedelta(hours=24)) is None


def test_lowering_during_a_pending_raise_binds_at_once_and_withdraws_the_raise(clock, client) -> None:
    set_limit(client, "loss", "day", "100.00")
    set_limit(client, "loss", "day", "300.00")
    clock.move_to(T0 + timedelta(hours=2))
    lowered = set_limit(client, "loss", "day", "80.00").json()
    assert (lowered["amount"], lowered["pending"]) == ("80.00", None)
    clock.move_to(T0 + timedelta(days=3))
    assert client.get("/api/me/safer-gambling/").json()["limits"][0]["amount"] == "80.00"


def test_asking_again_for_the_value_in_force_withdraws_a_pending_change(clock, client) -> None:
    set_limit(client, "stake", "bet", "10.00")
    set_limit(client, "stake", "bet", "50.00")
    assert set_limit(client, "stake", "bet", "10.00").json()["pending"] is None
    clock.move_to(T0 + timedelta(days=2))
    assert client.get("/api/me/safer-gambling/").json()["limits"][0]["amount"] == "10.00"


def test_a_raise_asked_again_restarts_its_24_hours(clock, client) -> None:
    set_limit(client, "deposit", "day", "100.00")
    set_limit(client, "deposit", "day", "200.00")
    clock.move_to(T0 + timedelta(hours=20))
    again = set_limit(client, "deposit", "day", "300.00").json()
    assert again["pending"]["effective_at"] == (T0 + timedelta(hours=44)).isoformat()
    clock.move_to(T0 + timedelta(hours=30))
    assert client.get("/api/me/safer-gambling/").json()["limits"][0]["amount"] == "100.00"


def test_the_stake_limit_refuses_a_cent_above_with_the_maximum(clock, client, bettor, far_match) -> None:
    set_limit(client, "stake", "bet", "20.00")
    assert bet(client, far_match, "20.00").status_code == 201
    before = money_state(bettor)
    refused = bet(client, far_match, "20.01")
    assert refused.status_code == 409
    assert (refused.json()["code"], refused.json()["max_stake"]) == ("stake_limit", "20.00")
    assert money_state(bettor) == before


def test_a_loss_limit_counts_stakes_less_returns_over_its_window(clock, client, bettor, far_match) -> None:
    from betting.settlement import match_bets_settle, match_transition

    set_limit(client, "loss", "day", "50.00")
    assert bet(client, far_match, "30.00").status_code == 201
    before = money_state(bettor)
    refused = bet(client, far_match, "20.01")
    assert refused.status_code == 409
    assert refused.json() | {"detail": ""} == {
        "code": "loss_limit_reached",
        "detail": "",
        "period": "day",
        "limit": "50.00",
        "remaining": "20.00",
    }
    assert money_state(bettor) == before
    assert bet(client, far_match, "20.00").status_code == 201
    # The match is voided: both stakes come back as refunds, and the room with them.
    match_transition(match_id=far_match.pk, status="void")
    match_bets_settle(match_id=far_match.pk)
    assert bet(client, MatchFactory(kickoff=far_match.kickoff), "50.00").status_code == 201
    assert ledger_audit() == []


def test_loss_windows_roll_and_the_lowest_binds(clock, client, far_match) -> None:
    set_limit(client, "loss", "day", "100.00")
    set_limit(client, "loss", "week", "150.00")
    assert bet(client, far_match, "100.00").status_code == 201
    clock.move_to(T0 + timedelta(days=1, seconds=1))
    refused = bet(client, far_match, "50.01")
    assert (refused.json()["code"], refused.json()["period"]) == ("loss_limit_reached", "week")
    assert bet(client, far_match, "50.00").status_code == 201


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "deposit", "period": "bet", "amount": "10.00"},
        {"kind": "stake", "period": "day", "amount": "10.00"},
        {"kind": "deposit", "period": "day", "amount": "-1.00"},
        {"kind": "deposit", "period": "day", "amount": "0.50"},
        {"kind": "deposit", "period": "day", "amount": "1000000.01"},
        {"kind": "deposit", "period": "day", "amount": 10},
        {"kind": "deposit", "period": "day", "amount": "1.001"},
        {"kind": "deposit", "period": "day", "amount": ""},
        {"kind": "deposit", "period": "fortnight", "amount": "10.00"},
        {"kind": "wager", "period": "day", "amount": "10.00"},
        {"kind": "deposit", "period": "day"},
        {},
    ],
)
def test_a_bad_limit_is_a_400_and_changes_nothing(clock, client, body) -> None:
    reply = client.post("/api/me/limits/", body)
    assert reply.status_code == 400, reply.json()
    assert reply.json()["errors"]
    assert Limit.objects.filter(amount__isnull=False).count() == 0
    assert AuditEntry.objects.count() == 0


def test_every_limit_change_is_audited_with_who_and_when(clock, client, bettor) -> None:
    set_limit(client, "deposit", "day", "100.00")
    clock.move_to(T0 + timedelta(minutes=5))
    set_limit(client, "deposit", "day", "200.00")
    clock.move_to(T0 + timedelta(minutes=6))
    set_limit(client, "deposit", "day", "100.00")
    clock.move_to(T0 + timedelta(minutes=7))
    set_limit(client, "deposit", "day", None)
    entries = list(
        AuditEntry.objects.order_by("id").values_list(
            "action", "old_value", "new_value", "actor", "created_at", "effective_at"
        )
    )
    assert entries == [
        (AuditAction.LIMIT_SET, "none", "100.00", bettor.pk, T0, T0),
        (
            AuditAction.LIMIT_RAISE_REQUESTED,
            "100.00",
            "200.00",
            bettor.pk,
            T0 + timedelta(minutes=5),
            T0 + timedelta(hours=24, minutes=5),
        ),
        (
            AuditAction.LIMIT_CHANGE_CANCELLED,
            "100.00",
            "100.00",
            bettor.pk,
            T0 + timedelta(minutes=6),
            T0 + timedelta(minutes=6),
        ),
        (
            AuditAction.LIMIT_REMOVAL_REQUESTED,
            "100.00",
            "none",
            bettor.pk,
            T0 + timedelta(minutes=7),
            T0 + timedelta(hours=24, minutes=7),
        ),
    ]
    newest = client.get("/api/me/safer-gambling/").json()["audit"][0]
    assert (newest["action"], newest["actor"]) == ("limit_removal_requested", "you")
    entry = AuditEntry.objects.first()
    entry.new_value = "forged"
    with pytest.raises(ValueError, match="append-only"):
        entry.save()


def test_a_staff_change_is_audited_as_staff(clock, bettor, client, admin_user) -> None:
    limit_set(user=bettor, kind="deposit", period="day", amount=Decimal("10.00"), actor=admin_user)
    assert client.get("/api/me/safer-gambling/").json()["audit"][0]["actor"] == "staff"


def test_the_admin_shows_the_audit_read_only(clock, client, admin_client) -> None:
    set_limit(client, "deposit", "day", "100.00")
    assert admin_client.get("/admin/safergambling/auditentry/").status_code == 200
    entry = AuditEntry.objects.get()
    assert admin_client.get(f"/admin/safergambling/auditentry/{entry.pk}/change/").status_code == 200
    assert admin_client.get("/admin/safergambling/auditentry/add/").status_code == 403
    assert admin_client.post(f"/admin/safergambling/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.count() == 1
