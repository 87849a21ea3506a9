"""The odds recompute: incremental running totals, coalescing, history, reconciliation."""

import json
import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from celery import current_app
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from betting import events, jobs, matches, placement, pricing, recompute
from betting.checks import odds_engine_settings_check
from betting.engine.book import price_markets
from betting.engine.markets import match_markets
from betting.engine.money import BookTotals
from betting.models import Bet, Market, Match, OddsVersion
from betting.pricing import book_params, match_odds_recompute, totals_of
from betting.priors import prior_matrix
from betting.tests.factories import MatchFactory
from betting.wallets import wallet_adjust

pytestmark = pytest.mark.django_db


# Bets seeded on a spread of markets: every kind, a void-able one (draw no bet) included.
SEEDED = (
    ("1x2", "home"),
    ("1x2", "draw"),
    ("1x2", "away"),
    ("over_under_2_5", "over"),
    ("both_teams_to_score", "no"),
    ("draw_no_bet", "away"),
    ("double_chance", "home_or_draw"),
    ("correct_score", "1-1"),
)


def seed_bets(match: Match, user: Any, count: int, *, start: int | None = None) -> None:
    """Insert `count` bets straight into the table (as bet_place would number them), fast."""
    rng = random.Random(count)
    first = (match.bet_sequence if start is None else start) + 1
    picks = [rng.choice(SEEDED) for _ in range(count)]
    Bet.objects.bulk_create(
        Bet(
            user=user,
            match=match,
            market=picks[sequence - first][0],
            selection=picks[sequence - first][1],
            stake=Decimal(rng.randint(100, 5000)) / 100,
            odds=Decimal("2.50"),
            odds_version=match.odds_version,
            sequence=sequence,
        )
        for sequence in range(first, first + count)
    )
    Match.objects.filter(pk=match.pk).update(bet_sequence=first + count - 1)


def totals_from_scratch(match: Match) -> dict[str, BookTotals]:
    """Every market's money, summed afresh from its bets."""
    return pricing.totals_add({}, Bet.objects.filter(match=match).values_list("market", "selection", "stake", "odds"))


def book_of(match: Match) -> dict[str, BookTotals]:
    """Every market's running totals as the recompute stored them (markets with money only)."""
    return {row.key: totals_of(row) for row in Market.objects.filter(match=match) if row.stakes}


def full_quotes(match: Match) -> dict[str, Any]:
    """Every market priced afresh from the prior and every bet."""
    markets = match_markets(match.asian_handicap_lines)
    return price_markets(prior_matrix(match.score_prior), markets, totals_from_scratch(match), book_params())


def stored_prices(match: Match) -> dict[str, dict[str, str | None]]:
    return {row.key: row.prices for row in Market.objects.filter(match=match)}


# --- Incremental running totals -------------------------------------------------------


def test_running_totals_equal_the_sums_of_every_bet(match, user, django_capture_on_commit_callbacks) -> None:
    wallet_adjust(user_id=user.pk, amount=Decimal("10000.00"), memo="enough for 40 random stakes", staff=None)
    rng = random.Random(7)
    for _ in range(40):
        with django_capture_on_commit_callbacks(execute=True):
            placement.bet_place(
                user=user,
                match_id=match.pk,
                selection=rng.choice(("home", "draw", "away")),
                stake=Decimal(rng.randint(10, 20000)) / 100,
                accept_odds_change="any",
            )
    match.refresh_from_db()
    assert book_of(match) == totals_from_scratch(match)
    assert match.bets_counted == match.bet_sequence == 40


def test_incremental_prices_equal_a_full_recompute(match, user) -> None:
    seed_bets(match, user, 300)
    match_odds_recompute(match_id=match.pk)
    seed_bets(match.__class__.objects.get(pk=match.pk), user, 57)
    match_odds_recompute(match_id=match.pk)
    match.refresh_from_db()
    full = full_quotes(match)
    assert match.current_prices == full["1x2"].prices  # the 1X2 columns mirror the 1x2 market
    assert stored_prices(match) == {key: pricing.market_row_values(q)["prices"] for key, q in full.items()}
    assert book_of(match) == totals_from_scratch(match)
    assert match.bets_counted == 357


