"""Abuse limits: every credential check is counted per account and per client IP, the real
one behind the proxies, and HTTP Basic is off outside DEBUG."""

import base64

import pytest
from django.test import Client, override_settings
from rest_framework.settings import api_settings
from rest_framework.test import APIClient

from betting.tests.factories import UserFactory

PASSWORD = "correct-horse-battery"  # UserFactory's


@pytest.fixture
def few_failures(settings):
    settings.AXES_FAILURE_LIMIT = 3


@pytest.fixture
def behind_one_proxy():
    """As deployed behind nginx: NUM_PROXIES=1."""
    rest = {**api_settings.user_settings, "NUM_PROXIES": 1}
    with override_settings(NUM_PROXIES=1, REST_FRAMEWORK=rest):
        yield


def token(client: APIClient, email: str, password: str, **headers):
    return client.post("/api/auth/token/", {"email": email, "password": password}, format="json", **headers)


# --- django-axes: per account and per IP, on every sign-in path -------------------


@pytest.mark.django_db
def test_api_sign_in_locks_an_account_whatever_address_the_guesses_come_from(api_client, few_failures) -> None:
    user = UserFactory()
    codes = [token(api_client, user.email, "wrong", REMOTE_ADDR=f"198.51.100.{i}").status_code for i in range(3)]
    assert codes == [401, 401, 429]  # the third failure reaches the limit
    locked = token(api_client, user.email, PASSWORD, REMOTE_ADDR="198.51.100.99")
    assert locked.status_code == 429
    assert locked.json()["code"] == "locked_out" and int(locked["Retry-After"]) > 0


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


# --- Password reset, per account ----------------------------------------------


@pytest.mark.django_db
def test_password_reset_requests_are_limited_per_account_across_addresses(throttle_rate) -> None:
    throttle_rate("auth_account", "2/hour")
    user = UserFactory()
    client = APIClient()
    codes = [
        client.post(
            "/api/auth/password-reset/", {"email": user.email.upper()}, format="json", REMOTE_ADDR=f"198.51.100.{i}"
        ).status_code
        for i in range(3)
    ]
    assert codes == [202, 202, 429]


@pytest.mark.django_db
def test_reset_token_guesses_are_limited_per_account_on_the_api_and_the_page(throttle_rate) -> None:
    throttle_rate("auth_account", "2/hour")
    body = {"uid": "MQ", "token": "guess", "new_password": "a-long-enough-passphrase"}
    client = APIClient()
    api = [
        client.post("/api/auth/password-reset/confirm/", body, format="json", REMOTE_ADDR=f"198.51.100.{i}").status_code
        for i in range(3)
    ]
    assert api == [400, 400, 429]
    page = Client().post(
        "/accounts/reset/MQ/guess/",
        {"new_password": "a-long-enough-passphrase", "new_password_again": "a-long-enough-passphrase"},
        REMOTE_ADDR="198.51.100.77",
    )
    assert page.status_code == 429  # the same account's count


# --- HTTP Basic -------------------------------------------------------------------


@pytest.mark.django_db
def test_http_basic_is_off_outside_debug(api_client) -> None:
    user = UserFactory()
    basic = base64.b64encode(f"{user.username}:{PASSWORD}".encode()).decode()
    assert api_client.get("/api/me/", HTTP_AUTHORIZATION=f"Basic {basic}").status_code == 401
