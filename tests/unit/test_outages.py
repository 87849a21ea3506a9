"""A dependency that is down: 503 with Retry-After and the usual error body, never a 500,
never a half-written change; and /readyz names what is down without saying more."""

from unittest import mock

import pytest
from django.db import OperationalError
from django.test import Client
from rest_framework.test import APIClient

from betting.models import Bet
from betting.selectors import wallet_balance_of
from betting.tests.factories import MatchFactory, UserFactory, new_bet_key


def client_of(user) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    return client


def assert_unavailable(reply, dependency: str, *, keyed: bool = False) -> None:
    assert reply.status_code == 503, reply.content
    assert int(reply["Retry-After"]) > 0
    detail = f"A service this request needs ({dependency}) is unavailable: retry shortly."
    if keyed:  # an Idempotency-Key makes the retry safe, whatever the outage left undone
        detail += " Send the same Idempotency-Key again: the request takes effect at most once."
    assert reply.json() == {"code": "service_unavailable", "detail": detail, "dependency": dependency}


@pytest.mark.django_db
def test_sign_in_fails_closed_when_its_throttle_cannot_count(redis_down) -> None:
    user = UserFactory()
    reply = APIClient(raise_request_exception=False).post(
        "/api/auth/token/", {"email": user.email, "password": "correct-horse-battery"}, format="json"
    )
    assert_unavailable(reply, "redis")


@pytest.mark.django_db
def test_sign_up_fails_closed_and_credits_nothing(redis_down) -> None:
    from django.contrib.auth.models import User

    reply = APIClient(raise_request_exception=False).post(
        "/api/auth/register/", {"email": "new@example.com", "password": "a-long-enough-passphrase"}, format="json"
    )
    assert_unavailable(reply, "redis")
    assert not User.objects.filter(username="new@example.com").exists()


@pytest.mark.django_db
def test_a_bet_is_placed_with_redis_down(redis_down, django_capture_on_commit_callbacks, published) -> None:
    """The bet throttle fails open and the recompute's enqueue fails open: the bet stands and
    reconciliation counts it when Redis is back."""
    user, match = UserFactory(), MatchFactory()
    with django_capture_on_commit_callbacks(execute=True):
        reply = client_of(user).post(
            "/api/bets/",
            {"match": match.pk, "selection": "home", "stake": "10.00", "odds": 2.1},
            format="json",
            **new_bet_key(),
        )
    assert reply.status_code == 201, reply.content
    match.refresh_from_db()
    assert match.bet_sequence == 1 and match.bets_counted == 0  # counted later by reconciliation


@pytest.mark.django_db
def test_a_database_outage_during_a_bet_is_a_503_and_writes_nothing() -> None:
    user, match = UserFactory(), MatchFactory()
    balance = wallet_balance_of(user_id=user.pk)
    with mock.patch("betting.placement.wallet_post", side_effect=OperationalError("server closed the connection")):
        reply = client_of(user).post(
            "/api/bets/",
            {"match": match.pk, "selection": "home", "stake": "10.00", "odds": 2.1},
            format="json",
            **new_bet_key(),
        )
    assert_unavailable(reply, "database", keyed=True)
    assert not Bet.objects.exists()  # the bet row went with the rolled-back transaction
    match.refresh_from_db()
    assert match.bet_sequence == 0 and wallet_balance_of(user_id=user.pk) == balance


@pytest.mark.django_db
def test_an_outage_outside_a_view_is_a_503_too() -> None:
    """The session middleware reads the database before any view runs: handler500 maps it."""
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = "some-session"
    with mock.patch(
        "django.contrib.sessions.backends.db.SessionStore.load", side_effect=OperationalError("connection refused")
    ):
        reply = client.get("/me/bets/")
    assert_unavailable(reply, "database")


@pytest.mark.django_db
def test_readyz_names_the_failing_dependency_without_its_exception_text(redis_down) -> None:
    with mock.patch(
        "frontend.views.connection.cursor", side_effect=OperationalError('password authentication failed for "app"')
    ):
        reply = Client().get("/readyz")
    assert reply.status_code == 503 and int(reply["Retry-After"]) > 0
    assert reply.json() == {"status": "unavailable", "database": "unavailable", "redis": "unavailable"}
    assert b"password" not in reply.content and b"127.0.0.1" not in reply.content


@pytest.mark.django_db
def test_a_constraint_violation_is_not_reported_as_an_outage() -> None:
    from django.db import IntegrityError

    from config.middleware import failing_dependency

    assert failing_dependency(IntegrityError("duplicate key")) is None
    assert failing_dependency(OperationalError("gone")) == "database"
