"""The in-play bet delay: 202 `pending` with the stake held, then one decision by the log's time."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from betting import delay
from betting.models import Bet, BetStatus, LedgerEntry, LedgerKind, Match, MatchStatus, OddsVersion, Wallet
from betting.selectors import bets_pending, ledger_audit
from betting.settlement import match_transition
from betting.tests.factories import new_bet_key
from payments.models import Payment

pytestmark = pytest.mark.django_db

BODY = {"selection": "home", "stake": "10.00", "odds": 2.1}


@pytest.fixture
def decisions(monkeypatch) -> list[tuple[int, float]]:
    """The decision tasks asked for, as (bet id, countdown), instead of running them: an eager
    task would ignore the countdown and run at once (and find the bet not yet due)."""
    asked: list[tuple[int, float]] = []
    monkeypatch.setattr(
        "betting.jobs.bet_decide_enqueue", lambda *, bet_id, countdown: asked.append((bet_id, countdown))
    )
    return asked


@pytest.fixture
def in_play(feed, match, decisions) -> Match:
    feed.send("kick_off")
    match.refresh_from_db()
    assert match.in_play and match.status == MatchStatus.OPEN
    return match


def place(client, match: Match, key: dict[str, str] | None = None, **fields):
    return client.post("/api/bets/", {"match": match.pk, **BODY, **fields}, format="json", **(key or new_bet_key()))


def wallet_of(user) -> Wallet:
    return Wallet.objects.get(user=user)


def pending_bet(user_client, match, django_capture_on_commit_callbacks, **fields) -> Bet:
    with django_capture_on_commit_callbacks(execute=True):
        reply = place(user_client, match, **fields)
    assert reply.status_code == 202, reply.content
    return Bet.objects.get(pk=reply.json()["id"])


def age(match: Match, seconds: float) -> None:
    """Move the match's bets and prices `seconds` into the past, as if placed that long ago."""
    back = timedelta(seconds=seconds)
    for bet in Bet.objects.filter(match=match):
        assert bet.decide_at is not None
        Bet.objects.filter(pk=bet.pk).update(created_at=bet.created_at - back, decide_at=bet.decide_at - back)
    for version in OddsVersion.objects.filter(match=match):
        OddsVersion.objects.filter(pk=version.pk).update(computed_at=version.computed_at - back)


def decide_at_end(bet: Bet, late: float = 0.0) -> Bet:
    assert bet.decide_at is not None
    decided = delay.bet_delay_decide(bet_id=bet.pk, now=bet.decide_at + timedelta(seconds=late))
    assert decided is not None
    return decided


def test_an_in_play_bet_answers_202_pending_with_its_stake_held_not_debited(
    in_play, user, user_client, published, decisions, django_capture_on_commit_callbacks, settings
) -> None:
    key = new_bet_key()
    with django_capture_on_commit_callbacks(execute=True):
        reply = place(user_client, in_play, key=key)
    assert reply.status_code == 202, reply.content
    body = reply.json()
    assert (body["status"], body["reason"]) == ("pending", "")
    bet = Bet.objects.get(pk=body["id"])
    assert bet.sequence is None and bet.decide_at is not None
    assert abs((bet.decide_at - bet.created_at).total_seconds() - settings.INPLAY_BET_DELAY_SECONDS) < 0.5
    wallet = wallet_of(user)
    assert (wallet.balance, wallet.held, wallet.available) == (Decimal("1000.00"), Decimal("10.00"), Decimal("990.00"))
    assert not LedgerEntry.objects.filter(kind=LedgerKind.STAKE).exists()
    assert decisions == [(bet.pk, settings.INPLAY_BET_DELAY_SECONDS + 0.25)]
    frames = [frame for _, frame, routing in published if frame["type"] == "bet"]
    assert [(f["status"], f["decide_at"]) for f in frames] == [("pending", bet.decide_at.isoformat())]
    # The same key again replays the 202, and places nothing.
    again = place(user_client, in_play, key=key)
    assert again.status_code == 202 and again.json() == body and again["Idempotent-Replayed"] == "true"
    assert Bet.objects.count() == 1
    in_play.refresh_from_db()
    assert in_play.bet_sequence == 0  # not in the book until accepted
    assert ledger_audit() == []


