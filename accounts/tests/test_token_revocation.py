"""An access token ends with its credential on HTTP as on sockets: sign-out, password change or
reset, and deactivation refuse every access token issued before them, and with Redis down the
check falls back to the database (never a 500)."""

import uuid
from typing import cast

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken as ForeignAccessToken

from accounts.services import password_reset_link
from accounts.tokens import SESSION_CLAIM, session_of_jti
from betting.tests.factories import UserFactory
from realtime import connections

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"  # UserFactory's


def sign_in(user: User) -> dict[str, str]:
    reply = APIClient().post("/api/auth/token/", {"email": user.email, "password": PASSWORD}, format="json")
    assert reply.status_code == 200, reply.content
    return reply.json()


def bearer(access: str) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def bet(access: str, match) -> int:
    body = {"match": match.pk, "selection": "home", "stake": "1.00", "odds": 2.1}
    return bearer(access).post("/api/bets/", body, HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())).status_code


def assert_revoked(access: str) -> None:
    reply = bearer(access).get("/api/me/")
    assert reply.status_code == 401, reply.content
    assert reply.json()["code"] in {"token_revoked", "password_changed", "user_inactive"}, reply.json()


def logout(refresh: str, capture) -> None:
    with capture(execute=True):  # the revocation is recorded after the commit
        assert APIClient().post("/api/auth/logout/", {"refresh": refresh}, format="json").status_code == 204


def test_after_logout_the_old_access_token_gets_401_on_bets(match, django_capture_on_commit_callbacks) -> None:
    user = UserFactory()
    pair = sign_in(user)
    assert bet(pair["access"], match) == 201
    logout(pair["refresh"], django_capture_on_commit_callbacks)
    assert bet(pair["access"], match) == 401
    assert bearer(pair["access"]).get("/api/me/").json()["code"] == "token_revoked"
    # Signing in again at once (in the same second) gives a token that works.
    assert bet(sign_in(user)["access"], match) == 201


def test_a_password_change_anywhere_ends_the_access_tokens(django_capture_on_commit_callbacks) -> None:
    user = UserFactory()
    access = sign_in(user)["access"]
    with django_capture_on_commit_callbacks(execute=True):  # as the admin or `changepassword` do
        user.set_password("a-new-long-passphrase")
        user.save()
    assert_revoked(access)


def test_a_password_reset_ends_the_access_tokens(django_capture_on_commit_callbacks) -> None:
    user = UserFactory()
    access = sign_in(user)["access"]
    user.refresh_from_db()  # the sign-in moved last_login, which reset tokens depend on
    link = password_reset_link(user)
    body = {"uid": link.uid, "token": link.token, "new_password": "a-new-long-passphrase"}
    with django_capture_on_commit_callbacks(execute=True):
        assert APIClient().post("/api/auth/password-reset/confirm/", body, format="json").status_code == 204
    assert_revoked(access)


def test_deactivation_ends_the_access_tokens(django_capture_on_commit_callbacks) -> None:
    user = UserFactory()
    access = sign_in(user)["access"]
    with django_capture_on_commit_callbacks(execute=True):
        user.is_active = False
        user.save()
    assert_revoked(access)


def test_a_refresh_is_no_revocation_and_keeps_the_session() -> None:
    user = UserFactory()
    pair = sign_in(user)
    rotated = APIClient().post("/api/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json").json()
    for access in (pair["access"], rotated["access"]):
        assert bearer(access).get("/api/me/").status_code == 200
    session = ForeignAccessToken(pair["access"])[SESSION_CLAIM]
    assert ForeignAccessToken(rotated["access"])[SESSION_CLAIM] == session
    assert session_of_jti(ForeignAccessToken(rotated["refresh"], verify=False)["jti"]) == session


def test_other_users_tokens_are_untouched(match, django_capture_on_commit_callbacks) -> None:
    mine, theirs = sign_in(UserFactory()), sign_in(UserFactory())
    logout(mine["refresh"], django_capture_on_commit_callbacks)
    assert bet(theirs["access"], match) == 201


# --- Redis down: the database decides, never a 500 ------------------------------------


def test_with_redis_down_a_signed_in_session_keeps_betting(
    match, redis_outage, django_capture_on_commit_callbacks
) -> None:
    pair = sign_in(UserFactory())
    rotated = APIClient().post("/api/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json").json()
    with redis_outage(), django_capture_on_commit_callbacks(execute=True):
        assert bet(pair["access"], match) == 201  # a rotation is no sign-out
        assert bet(rotated["access"], match) == 201


def test_with_redis_down_a_session_signed_out_before_is_refused(
    redis_outage, django_capture_on_commit_callbacks
) -> None:
    user = UserFactory()
    signed_out, other_device = sign_in(user), sign_in(user)
    logout(signed_out["refresh"], django_capture_on_commit_callbacks)
    with redis_outage():
        assert_revoked(signed_out["access"])
        # The database knows sessions, not the instant: another device's session stays in.
        assert bearer(other_device["access"]).get("/api/me/").status_code == 200


def test_with_redis_down_a_sign_out_is_a_503_that_changes_nothing_and_its_retry_holds_after(
    redis_outage, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    """A sign-out whose revocation record cannot be written would be forgotten once Redis
    returns (the old access token accepted again until it expires): it is refused instead."""
    # The sockets' one cache instance too follows the outage (it is made once per process).
    monkeypatch.setattr(connections, "process_cache", lambda: cache)
    pair = sign_in(UserFactory())
    with redis_outage(), django_capture_on_commit_callbacks(execute=True):
        reply = APIClient(raise_request_exception=False).post(
            "/api/auth/logout/", {"refresh": pair["refresh"]}, format="json"
        )
        assert reply.status_code == 503, reply.content
        assert reply["Retry-After"] and reply.json()["dependency"] == "redis"
        assert bearer(pair["access"]).get("/api/me/").status_code == 200  # nothing changed
    # Redis is back: the session is still signed in, and the retry signs it out for good.
    assert bearer(pair["access"]).get("/api/me/").status_code == 200
    logout(pair["refresh"], django_capture_on_commit_callbacks)
    assert_revoked(pair["access"])
    with redis_outage():
        assert_revoked(pair["access"])  # the database agrees


def test_with_redis_down_password_changes_and_deactivations_are_refused(
    redis_outage, django_capture_on_commit_callbacks
) -> None:
    changed, deactivated = UserFactory(), UserFactory()
    tokens = {changed.pk: sign_in(changed)["access"], deactivated.pk: sign_in(deactivated)["access"]}
    with redis_outage(), django_capture_on_commit_callbacks(execute=True):
        changed.set_password("a-new-long-passphrase")
        changed.save()
        deactivated.is_active = False
        deactivated.save()
        for access in tokens.values():
            assert_revoked(access)


def test_with_redis_down_a_token_the_api_did_not_issue_is_refused(redis_outage) -> None:
    foreign = str(ForeignAccessToken.for_user(cast(User, UserFactory())))  # no session claim
    assert bearer(foreign).get("/api/me/").status_code == 200
    with redis_outage():
        assert_revoked(foreign)
