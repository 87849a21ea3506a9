"""The Celery application: `celery -A workers worker|beat|flower`."""

import os
from datetime import timedelta

from celery import Celery
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("oddstream")
app.config_from_object("django.conf:settings", namespace="CELERY")

# --- Queues and routing -------------------------------------------------------
QUEUES = ("odds", "settlement", "default")
# `odds` is latency-critical and must never wait behind settlement work.
app.conf.task_queues = tuple(Queue(name, Exchange(name), routing_key=name) for name in QUEUES)
app.conf.task_default_queue = "default"
app.conf.task_routes = {
    "workers.tasks.recompute_odds": {"queue": "odds", "routing_key": "odds"},
    "workers.tasks.reconcile_odds": {"queue": "odds", "routing_key": "odds"},
    "workers.tasks.settle_match": {"queue": "settlement", "routing_key": "settlement"},
}


def _beat_schedule() -> dict[str, dict[str, object]]:
    from django.conf import settings

    return {
        "reconcile-odds": {
            "task": "workers.tasks.reconcile_odds",
            "schedule": timedelta(seconds=settings.ODDS_RECONCILE_SECONDS),
        },
        "close-matches-at-kickoff": {
            "task": "workers.tasks.close_matches_at_kickoff",
            "schedule": timedelta(seconds=settings.MATCH_KICKOFF_CHECK_SECONDS),
        },
        "purge-idempotency-keys": {
            "task": "workers.tasks.purge_idempotency_keys",
            "schedule": timedelta(hours=1),
        },
        "flush-expired-refresh-tokens": {
            "task": "workers.tasks.flush_expired_refresh_tokens",
            "schedule": timedelta(days=1),
        },
    }


app.autodiscover_tasks(["workers"])


@app.on_after_configure.connect
def _setup_beat(sender: Celery, **_: object) -> None:
    sender.conf.beat_schedule = _beat_schedule()