@hypothesis_settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.integers(min_value=0, max_value=25), min_size=1, max_size=6))
def test_running_totals_never_drift_whatever_the_recompute_points(user, batches: list[int]) -> None:
    """However the bets fall between recomputes, the incremental book equals a fresh sum."""
    target = Match.objects.get(pk=MatchFactory().pk)
    for count in batches:
        if count:
            seed_bets(Match.objects.get(pk=target.pk), user, count)
        match_odds_recompute(match_id=target.pk)
    target.refresh_from_db()
    assert book_of(target) == totals_from_scratch(target)
    assert target.bets_counted == target.bet_sequence == sum(batches)
    assert target.current_prices == full_quotes(target)["1x2"].prices


def test_a_recompute_reads_only_the_new_bets(match, user) -> None:
    """Same queries, and the same single bet read, with 50 or 5,000 bets already counted."""
    queries = []
    for already in (50, 5000):
        target = MatchFactory()
        seed_bets(target, user, already)
        match_odds_recompute(match_id=target.pk)
        seed_bets(Match.objects.get(pk=target.pk), user, 1)
        with CaptureQueriesContext(connection) as captured:
            match_odds_recompute(match_id=target.pk)
        bet_reads = [q["sql"] for q in captured.captured_queries if 'FROM "betting_bet"' in q["sql"]]
        assert len(bet_reads) == 1 and '"sequence" >' in bet_reads[0]
        assert "SUM" not in " ".join(q["sql"].upper() for q in captured.captured_queries)
        queries.append(len(captured.captured_queries))
    assert queries[0] == queries[1]


# --- Pricing outside the match row lock ---------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_engine_runs_outside_any_transaction(monkeypatch, match, user) -> None:
    """No transaction, so no match row lock, is open while the engine prices: a bet on the
    match never waits for it (tests/../test_concurrency.py shows it with two connections)."""
    seen: list[bool] = []

    def quote_recording(*args, **kwargs):
        seen.append(connection.in_atomic_block)
        return price_markets(*args, **kwargs)

    monkeypatch.setattr(pricing, "price_markets", quote_recording)
    seed_bets(match, user, 5)
    assert match_odds_recompute(match_id=match.pk) is not None
    assert seen == [False]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("races_lost", [1, pricing.ODDS_RECOMPUTE_OPTIMISTIC_ATTEMPTS])
def test_a_recompute_that_loses_the_race_to_write_prices_again(monkeypatch, match, user, races_lost) -> None:
    """Another recompute writes while this one prices (here: runs inside its engine call). The
    late one must not write over it: it prices again from the new state, and after losing
    every optimistic attempt it prices under the lock. Versions stay consecutive and the book
    equals a fresh sum either way."""
    calls = {"outer": 0}
    racing = {"now": False}

    def quote_with_a_rival(*args, **kwargs):
        if not racing["now"] and calls["outer"] < races_lost:
            calls["outer"] += 1
            racing["now"] = True
            try:
                seed_bets(Match.objects.get(pk=match.pk), user, 3)
                assert match_odds_recompute(match_id=match.pk) is not None  # the rival's write
                seed_bets(Match.objects.get(pk=match.pk), user, 2)  # so the late one has bets to count
            finally:
                racing["now"] = False
        return price_markets(*args, **kwargs)

    monkeypatch.setattr(pricing, "price_markets", quote_with_a_rival)
    seed_bets(match, user, 4)
    match_odds_recompute(match_id=match.pk)
    match.refresh_from_db()
    assert match.bets_counted == match.bet_sequence == 4 + 5 * races_lost
    assert book_of(match) == totals_from_scratch(match)
    versions = list(OddsVersion.objects.filter(match=match).order_by("version").values_list("version", flat=True))
    assert versions == list(range(versions[0], versions[0] + len(versions)))
    assert match.odds_version == versions[-1]


