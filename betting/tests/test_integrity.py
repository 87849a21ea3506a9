"""Betting integrity: no bet after kick-off, no unchecked price, staff powers as permissions,
and an admin edit that never writes back what the services own."""

import re
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import connections
from django.utils import timezone
from rest_framework.test import APIClient

from betting.admin import MatchAdmin
from betting.models import Bet, Match, MatchStatus
from betting.permissions import TRADERS_GROUP
from betting.placement import bet_place
from betting.selectors import wallet_balance_of
from betting.tests.factories import MatchFactory, UserFactory, new_bet_key


def client_of(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def kicked_off(**fields):
    return MatchFactory(kickoff=timezone.now() - timedelta(minutes=10), **fields)


# --- No bet at or after kick-off ------------------------------------------------


@pytest.mark.parametrize("minutes_ago", [10, 0])
def test_an_open_match_past_its_kickoff_takes_no_bet(user_client, user, minutes_ago) -> None:
    balance = wallet_balance_of(user_id=user.pk)
    match = MatchFactory(kickoff=timezone.now() - timedelta(minutes=minutes_ago))  # status open: beat never ran
    reply = user_client.post(
        "/api/bets/",
        {"match": match.pk, "selection": "home", "stake": "10.00", "odds": 2.1},
        format="json",
        **new_bet_key(),
    )
    assert reply.status_code == 409, reply.content
    assert reply.json()["code"] == "match_started"
    assert not Bet.objects.exists()
    assert wallet_balance_of(user_id=user.pk) == balance  # nothing debited


def test_a_match_cannot_be_reopened_after_kickoff(staff_client) -> None:
    suspended = kicked_off(status=MatchStatus.SUSPENDED)
    scheduled = kicked_off(status=MatchStatus.SCHEDULED)
    for match in (suspended, scheduled):
        reply = staff_client.post(f"/api/matches/{match.pk}/open/")
        assert reply.status_code == 409 and reply.json()["code"] == "match_started"
        before = match.status
        match.refresh_from_db()
        assert match.status == before


def test_a_match_cannot_be_created_open_with_a_past_kickoff(staff_client) -> None:
    body = {
        "home_team": "Late",
        "away_team": "Comers",
        "kickoff": (timezone.now() - timedelta(minutes=10)).isoformat(),
        "opening_odds": {"home": "2.10", "draw": "3.40", "away": "3.50"},
        "status": "open",
    }
    reply = staff_client.post("/api/matches/", body, format="json")
    assert reply.status_code == 409 and reply.json()["code"] == "match_started"
    assert "kickoff" in reply.json()["errors"]
    assert not Match.objects.exists()
    assert staff_client.post("/api/matches/", {**body, "status": "scheduled"}, format="json").status_code == 201


# --- The price check is not optional ----------------------------------------------


@pytest.mark.parametrize("mode", ["none", "higher", None])
def test_a_bet_without_a_quoted_price_is_refused_unless_any_price_is_accepted(user_client, match, mode) -> None:
    body = {"match": match.pk, "selection": "home", "stake": "10.00"}
    if mode is not None:
        body["accept_odds_change"] = mode
    reply = user_client.post("/api/bets/", body, format="json", **new_bet_key())
    assert reply.status_code == 400 and "odds" in reply.json()["errors"]
    assert not Bet.objects.exists()
    assert (
        user_client.post(
            "/api/bets/", {**body, "accept_odds_change": "any"}, format="json", **new_bet_key()
        ).status_code
        == 201
    )


# --- Trading and settlement are permissions --------------------------------------


def test_staff_without_the_permissions_can_neither_trade_nor_settle(db) -> None:
    staff = client_of(UserFactory(is_staff=True))
    match = MatchFactory()
    body = {
        "home_team": "A",
        "away_team": "B",
        "kickoff": (timezone.now() + timedelta(days=1)).isoformat(),
        "opening_odds": {"home": "2.10", "draw": "3.40", "away": "3.50"},
    }
    assert staff.post("/api/matches/", body, format="json").status_code == 403
    for action in ("suspend", "close", "void"):
        assert staff.post(f"/api/matches/{match.pk}/{action}/").status_code == 403
    match.refresh_from_db()
    assert match.status == MatchStatus.OPEN


def test_the_settle_permission_is_separate_from_trading(db) -> None:
    from django.contrib.auth.models import Permission

    trader_only = UserFactory(is_staff=True)
    trader_only.user_permissions.add(Permission.objects.get(codename="trade_match"))
    client = client_of(trader_only)
    match = MatchFactory()
    assert client.post(f"/api/matches/{match.pk}/close/").status_code == 200
    assert (
        client.post(f"/api/matches/{match.pk}/settle/", {"home_goals": 1, "away_goals": 0}, format="json").status_code
        == 403
    )
    assert client.post(f"/api/matches/{match.pk}/void/").status_code == 403
    match.refresh_from_db()
    assert match.status == MatchStatus.CLOSED


def test_the_traders_group_is_created_with_both_powers(db) -> None:
    codenames = set(Group.objects.get(name=TRADERS_GROUP).permissions.values_list("codename", flat=True))
    assert {"trade_match", "settle_match"} <= codenames


def test_admin_actions_check_the_same_permissions(client, db) -> None:
    from django.contrib.auth.models import Permission

    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(*Permission.objects.filter(codename__in=["view_match", "change_match"]))
    client.force_login(viewer)
    match = MatchFactory()
    reply = client.post("/admin/betting/match/", {"action": "make_closed", "_selected_action": [match.pk]})
    assert reply.status_code in (200, 302)
    match.refresh_from_db()
    assert match.status == MatchStatus.OPEN  # the action is not offered, so not run
    assert "make_closed" not in client.get("/admin/betting/match/").content.decode()

    viewer.groups.add(Group.objects.get(name=TRADERS_GROUP))
    client.post("/admin/betting/match/", {"action": "make_closed", "_selected_action": [match.pk]})
    match.refresh_from_db()
    assert match.status == MatchStatus.CLOSED


# --- The admin writes only what was edited ------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres(reason="on SQLite the admin's write transaction would block the bet's.")
def test_an_admin_edit_keeps_a_bet_committed_between_its_read_and_its_write(client, monkeypatch) -> None:
    match = MatchFactory()
    bettor = UserFactory()
    # A superuser: a transactional test's flush removes the migration-made `traders` group, and
    # this test is about what the admin writes, not who may write it.
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)

    def place_from_another_connection() -> None:
        try:
            bet_place(
                user=bettor, match_id=match.pk, selection="home", stake=Decimal("10.00"), accept_odds_change="any"
            )
        finally:
            connections.close_all()

    original_save_form = MatchAdmin.save_form

    def save_form_then_bet(self, request, form, change):
        # The form has read the row; a bet commits now, before the admin writes.
        obj = original_save_form(self, request, form, change)
        thread = threading.Thread(target=place_from_another_connection)
        thread.start()
        thread.join(timeout=30)
        return obj

    monkeypatch.setattr(MatchAdmin, "save_form", save_form_then_bet)
    local_kickoff = timezone.localtime(match.kickoff)
    change_url = f"/admin/betting/match/{match.pk}/change/"
    # The read-only inlines' management forms and row ids, as the browser would send them back.
    inline_fields = dict(
        re.findall(
            r'name="(\w+-(?:TOTAL_FORMS|INITIAL_FORMS|MIN_NUM_FORMS|MAX_NUM_FORMS|\d+-id|\d+-match))"'
            r'\s+value="([^"]*)"',
            client.get(change_url).content.decode(),
        )
    )
    reply = client.post(
        change_url,
        {
            **inline_fields,
            "home_team": "Renamed",
            "away_team": match.away_team,
            "kickoff_0": local_kickoff.strftime("%Y-%m-%d"),
            "kickoff_1": local_kickoff.strftime("%H:%M:%S"),
            "opening_home": "2.10",
            "opening_draw": "3.40",
            "opening_away": "3.50",
        },
    )
    assert reply.status_code == 302, reply.content.decode()[:3000]
    match.refresh_from_db()
    assert match.home_team == "Renamed"
    assert match.bet_sequence == 1  # the bet's sequence number was not written back to 0
    assert Bet.objects.get().sequence == 1
