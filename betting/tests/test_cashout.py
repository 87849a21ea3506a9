"""Cash-out: the offer from the stored fair probabilities, quotes valid 10 s, acceptance settling
once at the quoted amount whatever the retries, and a cashed-out bet never settled again."""

import os
import subprocess
import sys
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

import pytest
import time_machine
from django.utils import timezone

from betting.accumulators import LegRequest, accumulator_place
from betting.cashout import cashout_quote
from betting.models import Bet, BetStatus, CashoutQuote, LedgerEntry, LedgerKind, Market, Match, MatchStatus
from betting.placement import bet_place
from betting.selectors import ledger_audit
from betting.settlement import match_result_correct, match_transition
from betting.tests.factories import MatchFactory, UserFactory, balance_of, settle

pytestmark = pytest.mark.django_db

CENT = Decimal("0.01")


def fair(match: Match, key: str, selection: str) -> Decimal:
    return Decimal(str(Market.objects.get(match=match, key=key).probabilities[selection]))


def single(user, match, stake="10.00") -> Bet:
    return bet_place(user=user, match_id=match.pk, selection="home", stake=Decimal(stake), quoted_odds=Decimal("2.10"))


def quote(client, bet):
    return client.post(f"/api/bets/{bet.pk}/cashout/quote/", format="json")


def accept(client, bet, quote_id):
    return client.post(f"/api/bets/{bet.pk}/cashout/", {"quote": quote_id}, format="json")


def test_a_single_is_offered_its_payout_times_its_fair_probability_less_the_margin(api_client) -> None:
    user, match = UserFactory(), MatchFactory()
    bet = single(user, match)
    api_client.force_authenticate(user)
    reply = quote(api_client, bet)
    assert reply.status_code == 201, reply.json()
    expected = (Decimal("21.00") * fair(match, "1x2", "home") * Decimal("0.95")).quantize(CENT, rounding=ROUND_DOWN)
    assert reply.json()["amount"] == f"{expected:.2f}"
    assert Decimal("8") < expected < Decimal("10")  # a home win at ~45%, less 5%: a little under the stake
    offered = CashoutQuote.objects.get()
    assert offered.expires_at - offered.created_at == timedelta(seconds=10)

    reply = accept(api_client, bet, reply.json()["quote"])
    assert reply.status_code == 200, reply.json()
    assert (reply.json()["status"], reply.json()["payout"]) == ("cashed_out", f"{expected:.2f}")
    assert balance_of(user) == Decimal("990.00") + expected
    entry = LedgerEntry.objects.get(bet=bet, kind=LedgerKind.CASHOUT)
    assert entry.amount == expected
    assert ledger_audit() == []


def test_accepting_again_settles_once_and_a_cashed_out_bet_never_settles_again(
    api_client, django_capture_on_commit_callbacks
) -> None:
    user, match = UserFactory(), MatchFactory()
    bet = single(user, match)
    api_client.force_authenticate(user)
    quote_id = quote(api_client, bet).json()["quote"]
    first = accept(api_client, bet, quote_id)
    replies = [accept(api_client, bet, quote_id) for _ in range(3)]
    assert all(r.status_code == 200 and r.json() == first.json() for r in replies)
    assert all(r.headers["Idempotent-Replayed"] == "true" for r in replies)
    assert LedgerEntry.objects.filter(bet=bet, kind=LedgerKind.CASHOUT).count() == 1
    # A new quote for a cashed-out bet is refused.
    reply = quote(api_client, bet)
    assert (reply.status_code, reply.json()["code"], reply.json()["reason"]) == (
        409,
        "cashout_unavailable",
        "bet_not_open",
    )
    balance = balance_of(user)
    with django_capture_on_commit_callbacks(execute=True):
        settle(match, "home")  # it would have won
    with django_capture_on_commit_callbacks(execute=True):
        match_result_correct(match_id=match.pk, score=(0, 1))  # and a correction grades nothing again
    bet.refresh_from_db()
    assert (bet.status, bet.payout) == (BetStatus.CASHED_OUT, Decimal(first.json()["payout"]))
    assert balance_of(user) == balance
    assert not LedgerEntry.objects.filter(bet=bet, kind__in=[LedgerKind.PAYOUT, LedgerKind.REVERSAL]).exists()
    assert ledger_audit() == []


