"""The benchmark's baselines are injected from bench/, and only when asked for."""

import time
from decimal import Decimal

import pytest

from bench.hooks import EXTRA_DELAY_MS, INLINE, hooks_apply
from betting import placement, pricing
from betting.models import Bet, Match
from betting.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _restore_the_seams(monkeypatch) -> None:
    """Every hook replaces a module attribute: monkeypatch puts the original back after."""
    monkeypatch.setattr(placement, "bet_odds_recompute_schedule", placement.bet_odds_recompute_schedule)
    monkeypatch.setattr(pricing, "odds_price", pricing.odds_price)


@pytest.fixture
def requested(monkeypatch) -> list[int]:
    matches: list[int] = []
    monkeypatch.setattr(placement, "odds_recompute_request", lambda *, match_id: matches.append(match_id))
    return matches


def test_no_hook_without_the_environment_asking(match, requested, django_capture_on_commit_callbacks) -> None:
    assert hooks_apply({}) == []
    assert hooks_apply({INLINE: "0", EXTRA_DELAY_MS: "0"}) == []
    with django_capture_on_commit_callbacks(execute=True):
        placement.bet_place(
            user=UserFactory(), match_id=match.pk, selection="home", stake=Decimal("5.00"), accept_odds_change="any"
        )
    match.refresh_from_db()
    assert requested == [match.pk] and match.bets_counted == 0  # handed to the worker, as built


def test_inline_baseline_recomputes_and_publishes_in_the_bet_transaction(
    match, requested, published, django_capture_on_commit_callbacks
) -> None:
    assert hooks_apply({INLINE: "1"}) == [INLINE]
    with django_capture_on_commit_callbacks(execute=True):
        placement.bet_place(
            user=UserFactory(), match_id=match.pk, selection="home", stake=Decimal("300.00"), accept_odds_change="any"
        )
    match.refresh_from_db()
    assert match.bets_counted == match.bet_sequence == 1  # counted before the request returns
    assert requested == []  # no worker involved
    assert [frame["bets"] for _, frame, _ in published if frame["type"] == "odds"] == [1]


def test_extra_delay_slows_only_a_recompute_with_bets_to_count(match, requested) -> None:
    assert hooks_apply({EXTRA_DELAY_MS: "50"}) == [EXTRA_DELAY_MS]
    # One bet to count, written straight into the table (no recompute requested).
    Bet.objects.create(
        user=UserFactory.create(),
        match=match,
        selection="home",
        stake=Decimal(1),
        odds=Decimal(2),
        odds_version=1,
        sequence=1,
    )
    Match.objects.filter(pk=match.pk).update(bet_sequence=1)
    started = time.monotonic()
    assert pricing.match_odds_recompute(match_id=match.pk) is not None
    assert time.monotonic() - started >= 0.05
    started = time.monotonic()
    assert pricing.match_odds_recompute(match_id=match.pk) is None  # nothing new: no delay
    assert time.monotonic() - started < 0.05