def test_a_clean_delay_accepts_the_bet_and_debits_the_held_stake_once(
    in_play, user, user_client, published, django_capture_on_commit_callbacks
) -> None:
    bet = pending_bet(user_client, in_play, django_capture_on_commit_callbacks)
    assert bet.decide_at is not None
    assert delay.bet_delay_decide(bet_id=bet.pk, now=bet.decide_at - timedelta(seconds=1)) is None  # early: nothing
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        bet = decide_at_end(bet, late=0.3)
    assert (bet.status, bet.reason, bet.sequence, bet.odds) == (BetStatus.OPEN, "", 1, Decimal("2.10"))
    wallet = wallet_of(user)
    assert (wallet.balance, wallet.held) == (Decimal("990.00"), Decimal("0.00"))
    assert [(f["type"], f.get("status")) for _, f, _ in published if f["type"] in ("bet", "wallet")] == [
        ("wallet", None),
        ("bet", "open"),
    ]
    assert bet.delay.decision_ms == pytest.approx(6300, abs=500)
    # Decided once: a second task, or the sweep, changes nothing.
    assert decide_at_end(bet, late=1).status == BetStatus.OPEN
    assert bet.decide_at is not None
    assert delay.bet_delay_sweep(now=bet.decide_at + timedelta(seconds=2)) == []
    assert LedgerEntry.objects.filter(bet=bet, kind=LedgerKind.STAKE).count() == 1
    assert ledger_audit() == []


# The feed's events that interrupt a delay, with their fields: (kind, fields).
MATERIAL_EVENTS = [
    ("goal", {"team": "away", "minute": 9}),
    ("red_card", {"team": "home", "minute": 9}),
    ("penalty", {"team": "away"}),
]


@pytest.mark.parametrize(("kind", "fields"), MATERIAL_EVENTS)
def test_a_material_event_during_the_delay_rejects_the_bet_and_releases_its_hold(
    in_play, feed, user, user_client, published, django_capture_on_commit_callbacks, kind, fields
) -> None:
    bet = pending_bet(user_client, in_play, django_capture_on_commit_callbacks)
    feed.send(kind, **fields)
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        bet = decide_at_end(bet)
    assert (bet.status, bet.reason, bet.sequence) == (BetStatus.REJECTED, "suspended_during_delay", None)
    wallet = wallet_of(user)
    assert (wallet.balance, wallet.held) == (Decimal("1000.00"), Decimal("0.00"))
    assert next(f for _, f, _ in published if f["type"] == "bet")["reason"] == "suspended_during_delay"
    assert not LedgerEntry.objects.filter(bet=bet).exists()
    assert ledger_audit() == []


def test_a_goal_the_worker_has_not_folded_yet_rejects_the_bet(
    in_play, feed_client, user_client, django_capture_on_commit_callbacks
) -> None:
    """The markets are not suspended yet (the feed's worker lags), but the log has the goal."""
    bet = pending_bet(user_client, in_play, django_capture_on_commit_callbacks)
    reply = feed_client.post(  # no on-commit callbacks: the processing task never runs
        "/api/feed/events/",
        {
            "event_id": "late-goal",
            "match": in_play.pk,
            "sequence": 50,
            "kind": "goal",
            "team": "home",
            "minute": 12,
            "occurred_at": timezone.now().isoformat(),
        },
        format="json",
    )
    assert reply.status_code == 202, reply.content
    in_play.refresh_from_db()
    assert in_play.status == MatchStatus.OPEN
    assert decide_at_end(bet).reason == "suspended_during_delay"


