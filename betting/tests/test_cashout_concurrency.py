"""Cash-out against PostgreSQL with real threads: one quote accepted by many requests at once
pays once, and an acceptance racing the settlement of the bet's match ends with one of the two."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from betting.cashout import cashout_accept, cashout_quote
from betting.errors import MarketSuspended
from betting.models import Bet, BetStatus, LedgerEntry, LedgerKind, MatchStatus
from betting.placement import bet_place
from betting.settlement import match_transition
from betting.tests.factories import MatchFactory, UserFactory
from betting.tests.test_accumulator_concurrency import race

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres(reason="SQLite serialises every write transaction, so threads never race."),
]


def test_one_quote_accepted_by_eight_requests_at_once_pays_once() -> None:
    user, match = UserFactory(), MatchFactory()
    bet = bet_place(user=user, match_id=match.pk, selection="home", stake=Decimal("10.00"), accept_odds_change="any")
    quote = cashout_quote(user=user, bet_id=bet.pk)
    statuses: list[tuple[int, str]] = []

    def accept() -> None:
        client = APIClient()
        client.force_authenticate(user)
        reply = client.post(f"/api/bets/{bet.pk}/cashout/", {"quote": str(quote.pk)}, format="json")
        statuses.append((reply.status_code, reply.json()["status"]))

    race([accept] * 8)
    assert statuses == [(200, "cashed_out")] * 8
    assert LedgerEntry.objects.filter(bet=bet, kind=LedgerKind.CASHOUT).count() == 1
    assert Bet.objects.get(pk=bet.pk).payout == quote.amount
    call_command("audit_ledger")


def test_acceptances_racing_a_suspension_either_cash_out_or_leave_the_bet_open() -> None:
    """The acceptance takes the match row lock first (settlement's order): a suspension either
    comes before it (refused) or after it (cashed out); never a half of each, never a deadlock."""
    users, match = [UserFactory() for _ in range(6)], MatchFactory()
    bets = [
        bet_place(user=u, match_id=match.pk, selection="home", stake=Decimal("10.00"), accept_odds_change="any")
        for u in users
    ]
    quotes = [cashout_quote(user=u, bet_id=b.pk) for u, b in zip(users, bets, strict=True)]
    refused: list[str] = []

    def accept(index: int):
        def work() -> None:
            try:
                cashout_accept(user=users[index], bet_id=bets[index].pk, quote_id=str(quotes[index].pk))
            except MarketSuspended as exc:
                refused.append(exc.code)

        return work

    race([lambda: match_transition(match_id=match.pk, status=MatchStatus.SUSPENDED), *(accept(i) for i in range(6))])
    cashed = 0
    for bet, quote in zip(Bet.objects.filter(pk__in=[b.pk for b in bets]).order_by("pk"), quotes, strict=True):
        entries = LedgerEntry.objects.filter(bet=bet, kind=LedgerKind.CASHOUT)
        if bet.status == BetStatus.CASHED_OUT:
            cashed += 1
            assert bet.payout == quote.amount and entries.count() == 1
        else:
            assert bet.status == BetStatus.OPEN and not entries.exists()
    assert cashed + len(refused) == 6
    call_command("audit_ledger")
