"""Deposits and withdrawals through the API: the instant provider, a provider that goes
pending and calls back, declines and outages, bad input and replays. Nothing changes on a
refusal; the ledger audit stays clean throughout."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from betting.models import LedgerEntry, LedgerKind, Wallet, WalletHold
from betting.selectors import ledger_audit
from betting.tests.factories import MatchFactory, UserFactory, new_bet_key
from payments.models import Payment, PaymentStatus
from payments.tests.doubles import callback_body, post_callback, signed_headers

pytestmark = pytest.mark.django_db


def wallet_of(user) -> Wallet:
    return Wallet.objects.get(user=user)


def snapshot(user) -> tuple:
    wallet = wallet_of(user)
    return wallet.balance, wallet.held, LedgerEntry.objects.filter(wallet=wallet).count(), Payment.objects.count()


@pytest.fixture
def bettor():
    return UserFactory(wallet=Decimal("100.00"))


@pytest.fixture
def client(bettor) -> APIClient:
    client = APIClient()
    client.force_authenticate(bettor)
    return client


def test_an_instant_deposit_is_one_ledger_credit(client, bettor) -> None:
    reply = client.post("/api/wallet/deposits/", {"amount": "50.00"})
    assert reply.status_code == 201, reply.json()
    assert reply.json()["status"] == "completed"
    assert reply.json()["amount"] == "50.00"
    entry = LedgerEntry.objects.filter(wallet__user=bettor).first()
    assert (entry.kind, entry.amount, entry.balance_after) == (LedgerKind.DEPOSIT, Decimal("50.00"), Decimal("150.00"))
    assert Payment.objects.get().ledger_entry == entry
    assert ledger_audit() == []


def test_an_instant_withdrawal_is_one_ledger_debit_and_leaves_nothing_held(client, bettor) -> None:
    reply = client.post("/api/wallet/withdrawals/", {"amount": "40.00"})
    assert reply.status_code == 201, reply.json()
    wallet = wallet_of(bettor)
    assert (wallet.balance, wallet.held) == (Decimal("60.00"), Decimal("0.00"))
    entry = LedgerEntry.objects.filter(wallet=wallet).first()
    assert (entry.kind, entry.amount) == (LedgerKind.WITHDRAWAL, Decimal("-40.00"))
    assert WalletHold.objects.get().ledger_entry == entry
    assert client.get("/api/wallet/").json() | {"updated_at": None} == {
        "balance": "60.00",
        "held": "0.00",
        "available": "60.00",
        "updated_at": None,
    }
    assert ledger_audit() == []


def test_a_withdrawal_above_the_available_money_is_refused_and_changes_nothing(client, bettor) -> None:
    before = snapshot(bettor)
    reply = client.post("/api/wallet/withdrawals/", {"amount": "100.01"})
    assert reply.status_code == 409
    assert reply.json()["code"] == "insufficient_funds"
    assert reply.json()["available"] == "100.00"
    assert snapshot(bettor) == before


@pytest.mark.parametrize("path", ["/api/wallet/deposits/", "/api/wallet/withdrawals/"])
@pytest.mark.parametrize(
    "amount",
    [
        "-5.00",
        "0",
        "0.00",
        "0.50",
        "0.001",
        "1e3",
        "NaN",
        "Infinity",
        "",
        " 5",
        "5,00",
        "abc",
        10,
        10.5,
        None,
        [],
        {},
        True,
        "10000.01",
        "99999999999999999999.00",
        "1" * 400,
    ],
)
def test_a_bad_amount_is_a_400_naming_it_and_changes_nothing(client, bettor, path, amount) -> None:
    before = snapshot(bettor)
    reply = client.post(path, {"amount": amount})
    assert reply.status_code == 400, reply.json()
    assert "amount" in reply.json()["errors"]
    assert snapshot(bettor) == before


@pytest.mark.parametrize("body", [{}, {"amount": "10.00", "provider": "nobody"}, {"amount": "10.00", "provider": 7}])
def test_a_missing_amount_or_unknown_provider_is_a_400(client, bettor, body) -> None:
    before = snapshot(bettor)
    reply = client.post("/api/wallet/deposits/", body)
    assert reply.status_code == 400, reply.json()
    assert snapshot(bettor) == before


def test_malformed_json_is_a_400_and_changes_nothing(client, bettor) -> None:
    before = snapshot(bettor)
    reply = client.post("/api/wallet/deposits/", data="{amount:", content_type="application/json")
    assert reply.status_code == 400
    assert reply.json()["code"] == "malformed"
    assert snapshot(bettor) == before


def test_payments_need_a_bettor(api_client) -> None:
    assert api_client.post("/api/wallet/deposits/", {"amount": "10.00"}).status_code == 401
    assert api_client.post("/api/wallet/withdrawals/", {"amount": "10.00"}).status_code == 401


def test_a_pending_deposit_is_credited_by_its_callback_once_however_often_delivered(client, bettor) -> None:
    reply = client.post("/api/wallet/deposits/", {"amount": "25.00", "provider": "psp"})
    assert reply.status_code == 202
    assert reply.json()["status"] == "pending"
    assert wallet_of(bettor).balance == Decimal("100.00")  # nothing credited before the provider confirms
    payment = Payment.objects.get()

    provider = APIClient()  # the provider: no bettor credentials
    first = post_callback(provider, payment, "completed")
    assert first.status_code == 200, first.json()
    assert first.json() == {"reference": str(payment.reference), "status": "completed", "applied": True}
    for _ in range(3):
        again = post_callback(provider, payment, "completed")
        assert again.status_code == 200
        assert again.json()["applied"] is False
    assert wallet_of(bettor).balance == Decimal("125.00")
    assert LedgerEntry.objects.filter(wallet__user=bettor, kind=LedgerKind.DEPOSIT).count() == 1
    assert client.get("/api/wallet/payments/").json()["results"][0]["status"] == "completed"
    assert ledger_audit() == []


def test_a_pending_withdrawal_holds_its_amount_from_bets_and_other_withdrawals(client, bettor) -> None:
    match = MatchFactory()
    assert client.post("/api/wallet/withdrawals/", {"amount": "70.00", "provider": "psp"}).status_code == 202
    wallet = wallet_of(bettor)
    assert (wallet.balance, wallet.held, wallet.available) == (Decimal("100.00"), Decimal("70.00"), Decimal("30.00"))

    bet = {"match": match.pk, "selection": "home", "stake": "30.01", "accept_odds_change": "any"}
    refused = client.post("/api/bets/", bet, **new_bet_key())
    assert refused.status_code == 409
    assert refused.json()["code"] == "insufficient_funds"
    assert client.post("/api/wallet/withdrawals/", {"amount": "30.01"}).json()["code"] == "insufficient_funds"
    assert (
        client.post("/api/bets/", {**bet, "stake": "30.00"}, **new_bet_key()).status_code == 201
    )  # the rest is free to bet
    assert wallet_of(bettor).available == Decimal("0.00")

    payment = Payment.objects.get(provider="psp")
    assert post_callback(APIClient(), payment, "completed").status_code == 200
    wallet = wallet_of(bettor)
    assert (wallet.balance, wallet.held) == (Decimal("0.00"), Decimal("0.00"))
    assert ledger_audit() == []


def test_a_failed_withdrawal_releases_its_hold_with_no_ledger_entry(client, bettor) -> None:
    client.post("/api/wallet/withdrawals/", {"amount": "70.00", "provider": "psp"})
    payment = Payment.objects.get()
    entries = LedgerEntry.objects.count()
    reply = post_callback(APIClient(), payment, "failed", reason="bank refused")
    assert reply.json() == {"reference": str(payment.reference), "status": "failed", "applied": True}
    wallet = wallet_of(bettor)
    assert (wallet.balance, wallet.held) == (Decimal("100.00"), Decimal("0.00"))
    assert LedgerEntry.objects.count() == entries
    payment.refresh_from_db()
    assert payment.failure_reason == "bank refused"
    assert ledger_audit() == []


def test_a_callback_that_contradicts_a_settled_payment_is_a_409_and_changes_nothing(client, bettor) -> None:
    client.post("/api/wallet/deposits/", {"amount": "25.00", "provider": "psp"})
    payment = Payment.objects.get()
    post_callback(APIClient(), payment, "completed")
    before = snapshot(bettor)
    reply = post_callback(APIClient(), payment, "failed")
    assert reply.status_code == 409
    assert reply.json()["code"] == "payment_already_settled"
    assert snapshot(bettor) == before


def test_a_callback_with_another_amount_is_a_409_and_credits_nothing(client, bettor) -> None:
    client.post("/api/wallet/deposits/", {"amount": "25.00", "provider": "psp"})
    before = snapshot(bettor)
    reply = post_callback(APIClient(), Payment.objects.get(), "completed", amount="2500.00")
    assert reply.status_code == 409
    assert reply.json()["code"] == "amount_mismatch"
    assert snapshot(bettor) == before
    assert Payment.objects.get().status == PaymentStatus.PENDING


def test_a_callback_naming_no_payment_is_a_404(bettor) -> None:
    body = b'{"reference": "5b7c8c1e-0000-4000-8000-000000000000", "provider_reference": "x", "status": "completed"}'
    reply = APIClient().post(
        "/api/payments/callbacks/psp/", data=body, content_type="application/json", **signed_headers(body)
    )
    assert reply.status_code == 404
    assert (
        APIClient().post("/api/payments/callbacks/nobody/", data=body, content_type="application/json").status_code
        == 404
    )


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_ODDSTREAM_SIGNATURE": "garbage"},
        {"HTTP_ODDSTREAM_SIGNATURE": "t=1,v1=00"},
        "wrong secret",
        "too old",
    ],
)
def test_a_callback_without_the_providers_signature_is_a_403_and_changes_nothing(client, bettor, headers) -> None:
    client.post("/api/wallet/deposits/", {"amount": "25.00", "provider": "psp"})
    payment = Payment.objects.get()
    body = callback_body(payment, "completed")
    if headers == "wrong secret":
        headers = signed_headers(body, secret="not-the-secret")
    elif headers == "too old":
        import time

        headers = signed_headers(body, timestamp=int(time.time()) - 3600)
    before = snapshot(bettor)
    reply = client.post("/api/payments/callbacks/psp/", data=body, content_type="application/json", **headers)
    assert reply.status_code == 403
    assert reply.json()["code"] == "invalid_signature"
    assert snapshot(bettor) == before


def test_a_signed_body_altered_in_transit_is_refused(client, bettor) -> None:
    client.post("/api/wallet/deposits/", {"amount": "25.00", "provider": "psp"})
    payment = Payment.objects.get()
    headers = signed_headers(callback_body(payment, "failed"))
    reply = client.post(
        "/api/payments/callbacks/psp/",
        data=callback_body(payment, "completed"),
        content_type="application/json",
        **headers,
    )
    assert reply.status_code == 403
    assert Payment.objects.get().status == PaymentStatus.PENDING


@pytest.mark.parametrize(
    "body", [b"not json", b"[]", b'{"status": "completed"}', b'{"reference": "x", "status": "maybe"}']
)
def test_a_signed_but_malformed_callback_is_a_400(bettor, body) -> None:
    reply = APIClient().post(
        "/api/payments/callbacks/psp/", data=body, content_type="application/json", **signed_headers(body)
    )
    assert reply.status_code == 400
    assert reply.json()["code"] == "malformed"


def test_the_instant_provider_takes_no_callbacks(client, bettor) -> None:
    client.post("/api/wallet/deposits/", {"amount": "25.00"})
    body = callback_body(Payment.objects.get(), "failed")
    reply = APIClient().post(
        "/api/payments/callbacks/instant/", data=body, content_type="application/json", **signed_headers(body)
    )
    assert reply.status_code == 403


def test_a_declined_deposit_is_a_402_moves_nothing_and_frees_its_key(client, bettor) -> None:
    before = wallet_of(bettor).balance
    reply = client.post(
        "/api/wallet/deposits/", {"amount": "25.00", "provider": "declining"}, HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert reply.status_code == 402
    assert reply.json()["code"] == "payment_declined"
    assert reply.json()["reason"] == "card declined"
    assert wallet_of(bettor).balance == before
    assert Payment.objects.get().status == PaymentStatus.FAILED
    retried = client.post(
        "/api/wallet/deposits/", {"amount": "25.00", "provider": "declining"}, HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert retried.status_code == 402  # judged afresh, not replayed
    assert Payment.objects.count() == 2


def test_a_declined_withdrawal_releases_its_hold(client, bettor) -> None:
    assert client.post("/api/wallet/withdrawals/", {"amount": "25.00", "provider": "declining"}).status_code == 402
    wallet = wallet_of(bettor)
    assert (wallet.balance, wallet.held) == (Decimal("100.00"), Decimal("0.00"))
    assert ledger_audit() == []


@pytest.mark.parametrize("path", ["/api/wallet/deposits/", "/api/wallet/withdrawals/"])
def test_an_unreachable_provider_is_a_503_with_retry_after_and_moves_nothing(client, bettor, path) -> None:
    reply = client.post(path, {"amount": "25.00", "provider": "unreachable"})
    assert reply.status_code == 503
    assert reply["Retry-After"]
    assert reply.json()["code"] == "service_unavailable"
    wallet = wallet_of(bettor)
    assert (wallet.balance, wallet.held) == (Decimal("100.00"), Decimal("0.00"))
    assert Payment.objects.get().status == PaymentStatus.FAILED
    assert ledger_audit() == []


def test_an_idempotency_key_replays_the_payment_and_moves_money_once(client, bettor) -> None:
    first = client.post("/api/wallet/deposits/", {"amount": "25.00"}, HTTP_IDEMPOTENCY_KEY="deposit-1")
    again = client.post("/api/wallet/deposits/", {"amount": "25.00"}, HTTP_IDEMPOTENCY_KEY="deposit-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert wallet_of(bettor).balance == Decimal("125.00")
    other = client.post("/api/wallet/deposits/", {"amount": "30.00"}, HTTP_IDEMPOTENCY_KEY="deposit-1")
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert client.post("/api/wallet/deposits/", {"amount": "1.00"}, HTTP_IDEMPOTENCY_KEY="").status_code == 400
    assert wallet_of(bettor).balance == Decimal("125.00")


def test_a_callback_faster_than_the_request_settles_it_and_the_request_reports_it(client, bettor, monkeypatch) -> None:
    """The provider calls back before its own answer reaches us: the request's step 3 finds
    the payment completed and leaves it so (credited once)."""
    from payments.providers.base import ProviderOutcome
    from payments.services import payment_callback_apply
    from payments.tests.doubles import PendingThenCallbackProvider

    def start_and_call_back(self, payment):
        from payments.providers.base import CallbackNotice

        payment_callback_apply(
            provider=self.name,
            notice=CallbackNotice(reference=str(payment.reference), provider_reference="psp-fast", status="completed"),
        )
        return ProviderOutcome(status="pending", provider_reference="psp-fast")

    monkeypatch.setattr(PendingThenCallbackProvider, "deposit_start", start_and_call_back)
    reply = client.post("/api/wallet/deposits/", {"amount": "25.00", "provider": "psp"})
    assert reply.status_code == 201
    assert reply.json()["status"] == "completed"
    assert wallet_of(bettor).balance == Decimal("125.00")
    assert ledger_audit() == []


def test_the_admin_shows_payments_read_only(admin_client, client, bettor) -> None:
    client.post("/api/wallet/deposits/", {"amount": "25.00"})
    assert admin_client.get("/admin/payments/payment/").status_code == 200
    payment = Payment.objects.get()
    assert admin_client.get(f"/admin/payments/payment/{payment.pk}/change/").status_code == 200
    assert admin_client.get("/admin/payments/payment/add/").status_code == 403