def test_a_trader_suspension_during_the_delay_rejects_even_once_reopened(
    in_play, user_client, django_capture_on_commit_callbacks
) -> None:
    bet = pending_bet(user_client, in_play, django_capture_on_commit_callbacks)
    match_transition(match_id=in_play.pk, status=MatchStatus.SUSPENDED)
    match_transition(match_id=in_play.pk, status=MatchStatus.OPEN)
    assert decide_at_end(bet).reason == "suspended_during_delay"


def test_full_time_during_the_delay_rejects_the_bet_market_closed(
    in_play, feed, user, user_client, django_capture_on_commit_callbacks
) -> None:
    bet = pending_bet(user_client, in_play, django_capture_on_commit_callbacks)
    feed.send("full_time")
    assert decide_at_end(bet).reason == "market_closed"
    assert wallet_of(user).held == Decimal("0.00")
    assert ledger_audit() == []


def move_price(match: Match, home: str) -> None:
    """Publish a new odds version with `home` at a new price, now."""
    match.refresh_from_db()
    latest = OddsVersion.objects.filter(match=match).order_by("-version").first()
    assert latest is not None
    markets = {**latest.markets, "1x2": {**latest.markets["1x2"], "home": home}}
    OddsVersion.objects.create(match=match, version=latest.version + 1, markets=markets, home=Decimal(home))


@pytest.mark.parametrize(
    ("mode", "moved_to", "status", "reason", "odds"),
    [
        ("none", "2.20", BetStatus.REJECTED, "odds_changed", Decimal("2.10")),
        ("higher", "2.00", BetStatus.REJECTED, "odds_changed", Decimal("2.10")),
        ("higher", "2.20", BetStatus.OPEN, "", Decimal("2.20")),
        ("any", "1.90", BetStatus.OPEN, "", Decimal("1.90")),
    ],
)
def test_the_price_at_the_end_of_the_delay_must_suit_accept_odds_change(
    in_play, user_client, django_capture_on_commit_callbacks, mode, moved_to, status, reason, odds
) -> None:
    bet = pending_bet(user_client, in_play, django_capture_on_commit_callbacks, accept_odds_change=mode)
    move_price(in_play, moved_to)
    bet = decide_at_end(bet)
    assert (bet.status, bet.reason, bet.odds) == (status, reason, odds)
    assert ledger_audit() == []


def test_a_bet_undecided_past_the_limit_is_rejected_timed_out(
    in_play, user, user_client, django_capture_on_commit_callbacks, settings
) -> None:
    bet = pending_bet(user_client, in_play, django_capture_on_commit_callbacks)
    bet = decide_at_end(bet, late=settings.INPLAY_BET_DECISION_LIMIT_SECONDS + 1)
    assert (bet.status, bet.reason) == (BetStatus.REJECTED, "timed_out")
    assert wallet_of(user).held == Decimal("0.00")


def test_a_late_worker_ignores_what_happened_after_the_delay(
    in_play, feed, user_client, django_capture_on_commit_callbacks
) -> None:
    """A goal after the delay ended, while the worker was late: the delay passed clean."""
    bet = pending_bet(user_client, in_play, django_capture_on_commit_callbacks)
    age(in_play, 20)
    bet.refresh_from_db()
    feed.send("goal", team="home", minute=10)  # now: 14 s after the delay ended
    in_play.refresh_from_db()
    assert in_play.status == MatchStatus.SUSPENDED
    late = delay.bet_delay_decide(bet_id=bet.pk)
    assert late is not None and (late.status, late.reason) == (BetStatus.OPEN, "")