def test_an_expired_quote_is_refused(api_client) -> None:
    user, match = UserFactory(), MatchFactory()
    bet = single(user, match)
    api_client.force_authenticate(user)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        quote_id = quote(api_client, bet).json()["quote"]
        clock.shift(timedelta(seconds=10.5))
        reply = accept(api_client, bet, quote_id)
    assert (reply.status_code, reply.json()["code"]) == (409, "cashout_quote_expired")
    assert Bet.objects.get(pk=bet.pk).status == BetStatus.OPEN
    assert balance_of(user) == Decimal("990.00")


@pytest.mark.parametrize("margin", ["0.10", "0.00"])
def test_another_cash_out_margin_changes_the_offer_as_the_formula_says(api_client, settings, margin) -> None:
    settings.CASHOUT_MARGIN = Decimal(margin)
    user, match = UserFactory(), MatchFactory()
    bet = single(user, match)
    api_client.force_authenticate(user)
    reply = quote(api_client, bet)
    assert reply.status_code == 201, reply.json()
    kept = Decimal(1) - Decimal(margin)
    expected = (Decimal("21.00") * fair(match, "1x2", "home") * kept).quantize(CENT, rounding=ROUND_DOWN)
    assert reply.json()["amount"] == f"{expected:.2f}"
    assert accept(api_client, bet, reply.json()["quote"]).json()["payout"] == f"{expected:.2f}"


def test_a_quote_accepted_a_moment_before_it_expires_is_honoured(api_client) -> None:
    user, match = UserFactory(), MatchFactory()
    bet = single(user, match)
    api_client.force_authenticate(user)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        offered = quote(api_client, bet).json()
        clock.shift(timedelta(seconds=9.9))
        reply = accept(api_client, bet, offered["quote"])
    assert reply.status_code == 200, reply.json()
    assert (reply.json()["status"], reply.json()["payout"]) == ("cashed_out", offered["amount"])
    assert ledger_audit() == []


def test_a_shorter_quote_life_is_kept(api_client, settings) -> None:
    settings.CASHOUT_QUOTE_SECONDS = 4.0
    user, match = UserFactory(), MatchFactory()
    bet = single(user, match)
    api_client.force_authenticate(user)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        quote_id = quote(api_client, bet).json()["quote"]
        clock.shift(timedelta(seconds=4.1))
        reply = accept(api_client, bet, quote_id)
    offered = CashoutQuote.objects.get()
    assert offered.expires_at - offered.created_at == timedelta(seconds=4)
    assert (reply.status_code, reply.json()["code"]) == (409, "cashout_quote_expired")


@pytest.mark.db_independent
def test_the_quote_life_read_from_the_environment_is_capped_at_10_seconds() -> None:
    code = "import django; django.setup(); from django.conf import settings; print(settings.CASHOUT_QUOTE_SECONDS)"
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "CASHOUT_QUOTE_SECONDS": "30"}
    result = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "10.0"


def test_cash_out_is_refused_while_a_market_is_suspended_after_kick_off_or_after_a_lost_leg(
    api_client, django_capture_on_commit_callbacks
) -> None:
    user, first, second = UserFactory(), MatchFactory(), MatchFactory()
    bet = single(user, first)
    api_client.force_authenticate(user)
    quote_id = quote(api_client, bet).json()["quote"]
    match_transition(match_id=first.pk, status=MatchStatus.SUSPENDED)
    for reply in (quote(api_client, bet), accept(api_client, bet, quote_id)):
        assert (reply.status_code, reply.json()["code"]) == (409, "market_suspended")
    match_transition(match_id=first.pk, status=MatchStatus.OPEN)
    # Kicked off and not traded in play: no price the book stands by, it waits for its result.
    kickoff = first.kickoff
    Match.objects.filter(pk=first.pk).update(kickoff=timezone.now() - timedelta(minutes=1))
    reply = quote(api_client, bet)
    assert (reply.status_code, reply.json()["code"], reply.json()["reason"]) == (
        409,
        "cashout_unavailable",
        "market_closed",
    )
    Match.objects.filter(pk=first.pk).update(kickoff=kickoff)

    acca = accumulator_place(
        user=user,
        legs=[LegRequest(m.pk, "1x2", "home") for m in (first, second)],
        stake=Decimal("5.00"),
        accept_odds_change="any",
    )
    with django_capture_on_commit_callbacks(execute=True):
        settle(second, "away")
    reply = quote(api_client, acca)
    assert (reply.status_code, reply.json()["code"], reply.json()["reason"]) == (
        409,
        "cashout_unavailable",
        "bet_not_open",
    )
    assert Bet.objects.get(pk=acca.pk).status == BetStatus.LOST


