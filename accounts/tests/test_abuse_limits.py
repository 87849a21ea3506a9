"""Abuse limits: every credential check is counted per client IP (the real one behind the
proxies) and per account and IP together, never per account alone; an account under attack is
slowed down, its owner never locked out; HTTP Basic is off outside DEBUG."""

import base64
import re

import pytest
from django.core import mail
from django.test import Client, override_settings
from rest_framework.authentication import BasicAuthentication
from rest_framework.settings import api_settings
from rest_framework.test import APIClient

from accounts.api.views import MeApi
from accounts.services import password_reset_link
from betting.tests.factories import UserFactory

PASSWORD = "correct-horse-battery"  # UserFactory's


@pytest.fixture
def few_failures(settings):
    settings.SIGN_IN_FAILURE_LIMIT = 3
    settings.SIGN_IN_FAILURE_LIMIT_UNDER_ATTACK = 2


@pytest.fixture
def behind_one_proxy():
    """As deployed behind nginx: NUM_PROXIES=1."""
    rest = {**api_settings.user_settings, "NUM_PROXIES": 1}
    with override_settings(NUM_PROXIES=1, REST_FRAMEWORK=rest):
        yield


def token(client: APIClient, email: str, password: str, **headers):
    return client.post("/api/auth/token/", {"email": email, "password": password}, format="json", **headers)


# --- django-axes: per account and per IP, on every sign-in path -------------------


