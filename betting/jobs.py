"""Background work of betting, sent by its registered task name.

Betting never imports the Celery package that runs these tasks (`workers`): the names here
are the contract, `workers/tasks.py` implements them, and the worker's routing and beat
schedule refer to them. A task is looked up in the Celery app's registry when it is sent
(not sent blind with `send_task`), so `CELERY_TASK_ALWAYS_EAGER` still runs it inline, and
an unknown name fails loudly with `NotRegistered`.
"""

from typing import Any

from celery import current_app

RECOMPUTE_ODDS = "betting.recompute_odds"
RECONCILE_ODDS = "betting.reconcile_odds"
SETTLE_MATCH = "betting.settle_match"
CLOSE_MATCHES_AT_KICKOFF = "betting.close_matches_at_kickoff"
PURGE_IDEMPOTENCY_KEYS = "betting.purge_idempotency_keys"
# The bet delay's decisions, on a queue of their own (`bet_delay`): a burst of in-play bets
# waits behind neither odds recomputes nor goals, and delays neither.
DECIDE_BET = "betting.decide_bet"
# A delayed decision's task runs this long after the delay: a feed event received just before
# the end of the delay has committed by then (the feed endpoint answers once it has).
DECISION_GRACE_SECONDS = 0.25
SWEEP_BET_DELAYS = "betting.sweep_bet_delays"
# An in-play cash-out's decision after the same delay, on the same queue.
DECIDE_CASHOUT = "betting.decide_cashout"


def job_enqueue(name: str, *, countdown: float = 0, **kwargs: Any) -> None:
    """Send the task `name` with keyword arguments (ids, never rows) to its queue."""
    current_app.tasks[name].apply_async(kwargs=kwargs, countdown=countdown)


def odds_recompute_enqueue(*, match_id: int, countdown: float = 0, reprice: bool = False) -> None:
    """`reprice`: price the match in play again even without a new bet (its clock moved)."""
    if reprice:
        job_enqueue(RECOMPUTE_ODDS, countdown=countdown, match_id=match_id, reprice=True)
    else:
        job_enqueue(RECOMPUTE_ODDS, countdown=countdown, match_id=match_id)


def match_settle_enqueue(*, match_id: int) -> None:
    job_enqueue(SETTLE_MATCH, match_id=match_id)


def bet_decide_enqueue(*, bet_id: int, countdown: float) -> None:
    job_enqueue(DECIDE_BET, countdown=countdown, bet_id=bet_id)


def cashout_decide_enqueue(*, quote_id: str, countdown: float) -> None:
    job_enqueue(DECIDE_CASHOUT, countdown=countdown, quote_id=quote_id)