def test_the_sweep_decides_the_bets_whose_task_was_lost(
    in_play, user_client, django_capture_on_commit_callbacks
) -> None:
    first = pending_bet(user_client, in_play, django_capture_on_commit_callbacks)
    second = pending_bet(user_client, in_play, django_capture_on_commit_callbacks)
    assert first.decide_at is not None
    assert delay.bet_delay_sweep(now=first.decide_at - timedelta(seconds=1)) == []
    age(in_play, 7)
    assert sorted(delay.bet_delay_sweep()) == [first.pk, second.pk]
    assert set(Bet.objects.values_list("status", flat=True)) == {BetStatus.OPEN}
    assert list(Bet.objects.order_by("sequence").values_list("sequence", flat=True)) == [1, 2]
    assert bets_pending() == 0
    assert ledger_audit() == []


def test_a_pending_bet_is_visible_in_the_api_then_its_decision(
    in_play, user_client, django_capture_on_commit_callbacks
) -> None:
    bet = pending_bet(user_client, in_play, django_capture_on_commit_callbacks)
    assert user_client.get(f"/api/bets/{bet.pk}/").json()["status"] == "pending"
    match_transition(match_id=in_play.pk, status=MatchStatus.SUSPENDED)
    decide_at_end(bet)
    shown = user_client.get(f"/api/bets/{bet.pk}/").json()
    assert (shown["status"], shown["reason"]) == ("rejected", "suspended_during_delay")


def test_a_pending_bet_spends_the_available_money_only(in_play, user, user_client, django_capture_on_commit_callbacks):
    pending_bet(user_client, in_play, django_capture_on_commit_callbacks, stake="995.00", odds=2.1)
    reply = place(user_client, in_play, stake="10.00")
    assert reply.status_code == 409 and reply.json()["code"] == "insufficient_funds"


def test_a_withdrawal_never_takes_an_in_play_bets_held_stake(
    in_play, user, user_client, django_capture_on_commit_callbacks
) -> None:
    """The stake of a bet waiting out its delay is held: a withdrawal may take only the rest,
    so the bet, once accepted, still has its stake to debit."""
    bet = pending_bet(user_client, in_play, django_capture_on_commit_callbacks)  # 10.00 held of 1000.00

    def money() -> tuple:
        wallet = wallet_of(user)
        return wallet.balance, wallet.held, LedgerEntry.objects.count(), Payment.objects.count()

    before = money()
    refused = user_client.post("/api/wallet/withdrawals/", {"amount": "990.01"})
    assert refused.status_code == 409, refused.content
    assert (refused.json()["code"], refused.json()["available"]) == ("insufficient_funds", "990.00")
    assert money() == before
    taken = user_client.post("/api/wallet/withdrawals/", {"amount": "990.00"})
    assert taken.status_code == 201, taken.content
    wallet = wallet_of(user)
    assert (wallet.balance, wallet.held, wallet.available) == (Decimal("10.00"), Decimal("10.00"), Decimal("0.00"))
    # The delay ends clean: the held stake is there to debit.
    assert decide_at_end(bet).status == BetStatus.OPEN
    wallet = wallet_of(user)
    assert (wallet.balance, wallet.held) == (Decimal("0.00"), Decimal("0.00"))
    assert ledger_audit() == []


def test_settlement_leaves_pending_and_rejected_bets_alone(
    in_play, feed, user, user_client, django_capture_on_commit_callbacks
) -> None:
    rejected = pending_bet(user_client, in_play, django_capture_on_commit_callbacks)
    match_transition(match_id=in_play.pk, status=MatchStatus.SUSPENDED)
    match_transition(match_id=in_play.pk, status=MatchStatus.OPEN)
    decide_at_end(rejected)
    waiting = pending_bet(user_client, in_play, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        feed.send("goal", team="home", minute=80)
        feed.send("full_time")
    assert Match.objects.get(pk=in_play.pk).status == MatchStatus.SETTLED
    assert decide_at_end(waiting).reason == "suspended_during_delay"
    assert set(Bet.objects.values_list("status", flat=True)) == {BetStatus.REJECTED}
    assert wallet_of(user).balance == Decimal("1000.00")
    assert ledger_audit() == []
