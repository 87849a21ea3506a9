"""Concurrency against PostgreSQL with real threads: the wallet is never overdrawn."""

import threading
import time
from collections import Counter
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connections
from rest_framework.test import APIClient

from betting.models import Bet, LedgerEntry, Wallet
from betting.tests.factories import MatchFactory, UserFactory, new_bet_key

REQUESTS = 50
AFFORDABLE = 10
STAKE = Decimal("10.00")


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres(reason="SQLite serialises every write transaction, so threads never race.")
def test_fifty_simultaneous_bets_on_a_balance_for_ten_accept_exactly_ten(capsys) -> None:
    user = UserFactory(wallet=STAKE * AFFORDABLE)
    match = MatchFactory()
    barrier = threading.Barrier(REQUESTS)
    replies: list[tuple[int, str]] = []
    lock = threading.Lock()

    def send_bet(index: int) -> None:
        client = APIClient()
        client.force_authenticate(user)
        try:
            barrier.wait(timeout=30)
            reply = client.post(
                "/api/bets/",
                {
                    "match": match.pk,
                    "selection": ("home", "draw", "away")[index % 3],
                    "stake": str(STAKE),
                    "accept_odds_change": "any",
                },
                format="json",
                **new_bet_key(),
            )
            with lock:
                replies.append((reply.status_code, reply.json().get("code", "")))
        finally:
            connections.close_all()  # a thread's connection would otherwise block the database's flush

    threads = [threading.Thread(target=send_bet, args=(index,)) for index in range(REQUESTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    elapsed = time.perf_counter() - started

    outcomes = Counter(replies)
    assert len(replies) == REQUESTS
    assert outcomes == {(201, ""): AFFORDABLE, (409, "insufficient_funds"): REQUESTS - AFFORDABLE}
    assert Bet.objects.filter(user_id=user.pk).count() == AFFORDABLE
    assert Wallet.objects.get(user_id=user.pk).balance == Decimal("0.00")
    assert min(LedgerEntry.objects.filter(wallet__user_id=user.pk).values_list("balance_after", flat=True)) >= 0
    call_command("audit_ledger")
    with capsys.disabled():
        print(
            f"\nconcurrency: {REQUESTS} simultaneous bets of {STAKE} on a balance of {STAKE * AFFORDABLE}: "
            f"{outcomes[(201, '')]} accepted, {outcomes[(409, 'insufficient_funds')]} refused (insufficient_funds), "
            f"final balance {Wallet.objects.get(user_id=user.pk).balance}, {elapsed:.2f} s"
        )


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres(reason="SQLite serialises every write transaction, so threads never race.")
def test_one_idempotency_key_sent_by_many_threads_at_once_places_one_bet() -> None:
    user = UserFactory()
    match = MatchFactory()
    senders = 8
    barrier = threading.Barrier(senders)
    bodies: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def send_bet() -> None:
        client = APIClient()
        client.force_authenticate(user)
        try:
            barrier.wait(timeout=30)
            reply = client.post(
                "/api/bets/",
                {"match": match.pk, "selection": "home", "stake": "10.00", "accept_odds_change": "any"},
                format="json",
                HTTP_IDEMPOTENCY_KEY="same-click-many-times",
            )
            with lock:
                bodies.append((reply.status_code, reply.json()))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send_bet) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(bodies) == senders
    assert {status for status, _ in bodies} == {201}
    assert len({body["id"] for _, body in bodies}) == 1
    assert Bet.objects.filter(user_id=user.pk).count() == 1
    assert Wallet.objects.get(user_id=user.pk).balance == Decimal("990.00")


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres(reason="SQLite serialises every write transaction, so threads never race.")
def test_a_bet_does_not_wait_for_the_engine(monkeypatch) -> None:
    """The recompute prices without the match row lock: a bet on the same match commits while
    the engine is still working (held here until the bet is done, or 10 s)."""
    from betting import placement, pricing
    from betting.engine.book import price_markets

    user = UserFactory(wallet=Decimal("100.00"))
    match = MatchFactory()
    monkeypatch.setattr(placement, "odds_recompute_request", lambda **kwargs: None)  # this test recomputes
    placement.bet_place(user=user, match_id=match.pk, selection="home", stake=Decimal("5.00"), accept_odds_change="any")
    engine_working, bet_done = threading.Event(), threading.Event()
    order: list[str] = []

    def slow_engine(*args, **kwargs):
        engine_working.set()
        bet_done.wait(timeout=10)
        order.append("engine done")
        return price_markets(*args, **kwargs)

    monkeypatch.setattr(pricing, "price_markets", slow_engine)

    def recompute() -> None:
        try:
            pricing.match_odds_recompute(match_id=match.pk)
        finally:
            connections.close_all()

    thread = threading.Thread(target=recompute)
    thread.start()
    assert engine_working.wait(timeout=10)
    placement.bet_place(user=user, match_id=match.pk, selection="away", stake=Decimal("5.00"), accept_odds_change="any")
    order.append("bet committed")
    bet_done.set()
    thread.join(timeout=30)
    assert order == ["bet committed", "engine done"]
    match.refresh_from_db()
    assert (match.bets_counted, match.bet_sequence) == (1, 2)  # the second bet waits for the next recompute
