"""Accumulators against PostgreSQL with real threads: parallel accumulators never overdraw the
wallet, and two matches settling legs of the same accumulators at once pay each one once."""

import threading
from collections import Counter
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connections
from rest_framework.test import APIClient

from betting.accumulators import LegRequest, accumulator_place
from betting.models import Bet, BetStatus, LedgerEntry, LedgerKind, MatchStatus, Wallet
from betting.settlement import match_bets_settle, match_transition
from betting.tests.factories import MatchFactory, UserFactory, new_bet_key

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres(reason="SQLite serialises every write transaction, so threads never race."),
]


def race(workers: list[Callable[[], object]]) -> None:
    """Run the workers in threads released together, each closing its connection."""
    barrier = threading.Barrier(len(workers))

    def run(work: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=30)
            work()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(work,)) for work in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)


def test_parallel_accumulators_on_a_balance_for_five_accept_exactly_five() -> None:
    user = UserFactory(wallet=Decimal("50.00"))
    matches = [MatchFactory() for _ in range(3)]
    replies: list[tuple[int, str]] = []
    lock = threading.Lock()

    def send(index: int) -> Callable[[], None]:
        def work() -> None:
            client = APIClient()
            client.force_authenticate(user)
            # Legs over the three matches in varying order: the match rows are locked in id order.
            legs = [{"match": m.pk, "selection": "home"} for m in (matches[index % 3 :] + matches[: index % 3])]
            body = {"legs": legs, "stake": "10.00", "accept_odds_change": "any"}
            reply = client.post("/api/bets/", body, format="json", **new_bet_key())
            with lock:
                replies.append((reply.status_code, reply.json().get("code", "")))

        return work

    race([send(index) for index in range(20)])
    assert Counter(replies) == {(201, ""): 5, (409, "insufficient_funds"): 15}
    assert Bet.objects.filter(user_id=user.pk).count() == 5
    assert Wallet.objects.get(user_id=user.pk).balance == Decimal("0.00")
    call_command("audit_ledger")


def test_two_matches_settling_legs_of_the_same_accumulators_pay_each_once(monkeypatch) -> None:
    from betting import settlement

    monkeypatch.setattr(settlement, "settlement_request", lambda **kwargs: None)  # this test settles
    first, second = MatchFactory(), MatchFactory()
    users = [UserFactory() for _ in range(10)]
    legs = [LegRequest(first.pk, "1x2", "home"), LegRequest(second.pk, "1x2", "home")]
    bets = [accumulator_place(user=u, legs=legs, stake=Decimal("10.00"), accept_odds_change="any") for u in users]
    for match in (first, second):
        match_transition(match_id=match.pk, status=MatchStatus.CLOSED)
        match_transition(match_id=match.pk, status=MatchStatus.SETTLED, score=(2, 0))
    # Each match's settlement sees the other's leg still open unless the accumulator row lock
    # serialises them: both run at once, and each accumulator must be paid exactly once.
    race([lambda: match_bets_settle(match_id=first.pk), lambda: match_bets_settle(match_id=second.pk)])
    for bet in Bet.objects.filter(pk__in=[b.pk for b in bets]):
        assert (bet.status, bet.payout) == (BetStatus.WON, Decimal("10.00") * bet.odds)
        assert LedgerEntry.objects.filter(bet=bet, kind=LedgerKind.PAYOUT).count() == 1
    call_command("audit_ledger")
