"""Deposit and withdraw on /me/wallet/: the same service as the API, through the page's forms."""

import re
from decimal import Decimal

import pytest
from django.test import Client

from betting.models import Wallet
from betting.tests.factories import UserFactory
from payments.models import Payment

pytestmark = pytest.mark.django_db


@pytest.fixture
def bettor():
    return UserFactory(wallet=Decimal("100.00"))


@pytest.fixture
def page(bettor) -> Client:
    client = Client()
    client.force_login(bettor)
    return client


def form_key(html: str, form_id: str) -> str:
    form = html.split(f'id="{form_id}-form"', 1)[1]
    return re.search(r'name="idempotency_key" value="([0-9a-f]+)"', form).group(1)


def test_the_wallet_page_deposits_and_withdraws(page, bettor) -> None:
    html = page.get("/me/wallet/").content.decode()
    assert 'id="deposit-form"' in html and 'id="withdraw-form"' in html
    reply = page.post(
        "/me/wallet/", {"kind": "deposit", "amount": "25.00", "idempotency_key": form_key(html, "deposit")}
    )
    assert reply.status_code == 302
    followed = page.get("/me/wallet/").content.decode()
    assert "Your deposit of 25.00 is done." in followed
    assert Wallet.objects.get(user=bettor).balance == Decimal("125.00")

    reply = page.post(
        "/me/wallet/", {"kind": "withdrawal", "amount": "5.00", "idempotency_key": form_key(followed, "withdraw")}
    )
    assert reply.status_code == 302
    assert Wallet.objects.get(user=bettor).balance == Decimal("120.00")


def test_a_form_submitted_twice_pays_once(page, bettor) -> None:
    key = form_key(page.get("/me/wallet/").content.decode(), "deposit")
    for _ in range(2):
        page.post("/me/wallet/", {"kind": "deposit", "amount": "25.00", "idempotency_key": key})
    assert Payment.objects.count() == 1
    assert Wallet.objects.get(user=bettor).balance == Decimal("125.00")


@pytest.mark.parametrize("amount", ["-5", "0", "abc", "0.001", "10000.01", ""])
def test_a_bad_amount_on_the_page_is_a_400_with_the_form_and_moves_nothing(page, bettor, amount) -> None:
    reply = page.post("/me/wallet/", {"kind": "deposit", "amount": amount, "idempotency_key": "k"})
    assert reply.status_code == 400
    assert 'aria-invalid="true"' in reply.content.decode()
    assert Payment.objects.count() == 0
    assert Wallet.objects.get(user=bettor).balance == Decimal("100.00")


def test_a_withdrawal_above_the_balance_is_refused_on_the_page(page, bettor) -> None:
    reply = page.post("/me/wallet/", {"kind": "withdrawal", "amount": "100.01", "idempotency_key": "k"})
    assert reply.status_code == 409
    assert "more than the available 100.00" in reply.content.decode()
    assert Wallet.objects.get(user=bettor).balance == Decimal("100.00")


def test_an_unknown_form_is_a_400(page) -> None:
    assert page.post("/me/wallet/", {"kind": "gift", "amount": "5.00"}).status_code == 400


def test_an_unreachable_provider_on_the_page_is_a_503_with_retry_after(page, bettor, settings) -> None:
    settings.PAYMENT_DEFAULT_PROVIDER = "unreachable"
    reply = page.post("/me/wallet/", {"kind": "deposit", "amount": "5.00", "idempotency_key": "k"})
    assert reply.status_code == 503
    assert reply["Retry-After"]
    assert "nothing was paid" in reply.content.decode()
    assert Wallet.objects.get(user=bettor).balance == Decimal("100.00")


def test_a_pending_payment_is_listed_with_the_held_money(page, bettor, settings) -> None:
    settings.PAYMENT_DEFAULT_PROVIDER = "psp"
    page.post("/me/wallet/", {"kind": "withdrawal", "amount": "30.00", "idempotency_key": "k"})
    html = page.get("/me/wallet/").content.decode()
    assert "is pending" in html
    assert 'id="pending-payments"' in html
    assert '<span id="held">30.00</span>' in html
    assert '<strong id="available">70.00</strong>' in html
