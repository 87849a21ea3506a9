"""Background work of the team model, sent by its registered task name.

As with `betting.jobs`: the name is the contract, `workers/tasks.py` implements it, and the
worker's routing and beat schedule refer to it.
"""

from celery import current_app

REFIT_RATINGS = "teammodel.refit_ratings"


def ratings_refit_enqueue(*, league: str | None = None) -> None:
    """Refit one league's ratings (every league's with None) on a worker."""
    current_app.tasks[REFIT_RATINGS].apply_async(kwargs={"league": league})
