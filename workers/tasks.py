"""Celery tasks: thin. Each takes ids, calls one service, and retries what is transient."""

import logging

from celery import shared_task
from django.db import OperationalError

from betting import idempotency, services, settlement

logger = logging.getLogger(__name__)


@shared_task(
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=30,
    max_retries=5,
)
def recompute_odds(match_id: int) -> int | None:
    """Recompute one match's odds and publish them if a price moved."""
    services.odds_recompute_started(match_id=match_id)
    version = services.match_odds_recompute(match_id=match_id)
    return version.version if version else None


@shared_task
def reconcile_odds() -> list[int]:
    """Enqueue a recompute for every match with bets its odds have not counted yet."""
    match_ids = services.match_ids_needing_recompute()
    for match_id in match_ids:
        services.odds_recompute_request(match_id=match_id)
    if match_ids:
        logger.info("Reconciliation enqueued recomputes for matches %s", match_ids)
    return match_ids


@shared_task(
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=10,
)
def settle_match(match_id: int) -> int:
    """Pay out (or refund) every open bet of a settled or void match. Safe to run twice."""
    return settlement.match_bets_settle(match_id=match_id)


@shared_task
def purge_idempotency_keys() -> int:
    """Forget Idempotency-Key records past their TTL."""
    return idempotency.bet_requests_purge_expired()


@shared_task
def flush_expired_refresh_tokens() -> None:
    """Drop expired refresh tokens (and their blacklist rows): they can no longer be used."""
    from django.core.management import call_command

    call_command("flushexpiredtokens")


@shared_task
def close_matches_at_kickoff() -> list[int]:
    """Close betting on matches that kicked off; re-enqueue settlements left unfinished."""
    closed = settlement.matches_close_at_kickoff()
    if closed:
        logger.info("Closed betting at kick-off on matches %s", closed)
    for match_id in settlement.match_ids_settling_unfinished():
        settlement.settlement_request(match_id=match_id)
    return closed
