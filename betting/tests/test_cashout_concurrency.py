"""Cash-out against PostgreSQL with real threads: one quote accepted by many requests at once
pays once, and an acceptance racing the settlement of the bet's match ends with one of the two.
In play, parallel acceptances of one bet leave one pending, and its decision racing another,
the match's settlement or a goal pays at most once."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.management import call_command
from rest_framework.test import APIClient

from betting.cashout import cashout_accept, cashout_quote
from betting.cashout_delay import cashout_decide
from betting.errors import CashoutPending, MarketSuspended
from betting.models import Bet, BetStatus, CashoutQuote, LedgerEntry, LedgerKind, Match, MatchStatus
from betting.placement import bet_place
from betting.settlement import match_transition
from betting.tests.factories import MatchFactory, UserFactory, settle
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


# --- In play: acceptances through the bet delay ------------------------------------------


def in_play_bets(count: int, monkeypatch) -> tuple[list, object, list[Bet]]:
    """`count` bettors with a pre-match single each on one match, which then goes in play (its
    decision tasks not sent: the tests decide themselves, at the end of the delay)."""
    monkeypatch.setattr("betting.jobs.cashout_decide_enqueue", lambda **kwargs: None)
    users, match = [UserFactory() for _ in range(count)], MatchFactory()
    bets = [
        bet_place(user=u, match_id=match.pk, selection="home", stake=Decimal("10.00"), accept_odds_change="any")
        for u in users
    ]
    Match.objects.filter(pk=match.pk).update(in_play=True)
    return users, match, bets


def pending_past_delay(user, bet: Bet) -> CashoutQuote:
    """An acceptance pending for the bet delay, moved into the past so its delay is over now."""
    quote = cashout_quote(user=user, bet_id=bet.pk)
    _, pending, _ = cashout_accept(user=user, bet_id=bet.pk, quote_id=str(quote.pk))
    assert pending.decide_at is not None and pending.requested_at is not None
    back = timedelta(seconds=settings.INPLAY_BET_DELAY_SECONDS + 1)
    CashoutQuote.objects.filter(pk=quote.pk).update(
        requested_at=pending.requested_at - back, decide_at=pending.decide_at - back
    )
    return CashoutQuote.objects.get(pk=quote.pk)


def test_parallel_in_play_acceptances_of_one_bet_leave_one_pending_and_one_decision_pays_once(monkeypatch) -> None:
    (user,), _, (bet,) = in_play_bets(1, monkeypatch)
    quotes = [cashout_quote(user=user, bet_id=bet.pk) for _ in range(3)]
    codes: list[str] = []

    def accept(quote_id: str):
        def work() -> None:
            try:
                cashout_accept(user=user, bet_id=bet.pk, quote_id=quote_id)
                codes.append("pending")
            except CashoutPending as exc:
                codes.append(exc.code)

        return work

    # Two requests of each of three quotes: one quote wins the bet (its two requests both
    # answer pending), the other four are refused `cashout_pending`.
    race([accept(str(q.pk)) for q in quotes for _ in range(2)])
    assert sorted(codes) == ["cashout_pending"] * 4 + ["pending"] * 2
    (waiting,) = CashoutQuote.objects.filter(bet=bet, decide_at__isnull=False)
    assert waiting.decide_at is not None
    race([lambda: cashout_decide(quote_id=str(waiting.pk), now=waiting.decide_at)] * 4)
    assert Bet.objects.get(pk=bet.pk).status == BetStatus.CASHED_OUT
    assert LedgerEntry.objects.filter(bet=bet, kind=LedgerKind.CASHOUT).count() == 1
    call_command("audit_ledger")


def test_in_play_decisions_racing_the_settlement_of_the_match_pay_each_bet_once(monkeypatch) -> None:
    """Each decision takes the match row lock first, as settlement does: a bet is either cashed
    out (and settlement leaves it) or settled (and the decision refuses), never both."""
    users, match, bets = in_play_bets(6, monkeypatch)
    quotes = [pending_past_delay(u, b) for u, b in zip(users, bets, strict=True)]
    race([lambda: settle(match, "away"), *(lambda q=q: cashout_decide(quote_id=str(q.pk)) for q in quotes)])
    for bet, quote in zip(Bet.objects.filter(pk__in=[b.pk for b in bets]).order_by("pk"), quotes, strict=True):
        quote.refresh_from_db()
        cashouts = LedgerEntry.objects.filter(bet=bet, kind=LedgerKind.CASHOUT).count()
        if bet.status == BetStatus.CASHED_OUT:
            assert (quote.reason, bet.payout, cashouts) == ("", quote.amount, 1)
        else:
            assert bet.status == BetStatus.LOST and quote.reason in ("market_closed", "bet_not_open")
            assert cashouts == 0
    call_command("audit_ledger")


def test_in_play_decisions_racing_a_goal_either_cash_out_or_are_refused_market_suspended(monkeypatch) -> None:
    users, match, bets = in_play_bets(6, monkeypatch)
    quotes = [pending_past_delay(u, b) for u, b in zip(users, bets, strict=True)]
    goal = lambda: match_transition(match_id=match.pk, status=MatchStatus.SUSPENDED, reason="goal")  # noqa: E731
    race([goal, *(lambda q=q: cashout_decide(quote_id=str(q.pk)) for q in quotes)])
    for bet, quote in zip(Bet.objects.filter(pk__in=[b.pk for b in bets]).order_by("pk"), quotes, strict=True):
        quote.refresh_from_db()
        cashouts = LedgerEntry.objects.filter(bet=bet, kind=LedgerKind.CASHOUT).count()
        if bet.status == BetStatus.CASHED_OUT:
            assert (quote.reason, cashouts) == ("", 1)
        else:
            assert (bet.status, quote.reason, cashouts) == (BetStatus.OPEN, "market_suspended", 0)
    call_command("audit_ledger")
