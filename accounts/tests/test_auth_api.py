"""Sign-up, JWT login/refresh/logout, /api/me/, password reset and their throttle."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import override_settings
from django.utils import timezone
from rest_framework.settings import api_settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts import jobs
from betting.models import LedgerEntry, LedgerKind, Wallet

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-enough-passphrase"


def register(client: APIClient, email: str = "Alice@Example.com", password: str = PASSWORD):
    return client.post("/api/auth/register/", {"email": email, "password": password}, format="json")


def tokens(client: APIClient, email: str = "alice@example.com", password: str = PASSWORD) -> dict:
    reply = client.post("/api/auth/token/", {"email": email, "password": password}, format="json")
    assert reply.status_code == 200, reply.content
    return reply.json()


def test_register_opens_a_wallet_with_the_signup_credit(api_client) -> None:
    reply = register(api_client)
    assert reply.status_code == 201, reply.content
    body = reply.json()
    assert body["email"] == "alice@example.com" and body["balance"] == "1000.00"
    user = User.objects.get(pk=body["id"])
    assert user.username == "alice@example.com"
    (entry,) = LedgerEntry.objects.filter(wallet__user=user)
    assert entry.kind == LedgerKind.CREDIT and entry.amount == Decimal("1000.00") and entry.memo


def test_register_twice_with_another_case_is_refused(api_client) -> None:
    register(api_client)
    reply = register(api_client, email="ALICE@example.com")
    assert reply.status_code == 400
    assert "email" in reply.json()["errors"]
    assert User.objects.count() == 1 and Wallet.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
        ({"email": "bob@example.com", "password": "short"}, "password"),
        ({"email": "bob@example.com", "password": "1234567890123"}, "password"),
        ({"email": "bob@example.com"}, "password"),
        ({"password": PASSWORD}, "email"),
    ],
)
def test_bad_signups_are_400_and_create_nothing(api_client, body, field) -> None:
    reply = api_client.post("/api/auth/register/", body, format="json")
    assert reply.status_code == 400, reply.content
    assert field in reply.json()["errors"]
    assert not User.objects.exists() and not Wallet.objects.exists()


def test_token_from_email_in_any_case_then_me_with_bearer(api_client) -> None:
    register(api_client)
    pair = tokens(api_client, email="ALICE@example.COM")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    me = client.get("/api/me/")
    assert me.status_code == 200
    assert me.json()["email"] == "alice@example.com" and me.json()["balance"] == "1000.00"


def test_wrong_password_is_401(api_client) -> None:
    register(api_client)
    reply = api_client.post("/api/auth/token/", {"email": "alice@example.com", "password": "wrong" * 3}, format="json")
    assert reply.status_code == 401
    assert reply.json()["code"] == "no_active_account"


def test_refresh_rotates_and_the_old_refresh_token_is_dead(api_client) -> None:
    register(api_client)
    pair = tokens(api_client)
    reply = api_client.post("/api/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert reply.status_code == 200
    assert set(reply.json()) == {"access", "refresh"} and reply.json()["refresh"] != pair["refresh"]
    again = api_client.post("/api/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert again.status_code == 401


def test_logout_blacklists_the_refresh_token(api_client) -> None:
    register(api_client)
    pair = tokens(api_client)
    assert api_client.post("/api/auth/logout/", {"refresh": pair["refresh"]}, format="json").status_code == 204
    reply = api_client.post("/api/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert reply.status_code == 401
    assert api_client.post("/api/auth/logout/", {"refresh": "garbage"}, format="json").status_code == 401
    assert api_client.post("/api/auth/logout/", {}, format="json").status_code == 400


def test_me_needs_authentication(api_client) -> None:
    assert api_client.get("/api/me/").status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert api_client.get("/api/me/").status_code == 401


@pytest.fixture
def debug_on_this_machine(settings) -> APIClient:
    """`make run`: DEBUG on, a server that answers only to this machine's names, and a client
    on this machine. The one case where the reset reply carries the link."""
    settings.DEBUG = True
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    return APIClient(HTTP_HOST="localhost", REMOTE_ADDR="127.0.0.1")


def test_password_reset_round_trip(debug_on_this_machine) -> None:
    api_client = debug_on_this_machine
    register(api_client)
    pair = tokens(api_client)
    reply = api_client.post("/api/auth/password-reset/", {"email": "alice@example.com"}, format="json")
    assert reply.status_code == 202
    body = reply.json()
    assert len(mail.outbox) == 1 and body["token"] in mail.outbox[0].body
    confirm = {"uid": body["uid"], "token": body["token"], "new_password": "another-long-passphrase"}
    assert api_client.post("/api/auth/password-reset/confirm/", confirm, format="json").status_code == 204
    tokens(api_client, password="another-long-passphrase")
    # The link works once, and the old refresh tokens were revoked.
    assert api_client.post("/api/auth/password-reset/confirm/", confirm, format="json").status_code == 400
    assert api_client.post("/api/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json").status_code == 401


def test_with_debug_the_reply_looks_the_same_whether_or_not_the_email_has_an_account(debug_on_this_machine) -> None:
    client = debug_on_this_machine
    register(client)
    known = client.post("/api/auth/password-reset/", {"email": "alice@example.com"}, format="json").json()
    unknown = client.post("/api/auth/password-reset/", {"email": "nobody@example.com"}, format="json").json()
    again = client.post("/api/auth/password-reset/", {"email": "Nobody@example.com"}, format="json").json()
    assert set(known) == set(unknown) == {"detail", "uid", "token"} and known["detail"] == unknown["detail"]
    assert unknown["uid"] == known["uid"] == again["uid"]  # an existing account's uid, the same every time
    assert len(unknown["token"]) == len(known["token"]) and unknown["token"] != known["token"]
    decoy = {"uid": unknown["uid"], "token": unknown["token"], "new_password": "another-long-passphrase"}
    assert client.post("/api/auth/password-reset/confirm/", decoy, format="json").status_code == 400
    assert len(mail.outbox) == 1
    tokens(client)  # the password did not change


@pytest.mark.parametrize(
    ("client_address", "allowed_hosts", "forwarded_for"),
    [
        ("192.0.2.7", ["127.0.0.1", "localhost"], None),  # a client on another machine
        ("127.0.0.1", ["127.0.0.1", "localhost", "odds.example.com"], None),  # a public name allowed
        ("127.0.0.1", ["*"], None),
        ("127.0.0.1", ["127.0.0.1", "localhost"], "192.0.2.7"),  # behind a proxy on this machine
    ],
)
def test_with_debug_the_reset_link_goes_to_nobody_but_a_client_on_a_local_only_server(
    settings, client_address, allowed_hosts, forwarded_for
) -> None:
    settings.DEBUG = True
    settings.ALLOWED_HOSTS = allowed_hosts
    headers = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for else {}
    client = APIClient(HTTP_HOST="localhost", REMOTE_ADDR=client_address)
    register(client)
    rest = {**api_settings.user_settings, "NUM_PROXIES": 1 if forwarded_for else 0}
    with override_settings(NUM_PROXIES=rest["NUM_PROXIES"], REST_FRAMEWORK=rest):
        reply = client.post("/api/auth/password-reset/", {"email": "alice@example.com"}, format="json", **headers)
    assert reply.status_code == 202
    assert set(reply.json()) == {"detail"}
    assert len(mail.outbox) == 1  # the e-mail carries the link, as ever


def test_password_reset_says_the_same_for_unknown_emails_and_hides_tokens_without_debug(api_client) -> None:
    register(api_client)
    known = api_client.post("/api/auth/password-reset/", {"email": "alice@example.com"}, format="json")
    unknown = api_client.post("/api/auth/password-reset/", {"email": "nobody@example.com"}, format="json")
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json() and "token" not in known.json()
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    "confirm",
    [
        {"uid": "Mg", "token": "bad-token", "new_password": "another-long-passphrase"},
        {"uid": "!!!", "token": "bad-token", "new_password": "another-long-passphrase"},
        {"uid": "Mg"},
    ],
)
def test_bad_reset_confirms_are_400(api_client, confirm) -> None:
    register(api_client)
    reply = api_client.post("/api/auth/password-reset/confirm/", confirm, format="json")
    assert reply.status_code == 400
    tokens(api_client)  # the password did not change


def test_login_is_throttled(api_client, throttle_rate) -> None:
    throttle_rate("auth", "3/minute")
    register(api_client)
    wrong = {"email": "alice@example.com", "password": "x" * 12}
    codes = [api_client.post("/api/auth/token/", wrong, format="json").status_code for _ in range(3)]
    assert codes == [401, 401, 429]  # sign-up counted too: the scope is shared
    assert "Retry-After" in api_client.post("/api/auth/token/", {}, format="json").headers


def test_beat_flushes_expired_refresh_tokens(api_client, run_task) -> None:
    register(api_client)
    tokens(api_client)
    tokens(api_client)
    OutstandingToken.objects.filter(pk=OutstandingToken.objects.first().pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    run_task(jobs.FLUSH_EXPIRED_REFRESH_TOKENS)
    assert OutstandingToken.objects.count() == 1


def test_sign_up_tells_a_taken_email_only_at_the_per_address_rate(api_client, throttle_rate) -> None:
    """The documented trade-off: sign-up says "Already registered" (a bettor needs to know),
    so probing e-mails through it is bounded by THROTTLE_AUTH per address."""
    throttle_rate("auth", "3/minute")
    register(api_client)
    probes = [register(api_client, email=email) for email in ("alice@example.com", "bob@example.com")]
    assert [probe.status_code for probe in probes] == [400, 201]
    assert probes[0].json()["errors"]["email"] == ["Already registered."]
    assert register(api_client, email="carol@example.com").status_code == 429
