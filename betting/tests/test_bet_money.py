"""Placing a bet moves money: the debit, price acceptance, idempotency, throttle, privacy."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from betting import jobs
from betting.models import Bet, BetRequest, LedgerEntry, LedgerKind, Match, Wallet
from betting.selectors import ledger_audit
from betting.tests.factories import UserFactory, new_bet_key
from betting.wallets import wallet_adjust
from realtime import streams

pytestmark = pytest.mark.django_db


def bet_body(target: Match, **overrides: object) -> dict:
    body = {"match": target.pk, "selection": "home", "stake": "10.00", **overrides}
    # Without a quoted price only `any` is accepted: these tests are about other rules.
    body.setdefault("accept_odds_change", "none" if "odds" in body else "any")
    return body


def client_of(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def balance_of(user) -> Decimal:
    return Wallet.objects.get(user=user).balance


def test_a_bet_debits_its_stake_as_a_ledger_entry_naming_the_bet(user, user_client, match) -> None:
    reply = user_client.post("/api/bets/", bet_body(match, stake="12.34"), format="json", **new_bet_key())
    assert reply.status_code == 201, reply.content
    bet = Bet.objects.get(pk=reply.json()["id"])
    assert balance_of(user) == Decimal("987.66")
    stake_entry = LedgerEntry.objects.get(bet=bet)
    assert stake_entry.kind == LedgerKind.STAKE and stake_entry.amount == Decimal("-12.34")
    assert stake_entry.balance_after == Decimal("987.66")
    assert ledger_audit() == []


def test_insufficient_balance_is_409_and_writes_nothing(match) -> None:
    poor = UserFactory(wallet=Decimal("5.00"))
    reply = client_of(poor).post("/api/bets/", bet_body(match, stake="5.01"), format="json", **new_bet_key())
    assert reply.status_code == 409
    assert reply.json()["code"] == "insufficient_funds" and reply.json()["balance"] == "5.00"
    assert not Bet.objects.exists() and balance_of(poor) == Decimal("5.00")
    assert LedgerEntry.objects.filter(wallet__user_id=poor.pk).count() == 1  # the credit only
    match.refresh_from_db()
    assert match.bet_sequence == 0


def test_the_whole_balance_can_be_staked(match) -> None:
    user = UserFactory(wallet=Decimal("5.00"))
    assert (
        client_of(user).post("/api/bets/", bet_body(match, stake="5.00"), format="json", **new_bet_key()).status_code
        == 201
    )
    assert balance_of(user) == Decimal("0.00")


def test_a_user_without_a_wallet_cannot_bet(match, django_user_model) -> None:
    bare = django_user_model.objects.create_user("bare@example.com", password="x" * 12)
    reply = client_of(bare).post("/api/bets/", bet_body(match), format="json", **new_bet_key())
    assert reply.status_code == 409 and reply.json()["code"] == "insufficient_funds"
    assert not Bet.objects.exists()


@pytest.mark.parametrize(("stake", "message"), [("0.09", "at least 0.10"), ("10000.01", "at most 10000.00")])
def test_stake_bounds_come_from_settings(user_client, match, stake, message) -> None:
    reply = user_client.post("/api/bets/", bet_body(match, stake=stake), format="json", **new_bet_key())
    assert reply.status_code == 400
    assert message in reply.json()["errors"]["stake"][0]
    assert not Bet.objects.exists() and not LedgerEntry.objects.filter(kind=LedgerKind.STAKE).exists()


# --- Price acceptance ------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "quoted", "accepted"),
    [
        ("none", "2.10", True),  # the price is the one quoted
        ("none", "2.00", False),  # moved longer: still refused
        ("none", "2.20", False),
        ("higher", "2.00", True),  # the current 2.10 pays more than the 2.00 quoted
        ("higher", "2.20", False),  # the current 2.10 pays less: refused
        ("any", "2.20", True),
        ("any", "1.50", True),
    ],
)
def test_price_acceptance(user, user_client, match, mode, quoted, accepted) -> None:
    reply = user_client.post(
        "/api/bets/", bet_body(match, odds=quoted, accept_odds_change=mode), format="json", **new_bet_key()
    )
    if accepted:
        assert reply.status_code == 201, reply.content
        assert reply.json()["odds"] == 2.1 and reply.json()["odds_version"] == 1  # struck at the current price
        assert balance_of(user) == Decimal("990.00")
    else:
        assert reply.status_code == 409
        body = reply.json()
        assert body["code"] == "odds_changed"
        assert body["odds"] == {"home": 2.1, "draw": 3.4, "away": 3.5} and body["version"] == 1
        assert not Bet.objects.exists() and balance_of(user) == Decimal("1000.00")


# --- Idempotency-Key -------------------------------------------------------------


def test_idempotency_key_replays_the_first_response_and_places_one_bet(user, user_client, match) -> None:
    first = user_client.post("/api/bets/", bet_body(match), format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    second = user_client.post("/api/bets/", bet_body(match), format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert Bet.objects.count() == 1 and balance_of(user) == Decimal("990.00")


def test_a_replay_answers_the_first_response_even_once_the_book_would_refuse_the_bet(user, user_client, match):
    """A replay is placed again and meets its record at the insert; refused now (the match has
    closed, the whole balance is staked), it still answers the first response, debits nothing."""
    first = user_client.post("/api/bets/", bet_body(match, stake="1000.00"), format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert first.status_code == 201 and balance_of(user) == Decimal("0.00")
    Match.objects.filter(pk=match.pk).update(status="closed")
    again = user_client.post("/api/bets/", bet_body(match, stake="1000.00"), format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json() and Bet.objects.count() == 1 and balance_of(user) == Decimal("0.00")
    other_body = user_client.post("/api/bets/", bet_body(match, stake="5.00"), format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert other_body.status_code == 422


def test_the_same_key_with_another_body_is_422(user, user_client, match) -> None:
    user_client.post("/api/bets/", bet_body(match), format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    reply = user_client.post("/api/bets/", bet_body(match, stake="11.00"), format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    assert reply.status_code == 422 and reply.json()["code"] == "idempotency_key_reused"
    assert Bet.objects.count() == 1 and balance_of(user) == Decimal("990.00")


def test_keys_are_per_user_and_expire(user_client, match) -> None:
    other = client_of(UserFactory())
    user_client.post("/api/bets/", bet_body(match), format="json", HTTP_IDEMPOTENCY_KEY="shared")
    assert other.post("/api/bets/", bet_body(match), format="json", HTTP_IDEMPOTENCY_KEY="shared").status_code == 201
    assert Bet.objects.count() == 2
    BetRequest.objects.update(created_at=timezone.now() - timedelta(hours=25))
    again = user_client.post("/api/bets/", bet_body(match), format="json", HTTP_IDEMPOTENCY_KEY="shared")
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert Bet.objects.count() == 3


def test_a_refused_bet_is_not_recorded_under_its_key(user, user_client, match) -> None:
    refused = user_client.post("/api/bets/", bet_body(match, odds="2.50"), format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert refused.status_code == 409 and not BetRequest.objects.exists()
    retried = user_client.post("/api/bets/", bet_body(match, odds="2.50"), format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert retried.status_code == 409


def test_an_overlong_idempotency_key_is_400(user_client, match) -> None:
    reply = user_client.post("/api/bets/", bet_body(match), format="json", HTTP_IDEMPOTENCY_KEY="k" * 201)
    assert reply.status_code == 400 and "Idempotency-Key" in reply.json()["errors"]
    assert not Bet.objects.exists()


# --- Throttle and listing ----------------------------------------------------------


def test_bet_placement_is_throttled_per_user(user_client, match, throttle_rate) -> None:
    throttle_rate("bets", "2/minute")
    codes = [
        user_client.post("/api/bets/", bet_body(match), format="json", **new_bet_key()).status_code for _ in range(3)
    ]
    assert codes == [201, 201, 429]
    assert user_client.get("/api/bets/").status_code == 200  # reading is not throttled
    assert (
        client_of(UserFactory()).post("/api/bets/", bet_body(match), format="json", **new_bet_key()).status_code == 201
    )


def test_bets_filter_by_status_and_reject_unknown_statuses(user_client, match) -> None:
    user_client.post("/api/bets/", bet_body(match), format="json", **new_bet_key())
    assert len(user_client.get("/api/bets/?status=open").json()["results"]) == 1
    assert user_client.get("/api/bets/?status=won").json()["results"] == []
    reply = user_client.get("/api/bets/?status=maybe")
    assert reply.status_code == 400 and "status" in reply.json()["errors"]


def test_wallet_and_ledger_are_the_users_own(user, user_client, match) -> None:
    user_client.post("/api/bets/", bet_body(match, stake="25.00"), format="json", **new_bet_key())
    wallet = user_client.get("/api/wallet/").json()
    assert wallet["balance"] == "975.00"
    ledger = user_client.get("/api/wallet/ledger/").json()
    assert ledger["count"] == 2
    assert [(e["kind"], e["amount"]) for e in ledger["results"]] == [("stake", "-25.00"), ("credit", "1000.00")]

    stranger = client_of(UserFactory(wallet=Decimal("3.00")))
    assert stranger.get("/api/wallet/").json()["balance"] == "3.00"
    assert stranger.get("/api/wallet/ledger/").json()["count"] == 1
    assert stranger.get("/api/bets/").json()["results"] == []
    assert APIClient().get("/api/wallet/").status_code == 401


def test_ledger_is_paginated(user, user_client) -> None:
    for index in range(60):
        wallet_adjust(user_id=user.pk, amount=Decimal(index + 1), memo="test", staff=None)
    first = user_client.get("/api/wallet/ledger/").json()
    assert first["count"] == 61 and len(first["results"]) == 50 and first["next"]
    assert len(user_client.get("/api/wallet/ledger/?page=2").json()["results"]) == 11
    assert user_client.get("/api/wallet/ledger/?page=9").status_code == 404


# --- Private events ------------------------------------------------------------------


def test_acceptance_publishes_bet_and_wallet_events_to_the_bettor_only(
    user, user_client, match, published, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        bet_id = user_client.post("/api/bets/", bet_body(match), format="json", **new_bet_key()).json()["id"]
    private = [(frame, routing) for stream, frame, routing in published if stream == streams.PRIVATE]
    assert private[:2] == [
        (
            {
                "type": "wallet",
                "balance": "990.00",
                "change": "-10.00",
                "reason": "stake",
            },
            {"user": user.pk},
        ),
        (
            {
                "type": "bet",
                "id": bet_id,
                "kind": "single",
                "legs": [],
                "match": match.pk,
                "market": "1x2",
                "selection": "home",
                "stake": "10.00",
                "odds": 2.1,
                "odds_version": 1,
                "status": "open",
                "reason": "",
                "decide_at": None,
                "payout": None,
            },
            {"user": user.pk},
        ),
    ]
    # The recompute the bet asked for (run inline here) then sends its cash-out value.
    assert [frame["type"] for frame, _ in private[2:]] == ["cashout"]
    assert private[2][1] == {"user": user.pk} and private[2][0]["bet"] == bet_id
    for frame, _ in private:  # frames cross the wire as JSON
        assert streams.encode_frame(frame)


def test_nothing_is_published_for_a_refused_bet(user_client, match, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        user_client.post("/api/bets/", bet_body(match, stake="5000.00"), format="json", **new_bet_key())
    assert published == []


def test_beat_purges_expired_idempotency_keys(user_client, match, run_task) -> None:
    user_client.post("/api/bets/", bet_body(match), format="json", HTTP_IDEMPOTENCY_KEY="old")
    user_client.post("/api/bets/", bet_body(match), format="json", HTTP_IDEMPOTENCY_KEY="fresh")
    BetRequest.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))
    assert run_task(jobs.PURGE_IDEMPOTENCY_KEYS) == 1
    assert list(BetRequest.objects.values_list("key", flat=True)) == ["fresh"]
