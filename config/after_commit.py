"""Work that runs after a transaction commits, and can never undo or change its answer.

Once a bet (or any write) has committed, the client must hear that it succeeded: what runs
afterwards (publishing an event, enqueueing a task) is best effort, and the state it would
announce is already in the database for clients and reconciliation to catch up from. Django
runs `transaction.on_commit` callbacks inside the request that committed, so a callback that
raises would turn the committed write's 201 into a 500 (or a 503 inviting a retry), and stop
the callbacks after it. `on_commit_robust` runs each step on its own: any exception is
logged with the step's name and counted in `oddstream_after_commit_failures_total{step}`,
and the next step runs.
"""

import logging
from collections.abc import Callable

from django.db import transaction
from prometheus_client import Counter

logger = logging.getLogger(__name__)

AFTER_COMMIT_FAILURES = Counter(
    "oddstream_after_commit_failures",
    "Steps run after a commit that raised (logged and skipped; the committed change stands), by step",
    ["step"],
)


def run_robust(step: str, callback: Callable[[], object]) -> None:
    """Run `callback`; log and count any exception instead of raising it."""
    try:
        callback()
    except Exception:
        logger.exception("After commit, %s failed: the committed change stands", step, extra={"step": step})
        AFTER_COMMIT_FAILURES.labels(step=step).inc()


def on_commit_robust(step: str, callback: Callable[[], object]) -> None:
    """Run `callback` once the current transaction commits (at once outside one), robustly.

    `step` names it in logs and as the counter's label: a short fixed name, never an id."""
    transaction.on_commit(lambda: run_robust(step, callback))
