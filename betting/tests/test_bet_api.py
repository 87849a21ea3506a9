"""POST /api/bets/: the happy path and every bad input (4xx, clear message, nothing written)."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from betting.models import Bet, Match, MatchStatus, OddsVersion
from betting.selectors import wallet_balance_of
from betting.tests.factories import MatchFactory, new_bet_key

pytestmark = pytest.mark.django_db


def bet_body(target: Match, **overrides: object) -> dict:
    body = {"match": target.pk, "selection": "home", "stake": "10.00", **overrides}
    # Without a quoted price only `any` is accepted: these tests are about other rules.
    body.setdefault("accept_odds_change", "none" if "odds" in body else "any")
    return body


def test_place_bet_records_it_at_current_price_and_recomputes(
    user_client, match, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        reply = user_client.post("/api/bets/", bet_body(match, stake="250.00"), format="json", **new_bet_key())
    assert reply.status_code == 201, reply.content
    body = reply.json()
    assert body["odds"] == 2.1 and body["odds_version"] == 1 and body["stake"] == "250.00"
    match.refresh_from_db()
    # The eager worker recomputed: the money on home shortened its price.
    assert match.odds_version == 2 and match.odds_home < Decimal("2.10")
    assert match.bets_counted == match.bet_sequence == 1
    assert OddsVersion.objects.filter(match=match, version=2, bets_counted=1).exists()


def test_anonymous_cannot_bet(api_client, match) -> None:
    """Unauthenticated, not forbidden: a 401 that tells the client to bring a bearer token."""
    reply = api_client.post("/api/bets/", bet_body(match), format="json", **new_bet_key())
    assert reply.status_code == 401
    assert reply.json()["code"] == "not_authenticated"
    assert reply.headers["WWW-Authenticate"].startswith("Bearer")
    assert not Bet.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"selection": "both"}, "selection"),
        ({"stake": "-5.00"}, "stake"),
        ({"stake": "0"}, "stake"),
        ({"stake": "1.005"}, "stake"),
        ({"stake": "ten"}, "stake"),
        ({"stake": "NaN"}, "stake"),
        ({"stake": "99999999.00"}, "stake"),
        ({"match": 999999}, "match"),
        ({"match": "abc"}, "match"),
        ({"accept_odds_change": "sometimes"}, "accept_odds_change"),
    ],
)
def test_bad_fields_are_400_with_a_message_per_field(user_client, match, overrides, field) -> None:
    reply = user_client.post("/api/bets/", bet_body(match, **overrides), format="json", **new_bet_key())
    assert reply.status_code == 400, reply.content
    assert field in reply.json()["errors"]
    assert not Bet.objects.exists()
    match.refresh_from_db()
    assert match.bet_sequence == 0


def test_missing_fields_are_named(user_client, match) -> None:
    reply = user_client.post("/api/bets/", {}, format="json", **new_bet_key())
    assert reply.status_code == 400
    assert {"match", "selection", "stake"} <= set(reply.json()["errors"])


def test_malformed_json_is_400(user_client, match) -> None:
    reply = user_client.post("/api/bets/", data="{not json", content_type="application/json", **new_bet_key())
    assert reply.status_code == 400
    assert reply.json()["code"] == "malformed"
    assert not Bet.objects.exists()


@pytest.mark.parametrize("status", [MatchStatus.CLOSED, MatchStatus.SCHEDULED])
def test_match_not_open_is_409(user_client, status) -> None:
    match = MatchFactory(status=status)
    reply = user_client.post("/api/bets/", bet_body(match), format="json", **new_bet_key())
    assert reply.status_code == 409
    assert reply.json()["code"] == "match_not_open"
    assert not Bet.objects.exists()


@pytest.mark.parametrize("reason", ["goal", "red_card", "penalty", "trader"])
def test_a_suspended_market_is_409_market_suspended_with_the_reason(user_client, user, reason) -> None:
    match = MatchFactory(status=MatchStatus.SUSPENDED, suspended_reason=reason)
    reply = user_client.post("/api/bets/", bet_body(match), format="json", **new_bet_key())
    assert reply.status_code == 409
    body = reply.json()
    assert (body["code"], body["reason"], body["status"]) == ("market_suspended", reason, "suspended")
    assert not Bet.objects.exists()
    assert wallet_balance_of(user_id=user.pk) == Decimal("1000.00")


def test_changed_price_is_409_with_current_price(user_client, match) -> None:
    reply = user_client.post("/api/bets/", bet_body(match, odds="2.50"), format="json", **new_bet_key())
    assert reply.status_code == 409
    body = reply.json()
    assert body["code"] == "odds_changed" and body["odds"]["home"] == 2.1 and body["version"] == 1
    assert not Bet.objects.exists()


def test_users_see_only_their_own_bets(user_client, match, django_user_model) -> None:
    user_client.post("/api/bets/", bet_body(match), format="json", **new_bet_key())
    other = APIClient()
    other.force_authenticate(django_user_model.objects.create_user("other@example.com", password="x" * 12))
    assert other.get("/api/bets/").json()["results"] == []
    own_id = user_client.get("/api/bets/").json()["results"][0]["id"]
    assert other.get(f"/api/bets/{own_id}/").status_code == 404


def test_the_answer_to_a_bet_is_what_the_bet_output_serializer_gives(user, match) -> None:
    """The reply is rendered by `bet_reply` (one serializer instance, no legs query for a
    single): the same shape and values as the schema's BetOutputSerializer, single or not."""
    from betting.accumulators import LegRequest, accumulator_place
    from betting.api.serializers import BetOutputSerializer, bet_reply
    from betting.placement import bet_place

    single = bet_place(user=user, match_id=match.pk, selection="draw", stake=Decimal("3.00"), accept_odds_change="any")
    other = MatchFactory()
    legs = [LegRequest(m.pk, "1x2", "away") for m in (match, other)]
    accumulator = accumulator_place(user=user, legs=legs, stake=Decimal("2.00"), accept_odds_change="any")
    for bet in (single, accumulator):
        bet = Bet.objects.get(pk=bet.pk)
        assert bet_reply(bet) == dict(BetOutputSerializer(bet).data)
        assert list(bet_reply(bet)) == list(BetOutputSerializer(bet).data)  # the same order too
    assert len(bet_reply(Bet.objects.get(pk=accumulator.pk))["legs"]) == 2