def basic(email: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{email}:{password}".encode()).decode()


@pytest.mark.django_db
def test_wrong_passwords_from_many_addresses_never_lock_the_owner_out(api_client, monkeypatch) -> None:
    """Eleven wrong passwords from eleven addresses (one more than the limit), then the right
    one from a fresh address: it works on the API, the login page and HTTP Basic."""
    user = UserFactory()
    codes = [token(api_client, user.email, "wrong", REMOTE_ADDR=f"198.51.100.{i}").status_code for i in range(11)]
    assert codes == [401] * 11
    assert token(api_client, user.email, PASSWORD, REMOTE_ADDR="192.0.2.1").status_code == 200
    page = Client(REMOTE_ADDR="192.0.2.2")
    signed_in = page.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert signed_in.status_code == 302 and page.session["_auth_user_id"] == str(user.pk)
    # HTTP Basic, as the local settings add it under DEBUG.
    monkeypatch.setattr(MeApi, "authentication_classes", [BasicAuthentication])
    me = APIClient().get("/api/me/", HTTP_AUTHORIZATION=basic(user.email, PASSWORD), REMOTE_ADDR="192.0.2.3")
    assert me.status_code == 200 and me.json()["id"] == user.pk


@pytest.mark.django_db
def test_an_account_under_attack_gives_each_address_fewer_tries(api_client, settings) -> None:
    settings.SIGN_IN_FAILURE_LIMIT, settings.SIGN_IN_FAILURE_LIMIT_UNDER_ATTACK = 5, 2
    calm, attacked = UserFactory(), UserFactory()
    # An account nobody attacks: one address gets the full limit before it is locked there.
    assert [token(api_client, calm.email, "wrong").status_code for _ in range(5)] == [401] * 4 + [429]
    # Five failures from five addresses put the other account under attack...
    attack = [token(api_client, attacked.email, "x", REMOTE_ADDR=f"198.51.100.{i}").status_code for i in range(5)]
    assert attack == [401] * 5
    # ...so a sixth address is locked there after two (SIGN_IN_FAILURE_LIMIT_UNDER_ATTACK)...
    guesses = [token(api_client, attacked.email, "wrong", REMOTE_ADDR="203.0.113.7").status_code for _ in range(3)]
    assert guesses == [401, 429, 429]
    assert token(api_client, attacked.email, PASSWORD, REMOTE_ADDR="203.0.113.7").status_code == 429
    # ...and at that account only: the same address may still sign in to another.
    assert token(api_client, UserFactory().email, PASSWORD, REMOTE_ADDR="203.0.113.7").status_code == 200
    # The owner, from any address that has not failed there, signs in at once.
    assert token(api_client, attacked.email.upper(), PASSWORD, REMOTE_ADDR="192.0.2.10").status_code == 200


@pytest.mark.django_db
def test_a_signed_in_session_or_token_is_unaffected_by_a_lockout(api_client, few_failures) -> None:
    user = UserFactory()
    session = Client()  # 127.0.0.1, like the guesses below
    session.force_login(user)
    pair = token(api_client, user.email, PASSWORD, REMOTE_ADDR="192.0.2.20").json()
    for i in range(6):  # the account under attack, and 127.0.0.1 locked at it and as an address
        token(api_client, user.email, "wrong", REMOTE_ADDR=f"198.51.100.{i}")
        token(api_client, user.email, "wrong")
    assert token(api_client, user.email, PASSWORD).status_code == 429
    assert session.get("/me/bets/").status_code == 200
    assert session.get("/api/me/").status_code == 200
    bearer = APIClient()
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    assert bearer.get("/api/me/").status_code == 200
    assert api_client.post("/api/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json").status_code == 200


@pytest.mark.django_db
def test_api_sign_in_locks_an_address_that_tries_many_accounts(api_client, few_failures) -> None:
    victims = [UserFactory() for _ in range(4)]
    codes = [token(api_client, victim.email, "wrong", REMOTE_ADDR="203.0.113.9").status_code for victim in victims[:3]]
    assert codes == [401, 401, 429]
    assert token(api_client, victims[3].email, PASSWORD, REMOTE_ADDR="203.0.113.9").status_code == 429
    assert token(api_client, victims[3].email, PASSWORD, REMOTE_ADDR="203.0.113.10").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/"])
def test_session_and_admin_login_pages_lock_out_too(path, few_failures) -> None:
    user = UserFactory(is_staff=True)
    client = Client()
    codes = [client.post(path, {"username": user.username, "password": "wrong"}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]  # the form again with its error, then locked out
    locked = client.post(path, {"username": user.username, "password": PASSWORD})
    assert locked.status_code == 429 and "Retry-After" in locked
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_forged_forwarded_for_gets_no_fresh_lockout_count(api_client, few_failures, behind_one_proxy) -> None:
    users = [UserFactory() for _ in range(4)]
    codes = []
    for index, user in enumerate(users[:3]):
        forged = {"HTTP_X_FORWARDED_FOR": f"10.9.9.{index}, 192.0.2.50", "REMOTE_ADDR": "172.18.0.2"}
        codes.append(token(api_client, user.email, "wrong", **forged).status_code)
    assert codes == [401, 401, 429]  # one client (192.0.2.50), whatever it wrote before it
    forged = {"HTTP_X_FORWARDED_FOR": "10.9.9.200, 192.0.2.50", "REMOTE_ADDR": "172.18.0.2"}
    assert token(api_client, users[3].email, PASSWORD, **forged).status_code == 429


# --- The per-IP throttle behind the proxy ---------------------------------------


@pytest.mark.django_db
def test_a_forged_forwarded_for_does_not_get_a_fresh_throttle_bucket(throttle_rate, behind_one_proxy) -> None:
    throttle_rate("auth", "3/minute")
    client = APIClient()

    def register(index: int, real_ip: str) -> int:
        headers = {"HTTP_X_FORWARDED_FOR": f"10.0.0.{index}, {real_ip}", "REMOTE_ADDR": "172.18.0.2"}
        body = {"email": f"new{index}@example.com", "password": "a-long-enough-passphrase"}
        return client.post("/api/auth/register/", body, format="json", **headers).status_code

    assert [register(index, "192.0.2.7") for index in range(5)] == [201, 201, 201, 429, 429]
    assert register(99, "192.0.2.8") == 201  # another real client has its own bucket


@pytest.mark.django_db
def test_without_proxies_the_forwarded_for_header_is_ignored(throttle_rate) -> None:
    throttle_rate("auth", "2/minute")
    client = APIClient()
    codes = [
        client.post(
            "/api/auth/password-reset/",
            {"email": f"nobody{index}@example.com"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"10.0.0.{index}",
        ).status_code
        for index in range(3)
    ]
    assert codes == [202, 202, 429]


# --- Password reset: per address, and per account and address together ------------

NEW_PASSWORD = "a-long-enough-passphrase"


def reset_request(email: str, address: str) -> int:
    return APIClient().post("/api/auth/password-reset/", {"email": email}, REMOTE_ADDR=address).status_code


def reset_confirm(uid: str, token: str, address: str) -> int:
    body = {"uid": uid, "token": token, "new_password": NEW_PASSWORD}
    return APIClient().post("/api/auth/password-reset/confirm/", body, REMOTE_ADDR=address).status_code


@pytest.mark.django_db
def test_garbage_confirms_for_a_victims_uid_never_block_the_victims_own_link() -> None:
    victim = UserFactory()
    link = password_reset_link(victim)
    # Five garbage tokens from one address spend that address's budget at the account...
    assert [reset_confirm(link.uid, f"guess-{i}", "198.51.100.1") for i in range(6)] == [400] * 5 + [429]
    # ...and five more addresses change nothing for the owner.
    assert {reset_confirm(link.uid, "guess", f"198.51.100.{i}") for i in range(2, 7)} == {400}
    assert reset_confirm(link.uid, link.token, "192.0.2.1") == 204
    victim.refresh_from_db()
    assert victim.check_password(NEW_PASSWORD)


@pytest.mark.django_db
def test_reset_requests_for_a_victims_email_never_block_their_own_request() -> None:
    victim = UserFactory()
    assert [reset_request(victim.email.upper(), f"198.51.100.{i}") for i in range(5)] == [202] * 5
    assert reset_request(victim.email, "192.0.2.1") == 202
    assert len(mail.outbox) == 6 and mail.outbox[-1].to == [victim.email]


@pytest.mark.django_db
def test_reset_requests_are_limited_per_address_at_an_account() -> None:
    victim = UserFactory()
    assert [reset_request(victim.email, "203.0.113.1") for _ in range(6)] == [202] * 5 + [429]
    assert reset_request(victim.email, "203.0.113.2") == 202
    assert reset_request(UserFactory().email, "203.0.113.1") == 202  # another account: its own count


@pytest.mark.django_db
def test_reset_mails_per_account_are_bounded_without_stranding_the_owner(settings) -> None:
    settings.PASSWORD_RESET_MAILS_PER_HOUR = 2
    victim = UserFactory()
    assert [reset_request(victim.email, f"198.51.100.{i}") for i in range(4)] == [202] * 4  # the same reply
    assert len(mail.outbox) == 2  # the inbox is not flooded...
    uid, token = re.search(r"uid=(\S+) and token=(\S+)\.", mail.outbox[0].body).groups()
    assert reset_confirm(uid, token, "192.0.2.1") == 204  # ...and the first link still works


@pytest.mark.django_db
def test_the_reset_page_shares_the_apis_count_for_the_address_at_the_account(throttle_rate) -> None:
    throttle_rate("auth_account_ip", "2/hour")
    assert [reset_confirm("MQ", "guess", "198.51.100.7") for _ in range(2)] == [400, 400]
    form = {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD}
    assert Client().post("/accounts/reset/MQ/guess/", form, REMOTE_ADDR="198.51.100.7").status_code == 429
    assert Client().post("/accounts/reset/MQ/guess/", form, REMOTE_ADDR="198.51.100.8").status_code == 200


# --- HTTP Basic -------------------------------------------------------------------


@pytest.mark.django_db
def test_http_basic_is_off_outside_debug(api_client) -> None:
    user = UserFactory()
    assert api_client.get("/api/me/", HTTP_AUTHORIZATION=basic(user.username, PASSWORD)).status_code == 401
