"""Background work of the match feed, sent by its registered task name (see betting/jobs.py).

Every one runs on the `feed` queue, so no burst of bets or settlement delays a goal, but the
clock's repricing: it asks for one `odds` recompute per match in play, where bets' recomputes
run, and never stands in front of a goal.
"""

from betting.jobs import job_enqueue, odds_recompute_enqueue

PROCESS_FEED_EVENTS = "inplay.process_feed_events"
REOPEN_MARKETS = "inplay.reopen_markets"
SWEEP_FEED = "inplay.sweep_feed"
REPRICE_IN_PLAY = "inplay.reprice_in_play"


def feed_events_process_enqueue(*, match_id: int) -> None:
    job_enqueue(PROCESS_FEED_EVENTS, match_id=match_id)


def markets_reopen_enqueue(*, match_id: int, countdown: float) -> None:
    job_enqueue(REOPEN_MARKETS, countdown=countdown, match_id=match_id)


def in_play_reprice_enqueue(*, match_id: int) -> None:
    odds_recompute_enqueue(match_id=match_id, reprice=True)
