"""Celery tasks: thin. Each takes ids, calls one service, and retries what is transient.

Each task is registered under the name its app's `jobs` module gives it: the apps send
work by those names and never import this package.
"""

import logging

from celery import shared_task
from django.core.management import call_command
from django.db import OperationalError

from accounts import jobs as accounts_jobs
from betting import cashout_delay, delay, idempotency, pricing, recompute, settlement
from betting import jobs as betting_jobs
from inplay import jobs as inplay_jobs
from inplay import services as inplay_services
from teammodel import jobs as teammodel_jobs
from teammodel import services as teammodel_services

logger = logging.getLogger(__name__)


@shared_task(
    name=betting_jobs.RECOMPUTE_ODDS,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=30,
    max_retries=5,
)
def recompute_odds(match_id: int, reprice: bool = False) -> int | None:
    """Recompute one match's odds and publish them if a price moved (`reprice`: a match in
    play, priced again for its clock even with no new bet)."""
    recompute.odds_recompute_started(match_id=match_id)
    version = pricing.match_odds_recompute(match_id=match_id, reprice=reprice)
    return version.version if version else None


@shared_task(name=betting_jobs.RECONCILE_ODDS)
def reconcile_odds() -> list[int]:
    """Enqueue a recompute for every match with bets its odds have not counted yet."""
    match_ids = recompute.match_ids_needing_recompute()
    overdue = set(recompute.match_ids_recompute_overdue())
    for match_id in match_ids:
        recompute.odds_recompute_request(match_id=match_id, force=match_id in overdue)
    if match_ids:
        logger.info("Reconciliation enqueued recomputes for matches %s", match_ids)
    return match_ids


@shared_task(
    name=betting_jobs.SETTLE_MATCH,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=10,
)
def settle_match(match_id: int) -> int:
    """Pay out (or refund) every open bet of a settled or void match. Safe to run twice."""
    return settlement.match_bets_settle(match_id=match_id)


@shared_task(name=betting_jobs.PURGE_IDEMPOTENCY_KEYS)
def purge_idempotency_keys() -> int:
    """Forget Idempotency-Key records past their TTL."""
    return idempotency.bet_requests_purge_expired()


@shared_task(name=accounts_jobs.FLUSH_EXPIRED_REFRESH_TOKENS)
def flush_expired_refresh_tokens() -> None:
    """Drop expired refresh tokens (and their blacklist rows): they can no longer be used."""
    call_command("flushexpiredtokens")


@shared_task(name=betting_jobs.CLOSE_MATCHES_AT_KICKOFF)
def close_matches_at_kickoff() -> list[int]:
    """Close betting on matches that kicked off; re-enqueue settlements left unfinished."""
    closed = settlement.matches_close_at_kickoff()
    if closed:
        logger.info("Closed betting at kick-off on matches %s", closed)
    for match_id in settlement.match_ids_settling_unfinished():
        settlement.settlement_request(match_id=match_id)
    return closed


@shared_task(name=betting_jobs.DECIDE_BET, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def decide_bet(bet_id: int) -> str | None:
    """Accept or reject an in-play bet once its delay is over. Safe to run twice, or late."""
    bet = delay.bet_delay_decide(bet_id=bet_id)
    return None if bet is None else bet.status


@shared_task(name=betting_jobs.SWEEP_BET_DELAYS)
def sweep_bet_delays() -> list[int]:
    """Decide the pending bets and in-play cash-outs whose delay is over: their task was lost,
    or ran early. Returns the bets decided."""
    cashouts = cashout_delay.cashout_delay_sweep()
    if cashouts:
        logger.info("The sweep decided the in-play cash-outs of bets %s", cashouts)
    return delay.bet_delay_sweep()


@shared_task(name=betting_jobs.DECIDE_CASHOUT, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def decide_cashout(quote_id: str) -> str | None:
    """Accept or refuse an in-play cash-out once its delay is over. Safe to run twice, or late."""
    quote = cashout_delay.cashout_decide(quote_id=quote_id)
    return None if quote is None else quote.reason or "accepted"


@shared_task(
    name=inplay_jobs.PROCESS_FEED_EVENTS,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=10,
    max_retries=10,
)
def process_feed_events(match_id: int) -> int:
    """Fold a match's new feed events into its state and move its markets. Safe to run twice."""
    return inplay_services.match_feed_process(match_id=match_id)


@shared_task(name=inplay_jobs.REOPEN_MARKETS, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def reopen_markets(match_id: int) -> bool:
    """Reopen the markets the feed suspended, once their time has come."""
    return inplay_services.match_markets_reopen(match_id=match_id)


@shared_task(name=inplay_jobs.REPRICE_IN_PLAY)
def reprice_in_play() -> list[int]:
    """Ask for every match in play to be priced again for its clock (on the `odds` queue)."""
    return inplay_services.in_play_reprice_request()


@shared_task(name=inplay_jobs.SWEEP_FEED)
def sweep_feed() -> dict[str, list[int]]:
    """Process feed events whose task was lost; reopen markets whose countdown was lost."""
    return inplay_services.feed_sweep()


@shared_task(
    name=teammodel_jobs.REFIT_RATINGS,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
)
def refit_ratings(league: str | None = None) -> list[int]:
    """Refit one league's team ratings from its results (every league's with None)."""
    if league is None:
        return [fit.pk for fit in teammodel_services.ratings_refit_all()]
    fit = teammodel_services.ratings_refit(league=league)
    return [fit.pk] if fit is not None else []