def test_nothing_new_means_no_version(match, user) -> None:
    seed_bets(match, user, 3)
    assert match_odds_recompute(match_id=match.pk) is not None
    assert match_odds_recompute(match_id=match.pk) is None
    assert OddsVersion.objects.filter(match=match).count() == 2  # the opening version and this one


# --- History ------------------------------------------------------------------------


def test_every_recompute_with_new_bets_is_a_version_with_its_history(match, user) -> None:
    seed_bets(match, user, 10)
    first = match_odds_recompute(match_id=match.pk)
    seed_bets(Match.objects.get(pk=match.pk), user, 5)
    second = match_odds_recompute(match_id=match.pk)
    assert first is not None and second is not None
    assert (first.version, first.bets_counted) == (2, 10)
    assert (second.version, second.bets_counted) == (3, 15)
    assert second.pipeline_latency_ms is not None and second.pipeline_latency_ms >= 0
    assert list(second.markets) == [m.key for m in match_markets(match.asian_handicap_lines)]
    assert set(second.markets["correct_score"]) >= {"0-0", "4-4", "other"}
    assert second.computed_at <= timezone.now()


def test_odds_history_api_is_paginated_newest_first(api_client, match, user) -> None:
    for _ in range(55):
        seed_bets(Match.objects.get(pk=match.pk), user, 1)
        match_odds_recompute(match_id=match.pk)
    reply = api_client.get(f"/api/matches/{match.pk}/odds-history/")
    assert reply.status_code == 200
    body = reply.json()
    assert body["count"] == 56 and len(body["results"]) == 50 and body["next"]
    newest = body["results"][0]
    assert newest["version"] == 56 and newest["bets_counted"] == 55
    assert set(newest) == {"version", "odds", "markets", "bets_counted", "computed_at", "pipeline_latency_ms"}
    assert isinstance(newest["markets"]["over_under_2_5"]["over"], float)
    assert api_client.get(body["next"]).json()["results"][-1]["version"] == 1  # the opening
    assert api_client.get("/api/matches/999999/odds-history/").status_code == 404


# --- Markets in the API and the frames ----------------------------------------------


def test_new_matches_are_priced_with_markets_from_the_start(api_client) -> None:
    match = matches.match_create(
        home_team="Lyon",
        away_team="Lille",
        kickoff=timezone.now() + timedelta(days=1),
        opening={"home": Decimal("2.10"), "draw": Decimal("3.40"), "away": Decimal("3.50")},
    )
    detail = api_client.get(f"/api/matches/{match.pk}/").json()
    # The typed odds stand for a score distribution; the book prices it with its own margin.
    assert detail["odds"] == detail["markets"]["1x2"] == detail["opening_odds"]
    assert all(abs(detail["odds"][s] - typed) <= 0.1 for s, typed in (("home", 2.1), ("draw", 3.4), ("away", 3.5)))
    assert detail["score_prior"]["source"] == "trader"
    assert len(detail["markets"]) == 15 and len(detail["asian_handicap_lines"]) == 5
    over_under = detail["markets"]["over_under_2_5"]
    assert 1 / over_under["over"] + 1 / over_under["under"] >= 1.05
    assert set(detail["market_status"].values()) == {"open"}
    assert all(float(m) > 0 for stakes in detail["max_stakes"].values() for m in stakes.values() if m is not None)
    listed = api_client.get("/api/matches/").json()["results"]
    assert listed[0]["markets"] == detail["markets"]
    assert OddsVersion.objects.get(match=match, version=1).markets == stored_prices(match)


