"""`Idempotency-Key` on bet placement: an accepted bet is recorded under the key, and a
replay by the same user within the TTL gets the first response instead of a second bet.

Only accepted bets are recorded: a refused request wrote nothing, so its retry is judged
afresh. Two concurrent requests with one key are serialised by the match row lock and the
unique (user, key) constraint: the loser's transaction rolls back whole, then replays.

A bet does not look for its key before it is placed: nearly every key is fresh, and that look
would be one more statement on every bet. The unique constraint finds the replays instead. A
replay is placed again, in a transaction that meets the first record at the insert and rolls
back whole (nothing debited, nothing published), then answers the first response; a replay
that the book would now refuse (the match has closed, the balance is spent) answers it too,
since a refusal looks for the key before it is returned.
"""

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, router, transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from betting.accumulators import accumulator_place
from betting.errors import IdempotencyKeyReused
from betting.models import Bet, BetRequest, BetStatus
from betting.placement import bet_place_in_transaction
from betting.rows import row_insert
from config.errors import ApplicationError

MAX_KEY_LENGTH = 200


def idempotency_key_of(request: Any) -> str | None:
    """The request's `Idempotency-Key` header, or None; a 400 naming it when it is empty or
    longer than MAX_KEY_LENGTH."""
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 0 < len(key) <= MAX_KEY_LENGTH:
        raise ValidationError({"Idempotency-Key": [f"Between 1 and {MAX_KEY_LENGTH} characters."]})
    return key


def request_fingerprint(body: Any) -> str:
    """SHA-256 of the body as canonical JSON: same fields and values, same fingerprint."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def bet_request_find(*, user_id: int, key: str) -> BetRequest | None:
    cutoff = timezone.now() - settings.IDEMPOTENCY_KEY_TTL
    return BetRequest.objects.filter(user_id=user_id, key=key, created_at__gte=cutoff).first()


def bet_request_replay(*, record: BetRequest, fingerprint: str) -> BetRequest:
    if record.body_hash != fingerprint:
        raise IdempotencyKeyReused("This Idempotency-Key was already used with a different request body.")
    return record


@transaction.atomic
def _bet_place_recorded(
    *, user: User, key: str, fingerprint: str, render: Callable[[Bet], dict[str, Any]], bet_arguments: dict[str, Any]
) -> BetRequest:
    # `legs` in the arguments: an accumulator; the same key rules cover both kinds.
    bet = (
        accumulator_place(user=user, **bet_arguments)
        if "legs" in bet_arguments
        else bet_place_in_transaction(user=user, **bet_arguments)
    )
    # An in-play bet is accepted for a decision, not yet taken: 202, replayed as 202.
    status = 202 if bet.status == BetStatus.PENDING else 201
    record = BetRequest(
        user=user, key=key, body_hash=fingerprint, bet=bet, response_status=status, response_body=render(bet)
    )
    return row_insert(record, using=router.db_for_write(BetRequest))


def bet_place_idempotent(
    *, user: User, key: str, fingerprint: str, render: Callable[[Bet], dict[str, Any]], bet_arguments: dict[str, Any]
) -> tuple[BetRequest, bool]:
    """Place the bet once per (user, key). Returns the record of the first response and
    whether this call replayed it. Raises IdempotencyKeyReused on a different body."""
    for attempt in range(2):
        try:
            return _bet_place_recorded(
                user=user, key=key, fingerprint=fingerprint, render=render, bet_arguments=bet_arguments
            ), False
        except ApplicationError:
            # Refused now; but if the key was accepted before, the answer is the first one.
            record = bet_request_find(user_id=user.pk, key=key)
            if record is None:
                raise
            return bet_request_replay(record=record, fingerprint=fingerprint), True
        except IntegrityError:
            record = bet_request_find(user_id=user.pk, key=key)
            if record is not None:
                return bet_request_replay(record=record, fingerprint=fingerprint), True
            # No live record holds the key, so the conflict is a record past its TTL that the
            # hourly purge has not reached yet: it binds nothing any more. It goes here, on this
            # rare path, rather than by a DELETE on every bet; then the bet is placed afresh.
            if attempt or not bet_request_expired_delete(user_id=user.pk, key=key):
                raise
    raise AssertionError("unreachable: the second attempt returns or raises")


def bet_request_expired_delete(*, user_id: int, key: str) -> int:
    """Delete the user's record of `key` if it is past its TTL; returns how many went (0 or 1)."""
    cutoff = timezone.now() - settings.IDEMPOTENCY_KEY_TTL
    deleted, _ = BetRequest.objects.filter(user_id=user_id, key=key, created_at__lt=cutoff).delete()
    return deleted


def bet_requests_purge_expired() -> int:
    """Delete the records of keys past their TTL (they no longer replay); returns how many."""
    deleted, _ = BetRequest.objects.filter(created_at__lt=timezone.now() - settings.IDEMPOTENCY_KEY_TTL).delete()
    return deleted
