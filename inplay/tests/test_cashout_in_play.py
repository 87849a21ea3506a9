"""Cash-out in play: the acceptance waits out the bet delay (202 pending, the stake with the bet),
then one decision re-prices it: accepted at the quoted amount, or refused with a code."""

from datetime import timedelta
from decimal import Decimal

import pytest

from betting import cashout_delay
from betting.models import Bet, BetStatus, CashoutQuote, LedgerEntry, LedgerKind, Market, Match, MatchStatus
from betting.placement import bet_place
from betting.selectors import ledger_audit
from betting.settlement import match_transition
from betting.tests.factories import balance_of
from inplay.tests.test_bet_delay import MATERIAL_EVENTS
from inplay.tests.test_metrics import scrape

pytestmark = pytest.mark.django_db


@pytest.fixture
def decisions(monkeypatch) -> list[tuple[str, float]]:
    """The decision tasks asked for, as (quote id, countdown), instead of running them: an eager
    task would ignore the countdown and run at once (and find the acceptance not yet due)."""
    asked: list[tuple[str, float]] = []
    monkeypatch.setattr(
        "betting.jobs.cashout_decide_enqueue", lambda *, quote_id, countdown: asked.append((quote_id, countdown))
    )
    return asked


@pytest.fixture
def bet(user, match) -> Bet:
    """A pre-match single of `user` on the home side, 10.00 at 2.10, before the match kicks off."""
    return bet_place(user=user, match_id=match.pk, selection="home", stake=Decimal("10.00"), accept_odds_change="any")


@pytest.fixture
def in_play(bet, feed, match, decisions) -> Match:
    feed.send("kick_off")
    match.refresh_from_db()
    assert match.in_play and match.status == MatchStatus.OPEN
    return match


def quote_of(client, bet: Bet) -> dict:
    reply = client.post(f"/api/bets/{bet.pk}/cashout/quote/", format="json")
    assert reply.status_code == 201, reply.content
    return reply.json()


def accept(client, bet: Bet, quote_id: str):
    return client.post(f"/api/bets/{bet.pk}/cashout/", {"quote": quote_id}, format="json")


def pending(client, bet: Bet, django_capture_on_commit_callbacks) -> CashoutQuote:
    offer = quote_of(client, bet)
    with django_capture_on_commit_callbacks(execute=True):
        reply = accept(client, bet, offer["quote"])
    assert reply.status_code == 202, reply.content
    return CashoutQuote.objects.get(pk=offer["quote"])


def decide_at_end(quote: CashoutQuote, late: float = 0.0) -> CashoutQuote:
    assert quote.decide_at is not None
    decided = cashout_delay.cashout_decide(quote_id=str(quote.pk), now=quote.decide_at + timedelta(seconds=late))
    assert decided is not None
    return decided


def set_home_probability(match: Match, probability: float) -> None:
    row = Market.objects.get(match=match, key="1x2")
    Market.objects.filter(pk=row.pk).update(probabilities={**row.probabilities, "home": probability})


def frames_of(published, kind: str) -> list[dict]:
    return [frame for _, frame, _ in published if frame["type"] == kind]


