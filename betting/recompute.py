"""Asking for a match's odds to be recomputed: at most one pending recompute per match.

Bets ask after they commit; reconciliation asks for matches whose request was lost. The
recompute itself is `betting.pricing.match_odds_recompute`, run by the worker.
"""

import contextlib
import logging
import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from betting import jobs
from betting.models import Bet, Match

logger = logging.getLogger(__name__)

# A pending flag outlives a lost task by at most this long; reconciliation covers the rest.
PENDING_FLAG_TTL = timedelta(seconds=60)


def _pending_key(match_id: int) -> str:
    return f"odds:recompute-pending:{match_id}"


def _last_start_key(match_id: int) -> str:
    return f"odds:recompute-last-start:{match_id}"


def _runs_key(match_id: int) -> str:
    return f"odds:recompute-runs:{match_id}"


def _recompute_countdown(match_id: int) -> float:
    """Seconds to hold the next recompute so it starts ODDS_RECOMPUTE_MIN_INTERVAL after the last.

    This is what bounds a burst: starts are at least one interval apart, so a burst of D
    seconds causes at most D / interval + 2 recomputes, however many bets it holds.
    """
    interval = float(settings.ODDS_RECOMPUTE_MIN_INTERVAL)
    if interval <= 0:
        return 0.0
    last_start = cache.get(_last_start_key(match_id))
    if last_start is None:
        return 0.0
    return min(interval, max(0.0, float(last_start) + interval - time.time()))


def odds_recompute_request(*, match_id: int, force: bool = False) -> bool:
    """Enqueue one `recompute_odds` for the match unless one is already pending.

    Coalescing: the flag is set with SET NX; the task clears it when it *starts*, so a bet
    committed while a recompute runs enqueues exactly one more, and a bet committed before
    the start is read by the pending one. `force` enqueues even under a flag: for a request
    known to be lost (see `match_ids_recompute_overdue`). Returns whether a task was enqueued.
    """
    key = _pending_key(match_id)
    timeout = int(PENDING_FLAG_TTL.total_seconds())
    try:
        if force:
            cache.set(key, 1, timeout=timeout)
        elif not cache.add(key, 1, timeout=timeout):
            return False
        countdown = _recompute_countdown(match_id)
        jobs.odds_recompute_enqueue(match_id=match_id, countdown=countdown)  # 0: at once
        return True
    except Exception:
        # Broker or Redis down: the bet is committed and safe; the reconciler will enqueue
        # the recompute when the broker is back.
        logger.exception("Could not enqueue recompute_odds for match %s", match_id)
        with contextlib.suppress(Exception):
            cache.delete(key)
        return False


def odds_recompute_started(*, match_id: int) -> None:
    """Mark the start of a recompute: the start time and the run count first, then free the
    pending flag, so whoever takes the flag next already sees this start and waits the
    interval (and no two starts of one match count at once)."""
    cache.set(_last_start_key(match_id), time.time(), timeout=int(PENDING_FLAG_TTL.total_seconds()))
    try:
        cache.incr(_runs_key(match_id))
    except ValueError:  # the match's first run
        cache.set(_runs_key(match_id), 1, timeout=None)
    cache.delete(_pending_key(match_id))


def odds_recompute_runs(*, match_id: int) -> int:
    """How many recomputes of the match have started, including those that found nothing
    new: what coalescing bounds. Kept with the flags it is counted next to."""
    return int(cache.get(_runs_key(match_id), 0))


def match_ids_needing_recompute() -> list[int]:
    """Matches with bets their current prices have not counted (e.g. committed while the
    broker was down)."""
    return list(Match.objects.filter(bet_sequence__gt=F("bets_counted")).values_list("pk", flat=True))


def match_ids_recompute_overdue() -> list[int]:
    """Matches whose oldest uncounted bet is older than ODDS_RECOMPUTE_OVERDUE_SECONDS.

    Their recompute request was lost while its pending flag stayed up: a worker killed while
    it held the task (reserved, or waiting out its countdown) takes the task with it until
    the broker's visibility timeout, and the flag blocks every new request until its TTL.
    Reconciliation forces a new request for these instead of waiting that long.
    """
    cutoff = timezone.now() - timedelta(seconds=settings.ODDS_RECOMPUTE_OVERDUE_SECONDS)
    oldest_uncounted = Bet.objects.filter(
        match=OuterRef("pk"), sequence=OuterRef("bets_counted") + 1, created_at__lt=cutoff
    )
    behind = Match.objects.filter(bet_sequence__gt=F("bets_counted"))
    return list(behind.filter(Exists(oldest_uncounted)).values_list("pk", flat=True))
