"""The Celery app: its queues, where each task goes, what beat runs, and the task names the
apps send work by (`betting.jobs`, `accounts.jobs`), all tied together."""

from datetime import timedelta

import pytest
from django.db import OperationalError

from accounts import jobs as accounts_jobs
from betting import jobs as betting_jobs
from inplay import jobs as inplay_jobs
from teammodel import jobs as teammodel_jobs
from workers import tasks
from workers.celery import QUEUES, _beat_schedule, app

# Every name the apps send work by: the contract between them and this package.
JOB_NAMES = {
    betting_jobs.RECOMPUTE_ODDS,
    betting_jobs.RECONCILE_ODDS,
    betting_jobs.SETTLE_MATCH,
    betting_jobs.CLOSE_MATCHES_AT_KICKOFF,
    betting_jobs.PURGE_IDEMPOTENCY_KEYS,
    accounts_jobs.FLUSH_EXPIRED_REFRESH_TOKENS,
    inplay_jobs.PROCESS_FEED_EVENTS,
    inplay_jobs.REOPEN_MARKETS,
    inplay_jobs.SWEEP_FEED,
    betting_jobs.DECIDE_BET,
    betting_jobs.SWEEP_BET_DELAYS,
    betting_jobs.DECIDE_CASHOUT,
    inplay_jobs.REPRICE_IN_PLAY,
    teammodel_jobs.REFIT_RATINGS,
}
EXPECTED_QUEUE = {
    betting_jobs.RECOMPUTE_ODDS: "odds",
    betting_jobs.RECONCILE_ODDS: "odds",
    betting_jobs.SETTLE_MATCH: "settlement",
    betting_jobs.CLOSE_MATCHES_AT_KICKOFF: "default",
    betting_jobs.PURGE_IDEMPOTENCY_KEYS: "default",
    accounts_jobs.FLUSH_EXPIRED_REFRESH_TOKENS: "default",
    inplay_jobs.PROCESS_FEED_EVENTS: "feed",
    inplay_jobs.REOPEN_MARKETS: "feed",
    inplay_jobs.SWEEP_FEED: "feed",
    betting_jobs.DECIDE_BET: "bet_delay",
    betting_jobs.SWEEP_BET_DELAYS: "bet_delay",
    betting_jobs.DECIDE_CASHOUT: "bet_delay",
    inplay_jobs.REPRICE_IN_PLAY: "odds",  # it only asks for recomputes, on `odds`
    teammodel_jobs.REFIT_RATINGS: "default",
}


def queue_of(task_name: str) -> str:
    """The queue a task is sent to, as the app's router decides it when sending."""
    return app.amqp.router.route({}, task_name)["queue"].name


def own_task_names() -> set[str]:
    return {name for name in app.tasks if not name.startswith("celery.")}


def test_every_job_name_is_a_registered_task_and_every_task_has_a_job_name() -> None:
    assert own_task_names() == JOB_NAMES


def test_the_tasks_are_registered_under_their_job_names() -> None:
    assert tasks.recompute_odds.name == betting_jobs.RECOMPUTE_ODDS
    assert tasks.reconcile_odds.name == betting_jobs.RECONCILE_ODDS
    assert tasks.settle_match.name == betting_jobs.SETTLE_MATCH
    assert tasks.close_matches_at_kickoff.name == betting_jobs.CLOSE_MATCHES_AT_KICKOFF
    assert tasks.purge_idempotency_keys.name == betting_jobs.PURGE_IDEMPOTENCY_KEYS
    assert tasks.flush_expired_refresh_tokens.name == accounts_jobs.FLUSH_EXPIRED_REFRESH_TOKENS
    assert tasks.process_feed_events.name == inplay_jobs.PROCESS_FEED_EVENTS
    assert tasks.reopen_markets.name == inplay_jobs.REOPEN_MARKETS
    assert tasks.sweep_feed.name == inplay_jobs.SWEEP_FEED
    assert tasks.reprice_in_play.name == inplay_jobs.REPRICE_IN_PLAY
    assert tasks.refit_ratings.name == teammodel_jobs.REFIT_RATINGS
    assert tasks.decide_bet.name == betting_jobs.DECIDE_BET
    assert tasks.sweep_bet_delays.name == betting_jobs.SWEEP_BET_DELAYS
    assert tasks.decide_cashout.name == betting_jobs.DECIDE_CASHOUT


def test_five_queues_each_bound_to_its_own_exchange_and_routing_key() -> None:
    assert QUEUES == ("feed", "bet_delay", "odds", "settlement", "default")
    declared = {queue.name: queue for queue in app.conf.task_queues}
    assert set(declared) == set(QUEUES)
    for name, queue in declared.items():
        assert queue.exchange.name == name and queue.routing_key == name
    assert app.conf.task_default_queue == "default"


@pytest.mark.parametrize(("task_name", "queue"), sorted(EXPECTED_QUEUE.items()))
def test_each_task_is_routed_to_its_queue(task_name, queue) -> None:
    """A goal never waits behind recomputes, nor recomputes behind settlement: a queue each."""
    assert queue_of(task_name) == queue


def test_beat_runs_each_periodic_job_at_its_interval(settings) -> None:
    settings.ODDS_RECONCILE_SECONDS = 7.0
    settings.MATCH_KICKOFF_CHECK_SECONDS = 11.0
    settings.INPLAY_SWEEP_SECONDS = 3.0
    settings.INPLAY_BET_SWEEP_SECONDS = 1.5
    settings.INPLAY_REPRICE_SECONDS = 20.0
    schedule = {name: (entry["task"], entry["schedule"]) for name, entry in _beat_schedule().items()}
    assert schedule == {
        "reconcile-odds": (betting_jobs.RECONCILE_ODDS, timedelta(seconds=7)),
        "sweep-feed": (inplay_jobs.SWEEP_FEED, timedelta(seconds=3)),
        "sweep-bet-delays": (betting_jobs.SWEEP_BET_DELAYS, timedelta(seconds=1.5)),
        "reprice-in-play": (inplay_jobs.REPRICE_IN_PLAY, timedelta(seconds=20)),
        "close-matches-at-kickoff": (betting_jobs.CLOSE_MATCHES_AT_KICKOFF, timedelta(seconds=11)),
        "purge-idempotency-keys": (betting_jobs.PURGE_IDEMPOTENCY_KEYS, timedelta(hours=1)),
        "flush-expired-refresh-tokens": (accounts_jobs.FLUSH_EXPIRED_REFRESH_TOKENS, timedelta(days=1)),
        "refit-team-ratings": (teammodel_jobs.REFIT_RATINGS, timedelta(hours=6)),
    }


def test_the_configured_app_carries_the_beat_schedule() -> None:
    configured = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert configured == {entry["task"] for entry in _beat_schedule().values()}
    assert configured <= own_task_names()  # beat never sends a name no worker knows


def test_database_errors_are_retried_with_backoff_by_the_tasks_that_write() -> None:
    for task in (tasks.recompute_odds, tasks.settle_match):
        assert OperationalError in task.autoretry_for
        assert task.retry_backoff and (task.max_retries or 0) >= 5


def test_tasks_are_acknowledged_late_and_never_prefetched_in_bulk() -> None:
    """A worker killed mid-task leaves it on the broker to be redelivered, not lost."""
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_ignore_result is True