def test_odds_frame_carries_markets_and_is_json(match, user) -> None:
    seed_bets(match, user, 4)
    match_odds_recompute(match_id=match.pk)
    match.refresh_from_db()
    frame = json.loads(json.dumps(events.odds_frame(match)))
    assert set(frame) == {
        "type",
        "match",
        "version",
        "odds",
        "markets",
        "market_status",
        "max_stakes",
        "decided",
        "status",
        "suspended_reason",
        "live",
        "bets",
        "ts",
    }
    keys = [m.key for m in match_markets(match.asian_handicap_lines)]
    assert list(frame["markets"]) == list(frame["market_status"]) == list(frame["max_stakes"]) == keys
    assert set(frame["markets"]["both_teams_to_score"]) == {"yes", "no"}
    assert frame["markets"]["1x2"] == frame["odds"]
    assert all(isinstance(p, float) for m in frame["markets"].values() for p in m.values() if p is not None)
    assert all(isinstance(s, str) for m in frame["max_stakes"].values() for s in m.values() if s is not None)


# --- Coalescing ----------------------------------------------------------------------


@pytest.fixture
def enqueued(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The recompute_odds tasks sent to the broker (not run), with their options."""
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(current_app.tasks[jobs.RECOMPUTE_ODDS], "apply_async", lambda **options: sent.append(options))
    return sent


def test_at_most_one_recompute_pending_and_one_more_after_it_starts(match, enqueued) -> None:
    assert recompute.odds_recompute_request(match_id=match.pk)
    assert not recompute.odds_recompute_request(match_id=match.pk)  # bets before the start: coalesced
    recompute.odds_recompute_started(match_id=match.pk)
    assert recompute.odds_recompute_request(match_id=match.pk)  # a bet during the run: one more
    for _ in range(100):
        assert not recompute.odds_recompute_request(match_id=match.pk)
    assert len(enqueued) == 2
    other = MatchFactory()
    assert recompute.odds_recompute_request(match_id=other.pk)  # the flag is per match


def test_every_recompute_start_is_counted_per_match(match, user, django_capture_on_commit_callbacks) -> None:
    assert recompute.odds_recompute_runs(match_id=match.pk) == 0
    with django_capture_on_commit_callbacks(execute=True):
        placement.bet_place(
            user=user, match_id=match.pk, selection="home", stake=Decimal("10.00"), accept_odds_change="any"
        )
    assert recompute.odds_recompute_runs(match_id=match.pk) == 1  # the eager worker ran it
    assert match_odds_recompute(match_id=match.pk) is None  # a run with nothing new is not a start
    recompute.odds_recompute_started(match_id=match.pk)
    assert recompute.odds_recompute_runs(match_id=match.pk) == 2
    assert recompute.odds_recompute_runs(match_id=MatchFactory().pk) == 0


def test_recomputes_start_at_least_the_interval_apart(match, enqueued, settings) -> None:
    settings.ODDS_RECOMPUTE_MIN_INTERVAL = 0.2
    recompute.odds_recompute_request(match_id=match.pk)
    assert enqueued[-1]["countdown"] == 0  # nothing ran lately: start at once
    recompute.odds_recompute_started(match_id=match.pk)
    recompute.odds_recompute_request(match_id=match.pk)
    countdown = enqueued[-1]["countdown"]
    assert countdown is not None and 0.1 < countdown <= 0.2
    settings.ODDS_RECOMPUTE_MIN_INTERVAL = 0
    recompute.odds_recompute_started(match_id=match.pk)
    recompute.odds_recompute_request(match_id=match.pk)
    assert enqueued[-1]["countdown"] == 0


# --- Reconciliation --------------------------------------------------------------------


@contextmanager
def broker_unreachable(socket_dir: Path) -> Iterator[None]:
    """Point Celery at a Unix socket nobody listens on, with eager mode off: `apply_async`
    really tries the broker and fails, as it does when Redis is down. (Celery reads its
    settings from Django's, CELERY_ namespace, so they are overridden there.)"""
    app = current_app
    # Connection and producer pools are made once per app: drop them on the way in and out,
    # so neither broker's connections are used for the other.
    app._pool = app.amqp._producer_pool = None
    try:
        with override_settings(
            CELERY_TASK_ALWAYS_EAGER=False,
            CELERY_BROKER_URL=f"redis+socket://{socket_dir / 'no-broker.sock'}",
            CELERY_BROKER_CONNECTION_TIMEOUT=0.5,
        ):
            yield
    finally:
        if app._pool is not None:
            app._pool.force_close_all()
        app._pool = app.amqp._producer_pool = None


def test_bets_committed_while_the_broker_is_down_move_the_odds_after_reconcile(
    match, user, django_capture_on_commit_callbacks, run_task, tmp_path
) -> None:
    with broker_unreachable(tmp_path):
        for _ in range(3):
            with django_capture_on_commit_callbacks(execute=True):
                bet = placement.bet_place(
                    user=user, match_id=match.pk, selection="away", stake=Decimal("300.00"), accept_odds_change="any"
                )
            assert bet.pk is not None  # the bet stands though its recompute could not be enqueued
    match.refresh_from_db()
    assert match.bet_sequence == 3 and match.bets_counted == 0  # committed, not yet counted
    opening_away = match.odds_away
    assert opening_away == match.opening_away
    assert cache.get(recompute._pending_key(match.pk)) is None  # a failed enqueue leaves no stale flag

    # The broker is back; beat runs the reconciliation (eager here: the recompute runs inline).
    assert run_task(jobs.RECONCILE_ODDS) == [match.pk]
    match.refresh_from_db()
    assert match.bets_counted == 3
    assert match.odds_away < opening_away
    assert run_task(jobs.RECONCILE_ODDS) == []


def test_reconcile_forces_a_recompute_whose_request_was_lost_under_its_pending_flag(
    match, user, enqueued, run_task, django_capture_on_commit_callbacks, settings
) -> None:
    # A worker killed while holding the task: the bet stays uncounted and the flag stays up.
    with django_capture_on_commit_callbacks(execute=True):
        placement.bet_place(
            user=user, match_id=match.pk, selection="home", stake=Decimal("5.00"), accept_odds_change="any"
        )
    assert len(enqueued) == 1 and cache.get(recompute._pending_key(match.pk)) is not None

    settings.ODDS_RECOMPUTE_OVERDUE_SECONDS = 60
    assert recompute.match_ids_recompute_overdue() == []
    run_task(jobs.RECONCILE_ODDS)
    assert len(enqueued) == 1  # not overdue yet: the pending request may still run

    Bet.objects.filter(match=match).update(created_at=timezone.now() - timedelta(seconds=61))
    assert recompute.match_ids_recompute_overdue() == [match.pk]
    run_task(jobs.RECONCILE_ODDS)
    assert len(enqueued) == 2  # overdue: enqueued again despite the flag


# --- Settings ---------------------------------------------------------------------------


def test_a_band_too_narrow_for_the_ladder_is_refused_at_start_up(settings) -> None:
    assert odds_engine_settings_check() == []
    settings.ODDS_MARGIN_MAX = Decimal("0.06")
    errors = odds_engine_settings_check()
    assert [e.id for e in errors] == ["betting.E001"] and "margin_max" in errors[0].msg
    settings.ODDS_MARGIN_MAX = Decimal("0.09")
    settings.ODDS_MARGIN_METHOD = "guess"
    assert odds_engine_settings_check()[0].id == "betting.E001"
    settings.ODDS_MARGIN_METHOD = "power"
    settings.ODDS_LIABILITY_LIMITS = {"correct_score": Decimal("-1")}
    assert "liability limit" in odds_engine_settings_check()[0].msg
    settings.ODDS_LIABILITY_LIMITS = {"exotic": Decimal("100")}
    assert "unknown market kinds" in odds_engine_settings_check()[0].msg


def test_admin_shows_the_running_totals_read_only(admin_client, match, user) -> None:
    seed_bets(match, user, 5)
    match_odds_recompute(match_id=match.pk)
    page = admin_client.get(f"/admin/betting/match/{match.pk}/change/")
    assert page.status_code == 200
    content = page.content.decode()
    assert "over_under_2_5" in content and "correct_score" in content
    assert 'name="market_rows-0-prices"' not in content  # shown, not editable
