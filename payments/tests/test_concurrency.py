"""Money paths of payments under real concurrency, against PostgreSQL with real threads:
duplicate callbacks, withdrawals racing bets, one Idempotency-Key sent many times at once."""

import threading
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from betting.models import Bet, LedgerEntry, LedgerKind, Wallet
from betting.selectors import ledger_audit
from betting.tests.factories import MatchFactory, UserFactory, new_bet_key
from payments.models import Payment
from payments.tests.doubles import post_callback

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres(reason="SQLite serialises every write transaction, so threads never race."),
]


def at_once(count: int, action: Callable[[int], Any]) -> list[Any]:
    """Run `action(i)` in `count` threads released together; their results, in any order."""
    if connection.vendor != "postgresql":
        pytest.skip("Needs PostgreSQL: SQLite serialises every write transaction, so threads never race.")
    barrier = threading.Barrier(count)
    results: list[Any] = []
    lock = threading.Lock()

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            result = action(index)
            with lock:
                results.append(result)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(results) == count
    return results


def bettor_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_one_callback_delivered_eight_times_at_once_credits_once() -> None:
    user = UserFactory(wallet=Decimal("0.00"))
    assert bettor_client(user).post("/api/wallet/deposits/", {"amount": "40.00", "provider": "psp"}).status_code == 202
    payment = Payment.objects.get()

    replies = at_once(8, lambda _i: post_callback(APIClient(), payment, "completed").json()["applied"])
    assert Counter(replies) == {True: 1, False: 7}
    assert Wallet.objects.get(user_id=user.pk).balance == Decimal("40.00")
    assert LedgerEntry.objects.filter(kind=LedgerKind.DEPOSIT).count() == 1
    assert ledger_audit() == []


def test_withdrawals_racing_bets_never_take_more_than_the_balance() -> None:
    """Ten withdrawals and ten bets of 30 each, all at once, on a balance of 100: at most
    three succeed in all, the balance never goes negative, and the books agree."""
    user = UserFactory(wallet=Decimal("100.00"))
    match = MatchFactory()
    bet = {"match": match.pk, "selection": "home", "stake": "30.00", "accept_odds_change": "any"}

    def spend(index: int) -> tuple[str, int]:
        client = bettor_client(user)
        if index % 2:
            return "bet", client.post("/api/bets/", bet, **new_bet_key()).status_code
        return "withdrawal", client.post("/api/wallet/withdrawals/", {"amount": "30.00"}).status_code

    outcomes = Counter(at_once(20, spend))
    accepted = outcomes[("bet", 201)] + outcomes[("withdrawal", 201)]
    assert accepted == 3, outcomes
    assert outcomes[("bet", 409)] + outcomes[("withdrawal", 409)] == 17
    wallet = Wallet.objects.get(user_id=user.pk)
    assert (wallet.balance, wallet.held) == (Decimal("10.00"), Decimal("0.00"))
    assert ledger_audit() == []


def test_pending_withdrawals_racing_bets_never_spend_held_money() -> None:
    user = UserFactory(wallet=Decimal("100.00"))
    match = MatchFactory()
    bet = {"match": match.pk, "selection": "draw", "stake": "30.00", "accept_odds_change": "any"}

    def spend(index: int) -> tuple[str, int]:
        client = bettor_client(user)
        if index % 2:
            return "bet", client.post("/api/bets/", bet, **new_bet_key()).status_code
        return "withdrawal", client.post("/api/wallet/withdrawals/", {"amount": "30.00", "provider": "psp"}).status_code

    outcomes = Counter(at_once(20, spend))
    withdrawals, bets = outcomes[("withdrawal", 202)], outcomes[("bet", 201)]
    assert withdrawals + bets == 3, outcomes
    wallet = Wallet.objects.get(user_id=user.pk)
    assert wallet.held == Decimal("30.00") * withdrawals
    assert wallet.balance == Decimal("100.00") - Decimal("30.00") * bets
    assert wallet.available == Decimal("10.00")
    assert Bet.objects.count() == bets
    for payment in Payment.objects.all():  # the provider confirms them all, twice each
        post_callback(APIClient(), payment, "completed")
        post_callback(APIClient(), payment, "completed")
    wallet.refresh_from_db()
    assert (wallet.balance, wallet.held) == (Decimal("10.00"), Decimal("0.00"))
    assert ledger_audit() == []


def test_one_idempotency_key_sent_by_eight_threads_at_once_makes_one_deposit() -> None:
    user = UserFactory(wallet=Decimal("0.00"))

    def deposit(_index: int) -> tuple[int, str]:
        reply = bettor_client(user).post("/api/wallet/deposits/", {"amount": "10.00"}, HTTP_IDEMPOTENCY_KEY="one-click")
        return reply.status_code, reply.json()["reference"]

    replies = at_once(8, deposit)
    # A replay shows the payment as it stands: pending (202) while the first request is still
    # waiting for the provider, completed (201) after.
    assert {status for status, _ in replies} <= {201, 202}
    assert len({reference for _, reference in replies}) == 1
    assert Payment.objects.count() == 1
    assert Wallet.objects.get(user_id=user.pk).balance == Decimal("10.00")