def test_an_in_play_cash_out_waits_the_delay_then_settles_once_at_the_quoted_amount(
    in_play, bet, user, user_client, published, decisions, django_capture_on_commit_callbacks, settings
) -> None:
    offer = quote_of(user_client, bet)
    with django_capture_on_commit_callbacks(execute=True):
        reply = accept(user_client, bet, offer["quote"])
    assert reply.status_code == 202, reply.content
    body = reply.json()
    assert (body["status"], body["reason"], body["amount"]) == ("pending", "", offer["amount"])
    quote = CashoutQuote.objects.get(pk=offer["quote"])
    assert quote.decide_at is not None and quote.requested_at is not None
    assert (quote.decide_at - quote.requested_at).total_seconds() == settings.INPLAY_BET_DELAY_SECONDS
    assert decisions == [(str(quote.pk), settings.INPLAY_BET_DELAY_SECONDS + 0.25)]
    # The stake stays with the bet until the decision: nothing moved.
    assert Bet.objects.get(pk=bet.pk).status == BetStatus.OPEN
    assert balance_of(user) == Decimal("990.00")
    assert not LedgerEntry.objects.filter(kind=LedgerKind.CASHOUT).exists()
    assert [(f["status"], f["quote"]) for f in frames_of(published, "cashout_decision")] == [("pending", str(quote.pk))]
    # A retry of the same quote answers the same 202; another quote of the bet waits its turn.
    again = accept(user_client, bet, offer["quote"])
    assert again.status_code == 202 and again.json() == body and again["Idempotent-Replayed"] == "true"
    second = accept(user_client, bet, quote_of(user_client, bet)["quote"])
    assert (second.status_code, second.json()["code"]) == (409, "cashout_pending")

    assert cashout_delay.cashout_decide(quote_id=str(quote.pk), now=quote.decide_at - timedelta(seconds=1)) is None
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        decided = decide_at_end(quote, late=0.3)
    assert (decided.reason, decided.accepted_at) == ("", quote.decide_at + timedelta(seconds=0.3))
    settled = Bet.objects.get(pk=bet.pk)
    amount = Decimal(offer["amount"])
    assert (settled.status, settled.payout) == (BetStatus.CASHED_OUT, amount)
    assert balance_of(user) == Decimal("990.00") + amount
    assert [(f["type"], f.get("status")) for _, f, _ in published] == [
        ("wallet", None),
        ("bet", "cashed_out"),
        ("cashout_decision", "accepted"),
    ]
    # Decided once: a second task, the sweep and a retry of the request move nothing.
    assert decide_at_end(quote, late=1).accepted_at == decided.accepted_at
    assert cashout_delay.cashout_delay_sweep(now=quote.decide_at + timedelta(seconds=2)) == []
    replay = accept(user_client, bet, offer["quote"])
    assert (replay.status_code, replay.json()["status"], replay["Idempotent-Replayed"]) == (200, "cashed_out", "true")
    assert LedgerEntry.objects.filter(bet=bet, kind=LedgerKind.CASHOUT).count() == 1
    assert ledger_audit() == []


@pytest.mark.parametrize(("kind", "fields"), MATERIAL_EVENTS)
def test_a_material_event_during_the_delay_refuses_the_cash_out_market_suspended(
    in_play, bet, feed, user, user_client, published, django_capture_on_commit_callbacks, kind, fields
) -> None:
    quote = pending(user_client, bet, django_capture_on_commit_callbacks)
    feed.send(kind, **fields)
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        decided = decide_at_end(quote)
    assert (decided.reason, decided.accepted_at) == ("market_suspended", None)
    assert [(f["status"], f["reason"]) for f in frames_of(published, "cashout_decision")] == [
        ("refused", "market_suspended")
    ]
    assert Bet.objects.get(pk=bet.pk).status == BetStatus.OPEN
    assert balance_of(user) == Decimal("990.00")
    # The same quote again gives the same refusal; the bet stays open for a new quote later.
    replay = accept(user_client, bet, str(quote.pk))
    assert (replay.status_code, replay.json()["code"], replay.json()["reason"]) == (
        409,
        "cashout_refused",
        "market_suspended",
    )
    assert ledger_audit() == []


def test_a_trader_suspension_during_the_delay_refuses_even_once_reopened(
    in_play, bet, user_client, django_capture_on_commit_callbacks
) -> None:
    quote = pending(user_client, bet, django_capture_on_commit_callbacks)
    match_transition(match_id=in_play.pk, status=MatchStatus.SUSPENDED)
    match_transition(match_id=in_play.pk, status=MatchStatus.OPEN)
    assert decide_at_end(quote).reason == "market_suspended"


@pytest.mark.parametrize(
    ("factor", "reason", "status"),
    [
        (Decimal("0.9"), "cashout_value_changed", BetStatus.OPEN),  # worth less now: refused
        (Decimal("1.0"), "", BetStatus.CASHED_OUT),  # the same value: accepted
        (Decimal("1.2"), "", BetStatus.CASHED_OUT),  # worth more: accepted, at the quoted amount
    ],
)
def test_the_value_at_the_end_of_the_delay_must_not_be_below_the_quote(
    in_play, bet, user, user_client, django_capture_on_commit_callbacks, factor, reason, status
) -> None:
    quote = pending(user_client, bet, django_capture_on_commit_callbacks)
    home = Market.objects.get(match=in_play, key="1x2").probabilities["home"]
    set_home_probability(in_play, float(Decimal(str(home)) * factor))
    decided = decide_at_end(quote)
    assert decided.reason == reason
    settled = Bet.objects.get(pk=bet.pk)
    assert settled.status == status
    if status == BetStatus.CASHED_OUT:
        assert settled.payout == quote.amount and balance_of(user) == Decimal("990.00") + quote.amount
    else:
        assert balance_of(user) == Decimal("990.00")
    assert ledger_audit() == []


