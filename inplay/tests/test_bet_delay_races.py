"""The bet delay's decision against PostgreSQL with real threads: a redelivered task, the sweep
and a goal's suspension racing the decision of the same pending bets decide each once, move its
money once, and decide it as the log's times say, whichever transaction wins the lock."""

import threading
import time
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from betting import delay
from betting.models import Bet, BetStatus, LedgerEntry, LedgerKind, Match, MatchStatus, Wallet
from betting.placement import bet_place
from betting.tests.factories import UserFactory
from betting.tests.test_accumulator_concurrency import race
from inplay.services import match_feed_process
from inplay.tests.conftest import Feed
from inplay.tests.test_bet_delay import age

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres(reason="SQLite serialises every write transaction, so threads never race."),
]

STAKE = Decimal("10.00")
DELAY = 0.5  # seconds: long enough to place a few bets inside, short enough to wait out


@pytest.fixture
def decisions(monkeypatch) -> list[int]:
    """The decision tasks asked for (bet ids), not run: the threads below decide instead."""
    asked: list[int] = []
    monkeypatch.setattr("betting.jobs.bet_decide_enqueue", lambda *, bet_id, countdown: asked.append(bet_id))
    return asked


@pytest.fixture
def in_play(feed_client, match, reopen_requests, decisions, published, settings) -> Feed:
    """The match kicked off by its feed (processed on commit, as the eager worker does), with a
    short bet delay."""
    settings.INPLAY_BET_DELAY_SECONDS = DELAY
    feed = Feed(feed_client, match.pk)
    feed.send("kick_off")
    match.refresh_from_db()
    assert match.in_play and match.status == MatchStatus.OPEN
    return feed


def pending(match: Match, users: list, selection: str = "home") -> list[Bet]:
    bets = [
        bet_place(user=user, match_id=match.pk, selection=selection, stake=STAKE, accept_odds_change="any")
        for user in users
    ]
    assert {bet.status for bet in bets} == {BetStatus.PENDING}
    return bets


def wait_out(bets: list[Bet]) -> None:
    """Sleep until every bet's delay is over (and a little more: the task's grace)."""
    last = max(bet.decide_at for bet in bets if bet.decide_at is not None)
    time.sleep(max(0.0, (last - timezone.now()).total_seconds()) + 0.3)


def completed(works: list[Callable[[], object]]) -> tuple[list[Callable[[], None]], list[str]]:
    """The works wrapped to record that each finished (a deadlock or an error would not)."""
    done: list[str] = []
    lock = threading.Lock()

    def wrap(work: Callable[[], object]) -> Callable[[], None]:
        def run() -> None:
            work()
            with lock:
                done.append("done")

        return run

    return [wrap(work) for work in works], done


def decide(bet_id: int) -> Callable[[], object]:
    return lambda: delay.bet_delay_decide(bet_id=bet_id)


def test_redelivered_decisions_and_the_sweep_decide_each_bet_once(in_play, match, published) -> None:
    """Every pending bet decided by two copies of its task (a redelivery) and two sweeps at
    once, on one wallet: one decision each, one stake entry each, the balance debited once."""
    user = UserFactory()
    bets = pending(match, [user] * 5)
    wait_out(bets)
    published.clear()
    works, done = completed([decide(bet.pk) for bet in bets] * 2 + [delay.bet_delay_sweep, delay.bet_delay_sweep])
    race(works)
    assert len(done) == len(works)
    decided = Bet.objects.filter(pk__in=[bet.pk for bet in bets]).order_by("sequence")
    assert [(bet.status, bet.sequence) for bet in decided] == [(BetStatus.OPEN, n) for n in range(1, 6)]
    for bet in decided:
        assert LedgerEntry.objects.filter(bet=bet, kind=LedgerKind.STAKE).count() == 1
    wallet = Wallet.objects.get(user_id=user.pk)
    assert (wallet.balance, wallet.held) == (Decimal("1000.00") - 5 * STAKE, Decimal("0.00"))
    match.refresh_from_db()
    assert match.bet_sequence == 5
    opened = [frame["id"] for _, frame, _ in published if frame["type"] == "bet" and frame["status"] == "open"]
    assert sorted(opened) == sorted(bet.pk for bet in bets)  # one frame a bet
    call_command("audit_ledger")


