"""The Celery application: `celery -A workers worker|beat|flower`.

Tasks are routed and scheduled by the names the apps' `jobs` modules give them.
"""

import os
from datetime import timedelta

from celery import Celery
from django.conf import settings
from kombu import Exchange, Queue

from accounts import jobs as accounts_jobs
from betting import jobs as betting_jobs
from inplay import jobs as inplay_jobs
from teammodel import jobs as teammodel_jobs

# A server started without DJANGO_SETTINGS_MODULE runs production settings (which refuse
# default keys), never the local ones with DEBUG on: `make run` and the tests set it.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("oddstream")
app.config_from_object("django.conf:settings", namespace="CELERY")

# --- Queues and routing -------------------------------------------------------
QUEUES = ("feed", "bet_delay", "odds", "settlement", "default")
# `feed` (match events) and `odds` are latency-critical: a goal never waits behind a burst of
# bets' recomputes, and neither waits behind settlement work. `bet_delay` (the in-play bets'
# decisions) is apart from both: a burst of in-play bets delays no goal, and waits behind no
# recompute.
app.conf.task_queues = tuple(Queue(name, Exchange(name), routing_key=name) for name in QUEUES)
app.conf.task_default_queue = "default"
app.conf.task_routes = {
    betting_jobs.RECOMPUTE_ODDS: {"queue": "odds", "routing_key": "odds"},
    betting_jobs.RECONCILE_ODDS: {"queue": "odds", "routing_key": "odds"},
    betting_jobs.SETTLE_MATCH: {"queue": "settlement", "routing_key": "settlement"},
    betting_jobs.DECIDE_BET: {"queue": "bet_delay", "routing_key": "bet_delay"},
    betting_jobs.SWEEP_BET_DELAYS: {"queue": "bet_delay", "routing_key": "bet_delay"},
    betting_jobs.DECIDE_CASHOUT: {"queue": "bet_delay", "routing_key": "bet_delay"},
    inplay_jobs.PROCESS_FEED_EVENTS: {"queue": "feed", "routing_key": "feed"},
    inplay_jobs.REOPEN_MARKETS: {"queue": "feed", "routing_key": "feed"},
    inplay_jobs.SWEEP_FEED: {"queue": "feed", "routing_key": "feed"},
    # It only enqueues: one `odds` recompute per match in play.
    inplay_jobs.REPRICE_IN_PLAY: {"queue": "odds", "routing_key": "odds"},
    # A refit takes milliseconds a league but is never urgent: kept off `odds`.
    teammodel_jobs.REFIT_RATINGS: {"queue": "default", "routing_key": "default"},
}


def _beat_schedule() -> dict[str, dict[str, object]]:
    # Read once the app is configured: the settings are loaded by then.
    return {
        "reconcile-odds": {
            "task": betting_jobs.RECONCILE_ODDS,
            "schedule": timedelta(seconds=settings.ODDS_RECONCILE_SECONDS),
        },
        "sweep-feed": {
            "task": inplay_jobs.SWEEP_FEED,
            "schedule": timedelta(seconds=settings.INPLAY_SWEEP_SECONDS),
        },
        "sweep-bet-delays": {
            "task": betting_jobs.SWEEP_BET_DELAYS,
            "schedule": timedelta(seconds=settings.INPLAY_BET_SWEEP_SECONDS),
        },
        # In-play prices follow the clock: every match in play priced again at least once a minute.
        "reprice-in-play": {
            "task": inplay_jobs.REPRICE_IN_PLAY,
            "schedule": timedelta(seconds=settings.INPLAY_REPRICE_SECONDS),
        },
        "close-matches-at-kickoff": {
            "task": betting_jobs.CLOSE_MATCHES_AT_KICKOFF,
            "schedule": timedelta(seconds=settings.MATCH_KICKOFF_CHECK_SECONDS),
        },
        "purge-idempotency-keys": {
            "task": betting_jobs.PURGE_IDEMPOTENCY_KEYS,
            "schedule": timedelta(hours=1),
        },
        # Results import triggers a refit; this catches any trigger lost with the broker.
        "refit-team-ratings": {
            "task": teammodel_jobs.REFIT_RATINGS,
            "schedule": timedelta(hours=6),
        },
        "flush-expired-refresh-tokens": {
            "task": accounts_jobs.FLUSH_EXPIRED_REFRESH_TOKENS,
            "schedule": timedelta(days=1),
        },
    }


app.autodiscover_tasks(["workers"])


@app.on_after_configure.connect
def _setup_beat(sender: Celery, **_: object) -> None:
    sender.conf.beat_schedule = _beat_schedule()