def test_a_cash_out_undecided_past_the_limit_is_refused_timed_out(
    in_play, bet, user_client, django_capture_on_commit_callbacks, settings
) -> None:
    quote = pending(user_client, bet, django_capture_on_commit_callbacks)
    decided = decide_at_end(quote, late=settings.INPLAY_BET_DECISION_LIMIT_SECONDS + 1)
    assert decided.reason == "timed_out"
    assert Bet.objects.get(pk=bet.pk).status == BetStatus.OPEN


def test_full_time_during_the_delay_refuses_market_closed_and_the_bet_settles_once(
    in_play, bet, feed, user, user_client, django_capture_on_commit_callbacks
) -> None:
    quote = pending(user_client, bet, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        feed.send("goal", team="home", minute=80)
        feed.send("full_time")
    assert Match.objects.get(pk=in_play.pk).status == MatchStatus.SETTLED
    settled = Bet.objects.get(pk=bet.pk)
    assert (settled.status, settled.payout) == (BetStatus.WON, Decimal("21.00"))
    assert decide_at_end(quote).reason == "market_suspended"  # the goal came first
    assert Bet.objects.get(pk=bet.pk).status == BetStatus.WON
    assert balance_of(user) == Decimal("1011.00")
    assert not LedgerEntry.objects.filter(kind=LedgerKind.CASHOUT).exists()
    assert ledger_audit() == []


def test_a_bet_settled_after_the_delay_before_the_worker_is_refused_bet_not_open(
    in_play, bet, user, user_client, django_capture_on_commit_callbacks
) -> None:
    """Settlement won the race for the bet's lock: the late decision finds it settled."""
    quote = pending(user_client, bet, django_capture_on_commit_callbacks)
    assert quote.decide_at is not None
    # The delay passed clean; the match was then closed and settled before the worker ran.
    CashoutQuote.objects.filter(pk=quote.pk).update(
        requested_at=quote.decide_at - timedelta(seconds=60), decide_at=quote.decide_at - timedelta(seconds=54)
    )
    quote.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        match_transition(match_id=in_play.pk, status=MatchStatus.CLOSED)
        match_transition(match_id=in_play.pk, status=MatchStatus.SETTLED, score=(0, 1))
    assert Bet.objects.get(pk=bet.pk).status == BetStatus.LOST
    decided = cashout_delay.cashout_decide(quote_id=str(quote.pk), now=quote.decide_at + timedelta(seconds=1))
    assert decided is not None and decided.reason == "bet_not_open"
    assert balance_of(user) == Decimal("990.00")
    assert ledger_audit() == []


def test_the_sweep_decides_the_cash_outs_whose_task_was_lost(
    in_play, bet, user, user_client, django_capture_on_commit_callbacks
) -> None:
    quote = pending(user_client, bet, django_capture_on_commit_callbacks)
    assert quote.decide_at is not None
    assert cashout_delay.cashout_delay_sweep(now=quote.decide_at - timedelta(seconds=1)) == []
    assert cashout_delay.cashout_delay_sweep(now=quote.decide_at + timedelta(seconds=1)) == [bet.pk]
    assert Bet.objects.get(pk=bet.pk).status == BetStatus.CASHED_OUT
    assert ledger_audit() == []


def test_pending_cash_outs_and_their_outcomes_are_exported(
    in_play, bet, user_client, feed, client, settings, django_capture_on_commit_callbacks
) -> None:
    quote = pending(user_client, bet, django_capture_on_commit_callbacks)
    samples = scrape(client, settings)
    assert samples[("oddstream_cashouts_pending", ())] == 1
    feed.send("goal", team="away", minute=9)
    decide_at_end(quote)
    samples = scrape(client, settings)
    assert samples[("oddstream_cashouts_pending", ())] == 0
    assert samples[("oddstream_cashout_decisions_total", (("outcome", "market_suspended"),))] == 1