def test_an_accumulator_counts_its_won_legs_as_certain(api_client, django_capture_on_commit_callbacks) -> None:
    user, first, second = UserFactory(), MatchFactory(), MatchFactory()
    acca = accumulator_place(
        user=user,
        legs=[LegRequest(m.pk, "1x2", "home", Decimal("2.10")) for m in (first, second)],
        stake=Decimal("10.00"),
    )
    api_client.force_authenticate(user)
    before = Decimal(quote(api_client, acca).json()["amount"])
    with django_capture_on_commit_callbacks(execute=True):
        settle(first, "home")
    after = quote(api_client, acca)
    expected = (Decimal("44.10") * fair(second, "1x2", "home") * Decimal("0.95")).quantize(CENT, rounding=ROUND_DOWN)
    assert Decimal(after.json()["amount"]) == expected > before
    reply = accept(api_client, acca, after.json()["quote"])
    assert reply.json()["status"] == "cashed_out"
    with django_capture_on_commit_callbacks(execute=True):
        settle(second, "home")
    assert Bet.objects.get(pk=acca.pk).payout == expected
    assert ledger_audit() == []


def test_another_bettors_bet_or_quote_is_not_found(api_client) -> None:
    owner, other, match = UserFactory(), UserFactory(), MatchFactory()
    bet = single(owner, match)
    api_client.force_authenticate(owner)
    quote_id = quote(api_client, bet).json()["quote"]
    api_client.force_authenticate(other)
    assert quote(api_client, bet).status_code == 404
    assert accept(api_client, bet, quote_id).status_code == 404
    assert accept(api_client, bet, "not-a-uuid").status_code == 400
    assert Bet.objects.get(pk=bet.pk).status == BetStatus.OPEN


def test_a_recompute_sends_the_bettors_of_its_match_their_cash_out_values(
    django_capture_on_commit_callbacks, monkeypatch
) -> None:
    from betting import events
    from betting.pricing import match_odds_recompute

    sent: list[tuple[int, dict]] = []
    monkeypatch.setattr(
        events, "publish_on_commit", lambda stream, frame, **routing: sent.append((routing.get("user"), frame))
    )
    monkeypatch.setattr(  # the cash-out values go out as one batch
        events,
        "publish_many_on_commit",
        lambda stream, batch: sent.extend((routing.get("user"), frame) for frame, routing in batch),
    )
    user, other, first, second, elsewhere = UserFactory(), UserFactory(), MatchFactory(), MatchFactory(), MatchFactory()
    bet = single(user, first)
    acca = accumulator_place(
        user=other,
        legs=[LegRequest(m.pk, "1x2", "away") for m in (second, first)],
        stake=Decimal("2.00"),
        accept_odds_change="any",
    )
    single(other, elsewhere)  # another match's bet: not valued
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        match_odds_recompute(match_id=first.pk)
    frames = {frame["bet"]: (user_id, frame) for user_id, frame in sent if frame["type"] == "cashout"}
    assert set(frames) == {bet.pk, acca.pk}
    assert frames[bet.pk][0] == user.pk and frames[acca.pk][0] == other.pk
    # The value sent is what a quote offers now.
    assert frames[bet.pk][1]["value"] == f"{cashout_quote(user=user, bet_id=bet.pk).amount:.2f}"
    match_transition(match_id=second.pk, status=MatchStatus.SUSPENDED)
    sent.clear()
    single(UserFactory(), first)
    with django_capture_on_commit_callbacks(execute=True):
        match_odds_recompute(match_id=first.pk)
    latest = {frame["bet"]: frame for _, frame in sent if frame["type"] == "cashout"}
    assert (latest[acca.pk]["value"], latest[acca.pk]["reason"]) == (None, "market_suspended")


def test_a_suspension_and_a_reopening_send_the_cash_out_values_without_new_prices(
    django_capture_on_commit_callbacks, monkeypatch
) -> None:
    """A reopening brings no new prices (the feed's ends a goal's suspension at the prices the
    goal made): the value must come back at once, not at the next reprice."""
    from betting import events

    sent: list[dict] = []
    monkeypatch.setattr(events, "publish_many_on_commit", lambda stream, batch: sent.extend(f for f, _ in batch))
    match = MatchFactory()
    bet = single(UserFactory(), match)
    with django_capture_on_commit_callbacks(execute=True):
        match_transition(match_id=match.pk, status=MatchStatus.SUSPENDED)
    assert [(f["bet"], f["value"], f["reason"]) for f in sent] == [(bet.pk, None, "market_suspended")]
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        match_transition(match_id=match.pk, status=MatchStatus.OPEN)
    [frame] = sent
    assert (frame["bet"], frame["reason"]) == (bet.pk, "") and Decimal(frame["value"]) > 0
