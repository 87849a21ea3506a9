"""Limits under real concurrency, against PostgreSQL with real threads: deposits or bets sent
at once cannot pass a limit that one of them reaches."""

from collections import Counter
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from betting.models import Bet, Wallet
from betting.selectors import ledger_audit
from betting.tests.factories import MatchFactory, UserFactory, new_bet_key
from payments.models import Payment
from payments.tests.test_concurrency import at_once
from safergambling.services import limit_set

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres(reason="SQLite serialises every write transaction, so threads never race."),
]


def bettor_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_ten_deposits_at_once_cannot_pass_a_deposit_limit() -> None:
    user = UserFactory(wallet=Decimal("0.00"))
    limit_set(user=user, kind="deposit", period="day", amount=Decimal("100.00"), actor=user)

    def deposit(_index: int) -> tuple[int, str]:
        reply = bettor_client(user).post("/api/wallet/deposits/", {"amount": "30.00"})
        return reply.status_code, reply.json().get("code", "")

    outcomes = Counter(at_once(10, deposit))
    assert outcomes == {(201, ""): 3, (409, "deposit_limit_reached"): 7}
    assert Wallet.objects.get(user_id=user.pk).balance == Decimal("90.00")
    assert Payment.objects.count() == 3
    assert ledger_audit() == []


def test_ten_bets_at_once_cannot_pass_a_loss_limit() -> None:
    user = UserFactory(wallet=Decimal("1000.00"))
    limit_set(user=user, kind="loss", period="week", amount=Decimal("100.00"), actor=user)
    matches = [MatchFactory() for _ in range(2)]  # two match locks: only the wallet lock serialises them

    def place(index: int) -> tuple[int, str]:
        body = {"match": matches[index % 2].pk, "selection": "home", "stake": "30.00", "accept_odds_change": "any"}
        reply = bettor_client(user).post("/api/bets/", body, **new_bet_key())
        return reply.status_code, reply.json().get("code", "")

    outcomes = Counter(at_once(10, place))
    assert outcomes == {(201, ""): 3, (409, "loss_limit_reached"): 7}
    assert Bet.objects.filter(user_id=user.pk).count() == 3
    assert Wallet.objects.get(user_id=user.pk).balance == Decimal("910.00")
    assert ledger_audit() == []