def test_decisions_racing_a_goal_decide_by_the_goals_time_not_by_who_locks_first(in_play, match, monkeypatch) -> None:
    """Bets whose delay ended before a goal reached the book are accepted, and bets whose delay
    the goal fell in are rejected, whether their decision takes the match's lock before or after
    the worker that folds the goal and suspends the markets."""
    clean_users = [UserFactory() for _ in range(4)]
    clean = pending(match, clean_users)
    age(match, 10)  # their delay ended 9.5 s ago: their tasks are late
    hit_users = [UserFactory() for _ in range(4)]
    hit = pending(match, hit_users, selection="away")
    # The goal reaches the book during the second group's delay; its worker has not folded it.
    monkeypatch.setattr("inplay.jobs.feed_events_process_enqueue", lambda *, match_id: None)
    in_play.send("goal", team="home", minute=30)
    monkeypatch.undo()
    match.refresh_from_db()
    assert match.status == MatchStatus.OPEN
    wait_out(hit)
    works, done = completed([lambda: match_feed_process(match_id=match.pk), *(decide(b.pk) for b in clean + hit)])
    race(works)
    assert len(done) == len(works)
    match.refresh_from_db()
    assert (match.status, match.suspended_reason) == (MatchStatus.SUSPENDED, "goal")
    for bet in Bet.objects.filter(pk__in=[b.pk for b in clean]):
        assert (bet.status, bet.reason) == (BetStatus.OPEN, "")
    for bet in Bet.objects.filter(pk__in=[b.pk for b in hit]):
        assert (bet.status, bet.reason) == (BetStatus.REJECTED, "suspended_during_delay")
        assert not LedgerEntry.objects.filter(bet=bet).exists()
    for user in clean_users:
        assert Wallet.objects.get(user_id=user.pk).balance == Decimal("1000.00") - STAKE
    for user in hit_users:
        assert Wallet.objects.get(user_id=user.pk).balance == Decimal("1000.00")
    assert set(Wallet.objects.values_list("held", flat=True)) == {Decimal("0.00")}
    call_command("audit_ledger")


def test_decisions_racing_the_final_whistle_are_accepted_and_settled_or_rejected_closed(in_play, match) -> None:
    """Full time folded while the bets' decisions run: each bet is either accepted and then
    settled with the match, or rejected `market_closed`, never accepted onto a settled match;
    each pays once."""
    users = [UserFactory() for _ in range(6)]
    bets = pending(match, users)
    wait_out(bets)
    works, done = completed([lambda: in_play.send("full_time"), *(decide(bet.pk) for bet in bets)])
    race(works)
    assert len(done) == len(works)
    match.refresh_from_db()
    assert match.status == MatchStatus.SETTLED and match.result == "draw"
    for bet, user in zip(Bet.objects.filter(pk__in=[b.pk for b in bets]).order_by("pk"), users, strict=True):
        wallet = Wallet.objects.get(user_id=user.pk)
        if bet.status == BetStatus.LOST:
            assert LedgerEntry.objects.filter(bet=bet, kind=LedgerKind.STAKE).count() == 1
            assert wallet.balance == Decimal("1000.00") - STAKE
        else:
            assert (bet.status, bet.reason) == (BetStatus.REJECTED, "market_closed")
            assert not LedgerEntry.objects.filter(bet=bet).exists()
            assert wallet.balance == Decimal("1000.00")
        assert wallet.held == Decimal("0.00")
    call_command("audit_ledger")
